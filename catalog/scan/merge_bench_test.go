package scan

import (
	"fmt"
	"testing"
	"time"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/pkgdb"
)

// whiteoutLayers is issue 9's whiteout case: n Python packages in one
// layer, all deleted by n whiteouts in the next.
func whiteoutLayers(n int) []LayerFacts {
	var lower, upper LayerFacts
	for i := range n {
		dir := fmt.Sprintf("usr/lib/python3/dist-packages/pkg%d-1.0.dist-info", i)
		lower.Findings = append(lower.Findings, Finding{Path: dir + "/METADATA", Kind: FilePython,
			Packages: []pkgdb.Package{{Name: fmt.Sprint("pkg", i), Version: "1.0", Ecosystem: pkgdb.Python}}})
		upper.Whiteouts = append(upper.Whiteouts, dir)
	}
	return []LayerFacts{lower, upper}
}

// BenchmarkWhiteouts merges 100k findings and 100k whiteouts; it reports
// ns per entry and, as the reference, the merge before the path tree
// (quadraticMerge) measured in the same run at 5k × 5k, where it still
// finishes in about a second (at 100k × 100k it would take minutes).
func BenchmarkWhiteouts(b *testing.B) {
	const n, refN = 100_000, 5_000
	layers := whiteoutLayers(n)
	b.ResetTimer()
	for range b.N {
		if img := Merge(layers, catalog.Budget{}); len(img.Findings) != 0 {
			b.Fatalf("%d findings survive", len(img.Findings))
		}
	}
	perEntry := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / (2 * n)
	b.StopTimer()
	ref := whiteoutLayers(refN)
	start := time.Now()
	if left := quadraticMerge(ref); len(left) != 0 {
		b.Fatalf("%d findings survive the reference", len(left))
	}
	refPerEntry := float64(time.Since(start).Nanoseconds()) / (2 * refN)
	b.ReportMetric(perEntry, "ns/entry")
	b.ReportMetric(refPerEntry, "quadratic-at-5k-ns/entry")
	b.ReportMetric(refPerEntry/perEntry, "times-faster")
}
