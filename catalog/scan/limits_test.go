package scan

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/internal/testlayers"

	"github.com/oyster-registry/oyster/oci"
)

func writeFile(tw *tar.Writer, name string, size int64, content io.Reader) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Size: size, Mode: 0o644}); err != nil {
		return err
	}
	_, err := io.CopyN(tw, content, size)
	return err
}

// A METADATA over the file limit (a description gone wrong) is reported and
// skipped; the files after it in the same layer are still read.
func TestScanLayerHugeMetadata(t *testing.T) {
	const huge = oci.DefaultMaxFileBytes + 1<<20
	layer := testlayers.Stream(func(tw *tar.Writer) error {
		body := io.MultiReader(strings.NewReader("Metadata-Version: 2.1\nName: huge\nVersion: 1.0\n\n"), testlayers.Zeros{})
		if err := writeFile(tw, sitePackages+"huge-1.0.dist-info/METADATA", huge, body); err != nil {
			return err
		}
		return writeFile(tw, sitePackages+"numpy-1.26.4.dist-info/METADATA", int64(len(numpyMetadata)), strings.NewReader(numpyMetadata))
	})
	before := totalAlloc()
	f, err := ScanLayer(layer, "", oci.Limits{}, catalog.Budget{})
	if err != nil {
		t.Fatal(err)
	}
	if got := pkgKeys(Merge([]LayerFacts{f}, catalog.Budget{}).Packages); !reflect.DeepEqual(got, []string{"python numpy 1.26.4"}) {
		t.Errorf("packages = %q", got)
	}
	want := fmt.Sprintf("%shuge-1.0.dist-info/METADATA: file exceeds the limit of %d file bytes (tar header claims %d bytes)", sitePackages, oci.DefaultMaxFileBytes, huge)
	if !reflect.DeepEqual(f.Problems, []string{want}) {
		t.Errorf("problems = %q, want %q", f.Problems, want)
	}
	if grew := totalAlloc() - before; grew > 32<<20 {
		t.Errorf("allocated %d MiB scanning past a file over the limit", grew>>20)
	}
}

func TestScanLayerAbsurdHeader(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "var/lib/dpkg/status", Typeflag: tar.TypeReg, Size: 1 << 50}); err != nil {
		t.Fatal(err)
	}
	buf.WriteString("Package: x\n") // no body, no trailer
	_, err := ScanLayer(&buf, "", oci.Limits{}, catalog.Budget{})
	var le *oci.LimitError
	if !errors.As(err, &le) || le.Limit != oci.LimitLayerBytes || le.Claimed != 1<<50 {
		t.Fatalf("err = %v, want a layer-bytes LimitError claiming 2^50", err)
	}
}

// Bombs: a small blob whose tar stream holds a stream of tiny files adding
// up to far more than the limit, so the stop comes from the decompressed
// byte count rather than from any one header.
func TestScanLayerBombs(t *testing.T) {
	const limit = 2 << 20
	raw := manySmallFiles(t, 24<<20)
	for name, compress := range map[string]func(testing.TB, []byte) []byte{"gzip": testlayers.Gzip, "zstd": testlayers.Zstd} {
		t.Run(name, func(t *testing.T) {
			blob := compress(t, raw)
			if len(blob) > 1<<20 {
				t.Fatalf("%s bomb is %d bytes", name, len(blob))
			}
			before := totalAlloc()
			f, err := ScanLayer(bytes.NewReader(blob), "", oci.Limits{MaxLayerBytes: limit}, catalog.Budget{})
			var le *oci.LimitError
			if !errors.As(err, &le) || le.Limit != oci.LimitLayerBytes || le.Claimed != 0 {
				t.Fatalf("err = %v, want a LimitError from the decompressed byte count", err)
			}
			if len(f.Findings) == 0 {
				t.Error("the facts read before the limit were dropped")
			}
			if grew := totalAlloc() - before; grew > 48<<20 {
				t.Errorf("allocated %d MiB on a bomb capped at %d MiB", grew>>20, limit>>20)
			}
		})
	}
}

// manySmallFiles is a tar of conda-meta records totalling about size bytes
// (each entry takes a 512-byte header and its padded body).
func manySmallFiles(t *testing.T, size int) []byte {
	var entries []testlayers.Entry
	for total := 0; total < size; total += 512 + (len(condaNumpy)+511)/512*512 {
		name := "opt/conda/conda-meta/numpy-1.26.4-" + strings.Repeat("0", len(entries)%7) + ".json"
		entries = append(entries, testlayers.File(name, condaNumpy))
	}
	return testlayers.Tar(t, entries...)
}

func TestScanLayerEntryLimit(t *testing.T) {
	_, err := ScanLayer(bytes.NewReader(testlayers.Tar(t, testlayers.Dir("a/"), testlayers.Dir("b/"), testlayers.Dir("c/"))), "", oci.Limits{MaxEntries: 2}, catalog.Budget{})
	var le *oci.LimitError
	if !errors.As(err, &le) || le.Limit != oci.LimitEntries {
		t.Fatalf("err = %v, want an entries LimitError", err)
	}
}

func totalAlloc() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}
