package scan

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/pkgdb"
	"github.com/oyster-registry/oyster/internal/testlayers"
	"github.com/oyster-registry/oyster/oci"
)

// A status file of a million empty stanzas (issue 9's 131 KB layer, at a
// tenth of the size) keeps the budget's problems for the file and counts
// the rest; the facts stay a few KiB.
func TestScanLayerKeepsProblemsWithinBudget(t *testing.T) {
	const stanzas = 1_000_000
	status := strings.Repeat("x\n\n", stanzas)
	layer := testlayers.Gzip(t, testlayers.Tar(t, testlayers.File("var/lib/dpkg/status", status),
		testlayers.File("etc/os-release", "ID=debian\n")))
	f, err := ScanLayer(bytes.NewReader(layer), "", oci.Limits{}, catalog.Budget{})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Problems) != catalog.DefaultMaxProblemsPerFile || f.ProblemsOmitted != stanzas-catalog.DefaultMaxProblemsPerFile {
		t.Fatalf("%d problems kept, %d omitted; want %d and %d", len(f.Problems), f.ProblemsOmitted, catalog.DefaultMaxProblemsPerFile, stanzas-catalog.DefaultMaxProblemsPerFile)
	}
	if want := `var/lib/dpkg/status: line 1: expected "Field: value", got "x"`; f.Problems[0] != want {
		t.Errorf("problem 0 = %q, want %q", f.Problems[0], want)
	}
	raw, _ := json.Marshal(f)
	if len(raw) > 16<<10 {
		t.Errorf("facts are %d bytes", len(raw))
	}
	img := Merge([]LayerFacts{f, f, f}, catalog.Budget{MaxProblems: 30})
	if len(img.Problems) != 30 || img.ProblemsOmitted != 3*stanzas-30 || !strings.HasPrefix(img.Problems[20], "layer 1: ") {
		t.Errorf("merged: %d kept, %d omitted, %q", len(img.Problems), img.ProblemsOmitted, img.Problems[20])
	}
}

// Entry names climbing out of the root are problems of the layer: the
// budget's number are kept, the rest counted.
func TestScanLayerKeepsPathProblemsWithinBudget(t *testing.T) {
	const entries = 50_000
	layer := testlayers.Stream(func(tw *tar.Writer) error {
		for i := range entries {
			if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("../escape%d", i), Typeflag: tar.TypeReg}); err != nil {
				return err
			}
		}
		return nil
	})
	f, err := ScanLayer(layer, "", oci.Limits{}, catalog.Budget{MaxProblems: 7})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Problems) != 7 || f.ProblemsOmitted != entries-7 || f.Problems[6] != "../escape6: "+oci.ErrUnsafePath.Error() {
		t.Errorf("%d kept, %d omitted, last %q", len(f.Problems), f.ProblemsOmitted, f.Problems[len(f.Problems)-1])
	}
}

// A hard link whose target leaves the root is reported with the link's
// name and the target's.
func TestScanLayerUnsafeHardlink(t *testing.T) {
	f, err := ScanLayer(bytes.NewReader(testlayers.Tar(t, testlayers.Hardlink("var/lib/dpkg/status", "../../etc/shadow"))), "", oci.Limits{}, catalog.Budget{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`var/lib/dpkg/status: hard link to "../../etc/shadow": ` + oci.ErrUnsafePath.Error()}
	if !reflect.DeepEqual(f.Problems, want) {
		t.Errorf("problems %q, want %q", f.Problems, want)
	}
}

// Names and versions with NUL or other control characters are refused
// and reported; the other packages of the file are kept.
func TestScanLayerRefusesControlCharacters(t *testing.T) {
	status := testlayers.DpkgStatus("ok=1.0", "bad\x00name=1.0", "tab=1.0\x1b[31m")
	f, err := ScanLayer(bytes.NewReader(testlayers.Tar(t, testlayers.File("var/lib/dpkg/status", status))), "", oci.Limits{}, catalog.Budget{})
	if err != nil {
		t.Fatal(err)
	}
	if got := pkgKeys(Merge([]LayerFacts{f}, catalog.Budget{}).Packages); !reflect.DeepEqual(got, []string{"deb ok 1.0"}) {
		t.Errorf("packages %q", got)
	}
	want := []string{
		`var/lib/dpkg/status: package "bad\x00name" "1.0": ` + pkgdb.ErrControlCharacter.Error(),
		`var/lib/dpkg/status: package "tab" "1.0\x1b[31m": ` + pkgdb.ErrControlCharacter.Error(),
	}
	if !reflect.DeepEqual(f.Problems, want) {
		t.Errorf("problems %q, want %q", f.Problems, want)
	}
}

// A layer keeps the budget's packages, and says it cut the rest; so does
// an image.
func TestScanLayerKeepsPackagesWithinBudget(t *testing.T) {
	status := testlayers.DpkgStatus(testlayers.ManyDpkgPackages(25)...)
	f, err := ScanLayer(bytes.NewReader(testlayers.Tar(t, testlayers.File("var/lib/dpkg/status", status))), "", oci.Limits{}, catalog.Budget{MaxPackages: 10})
	if err != nil {
		t.Fatal(err)
	}
	img := Merge([]LayerFacts{f}, catalog.Budget{})
	if len(img.Packages) != 10 || len(f.Truncated) != 1 || !strings.Contains(f.Truncated[0], "over the limit of 10 per layer") {
		t.Errorf("%d packages, truncated %q", len(img.Packages), f.Truncated)
	}
	img = Merge([]LayerFacts{f}, catalog.Budget{MaxPackages: 4})
	want := []string{"layer 0: " + f.Truncated[0], "packages: over the limit of 4 per image; from layer 0's var/lib/dpkg/status on, not all were kept"}
	if len(img.Packages) != 4 || !reflect.DeepEqual(img.Truncated, want) {
		t.Errorf("%d packages, truncated %q, want %q", len(img.Packages), img.Truncated, want)
	}
}

// The path tree merges exactly as deleting every path under a whiteout
// one by one does, over random layers of nested paths.
func TestMergeMatchesQuadraticReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for round := range 200 {
		layers := randomLayers(rng, 4, 30)
		got := Merge(layers, catalog.Budget{}).Findings
		want := quadraticMerge(layers)
		if !reflect.DeepEqual(paths(got), paths(want)) {
			t.Fatalf("round %d:\n got %q\nwant %q", round, paths(got), paths(want))
		}
	}
}

func paths(fs []Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.Path+"="+f.Version)
	}
	return out
}

// randomLayers makes layers of findings, whiteouts and opaque directories
// over a small tree of names, so that they often overlap.
func randomLayers(rng *rand.Rand, n, per int) []LayerFacts {
	name := func() string {
		segs := make([]string, 1+rng.IntN(3))
		for i := range segs {
			segs[i] = string(rune('a' + rng.IntN(3)))
		}
		return strings.Join(segs, "/")
	}
	layers := make([]LayerFacts, n)
	for i := range layers {
		for j := range per {
			switch rng.IntN(6) {
			case 0:
				layers[i].Whiteouts = append(layers[i].Whiteouts, name())
			case 1:
				layers[i].OpaqueDirs = append(layers[i].OpaqueDirs, []string{"", name()}[rng.IntN(2)])
			default:
				layers[i].Findings = append(layers[i].Findings, Finding{Path: name(), Version: fmt.Sprint(i, ".", j)})
			}
		}
	}
	return layers
}

// quadraticMerge is the merge as it was before the path tree: each
// whiteout visits every path of the view. It is the reference the tree is
// tested and benchmarked against.
func quadraticMerge(layers []LayerFacts) []Finding {
	view := map[string]Finding{}
	deleteBelow := func(dir string) {
		for p := range view {
			if dir == "" || strings.HasPrefix(p, dir+"/") {
				delete(view, p)
			}
		}
	}
	for _, l := range layers {
		for _, dir := range l.OpaqueDirs {
			deleteBelow(dir)
		}
		for _, p := range l.Whiteouts {
			delete(view, p)
			deleteBelow(p)
		}
		for _, f := range l.Findings {
			view[f.Path] = f
		}
	}
	out := []Finding{}
	for _, f := range view {
		out = append(out, f)
	}
	sortFindings(out)
	return out
}

// A layer keeps the budget's paths (package database files and
// whiteouts), and says it cut the rest.
func TestScanLayerKeepsPathsWithinBudget(t *testing.T) {
	var entries []testlayers.Entry
	for i := range 8 {
		entries = append(entries, testlayers.DistInfo(fmt.Sprintf("p%d", i), "1.0"))
	}
	for i := range 8 {
		entries = append(entries, testlayers.Whiteout(fmt.Sprintf("gone/w%d", i)))
	}
	f, err := ScanLayer(bytes.NewReader(testlayers.Tar(t, entries...)), "", oci.Limits{}, catalog.Budget{MaxPaths: 10})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"paths: over the limit of 10 package database files and whiteouts per layer; from gone/w2 on, not kept"}
	if len(f.Findings)+len(f.Whiteouts) != 10 || !reflect.DeepEqual(f.Truncated, want) {
		t.Errorf("%d findings, %d whiteouts, truncated %q, want %q", len(f.Findings), len(f.Whiteouts), f.Truncated, want)
	}
}

// A problem quoting a 64 KiB entry name is kept shortened, and a package
// with a 64 KiB name is refused.
func TestScanLayerLongNames(t *testing.T) {
	long := strings.Repeat("a", 64<<10)
	layer := testlayers.Stream(func(tw *tar.Writer) error {
		if err := tw.WriteHeader(&tar.Header{Name: "../" + long, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
			return err
		}
		status := testlayers.DpkgStatus(long + "=1.0")
		return writeFile(tw, "var/lib/dpkg/status", int64(len(status)), strings.NewReader(status))
	})
	f, err := ScanLayer(layer, "", oci.Limits{}, catalog.Budget{})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Problems) != 2 || len(f.Problems[0]) > catalog.MaxProblemBytes+len("…") ||
		!strings.Contains(f.Problems[1], "a field is over 256 bytes") || len(f.Findings) != 1 || len(f.Findings[0].Packages) != 0 {
		t.Errorf("problems of %d bytes: %.200q; findings %d", len(strings.Join(f.Problems, "")), f.Problems, len(f.Findings))
	}
}

// The merged view holds at most the budget's paths and packages; what
// whiteouts delete makes room again.
func TestMergerKeepsViewWithinBudget(t *testing.T) {
	layer := func(prefix string, n int, whiteouts ...string) LayerFacts {
		l := LayerFacts{Whiteouts: whiteouts}
		for i := range n {
			p := fmt.Sprintf("%s/p%d.dist-info/METADATA", prefix, i)
			l.Findings = append(l.Findings, Finding{Path: p, Kind: FilePython, Packages: []pkgdb.Package{{Name: fmt.Sprint(prefix, i), Version: "1", Ecosystem: pkgdb.Python}}})
		}
		return l
	}
	m := NewMerger(catalog.Budget{MaxPaths: 5, MaxPackages: 5})
	m.Add(layer("a", 5))
	m.Add(layer("b", 5, "a"))
	if img := m.Facts(); len(img.Packages) != 5 || img.Packages[0].Name != "b0" || len(img.Truncated) != 0 {
		t.Fatalf("after the whiteout: %q, truncated %q", pkgKeys(img.Packages), img.Truncated)
	}
	m.Add(layer("c", 1))
	want := []string{"paths: over the limit of 5 per image; from layer 2's c/p0.dist-info/METADATA on, not kept"}
	if img := m.Facts(); len(img.Packages) != 5 || !reflect.DeepEqual(img.Truncated, want) {
		t.Errorf("over the budget: %q, truncated %q, want %q", pkgKeys(img.Packages), img.Truncated, want)
	}
}
