package extract_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/catalogtest"
	"github.com/oyster-registry/oyster/catalog/extract"
	"github.com/oyster-registry/oyster/internal/testlayers"
	"github.com/oyster-registry/oyster/oci"
)

const imageConfig = `{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers"}}`

// countingSource counts the blob reads of each digest.
type countingSource struct {
	*catalogtest.Source
	mu    sync.Mutex
	reads map[digest.Digest]int
}

func (s *countingSource) Blob(ctx context.Context, ref catalog.Ref) (io.ReadSeekCloser, int64, error) {
	s.mu.Lock()
	s.reads[ref.Digest]++
	s.mu.Unlock()
	return s.Source.Blob(ctx, ref)
}

func budgeted(t *testing.T, src catalog.Source, b catalog.Budget) *extract.Extractor {
	x := extractor(t, src)
	x.Budget = b
	return x
}

func build(t *testing.T, x *extract.Extractor, ref catalog.Ref) *catalog.Record {
	t.Helper()
	rec, _, err := x.Record(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// An index listing one child twenty times (issue 9: 210 s and 11 GB)
// inherits from it once; one listing more children than the budget lists
// the first ones and says it cut the rest.
func TestIndexChildrenWithinBudget(t *testing.T) {
	src := catalogtest.NewSource()
	bad := testlayers.File("var/lib/dpkg/status", "x\n\n")
	child := src.PushImage("lab/multi", "", imageConfig, layer(t, testlayers.DistInfo("numpy", "1.26.4"), bad))
	c := catalogtest.New(t)
	x := &extract.Extractor{Source: src, Store: c.Store, Layers: c.Store, Budget: catalog.Budget{MaxIndexChildren: 25}}
	c.Put(t, build(t, x, child))

	same := make([]catalog.Ref, 20)
	for i := range same {
		same[i] = child
	}
	rec := build(t, x, src.PushIndex("lab/multi", "1", same...))
	if len(rec.Children) != 20 || len(rec.Packages) != 1 || len(rec.IndexErrors) != 1 || rec.Partial {
		t.Errorf("%d children, packages %v, errors %q, truncated %q", len(rec.Children), rec.Packages, rec.IndexErrors, rec.Truncated)
	}
	if want := string(child.Digest) + ": layer 0: var/lib/dpkg/status: line 1"; !strings.HasPrefix(rec.IndexErrors[0], want) {
		t.Errorf("index error %q, want prefix %q", rec.IndexErrors[0], want)
	}

	rec = build(t, x, src.PushIndex("lab/multi", "2", append(same, same...)...))
	want := []string{"children: 40, over the limit of 25 per index; the rest were not read"}
	if len(rec.Children) != 25 || !rec.Partial || !reflect.DeepEqual(rec.Truncated, want) {
		t.Errorf("%d children, truncated %q, want %q", len(rec.Children), rec.Truncated, want)
	}
}

// A referrer listing one SBOM layer 300 times (issue 9: 56 s and 2.3 GB)
// reads it once; SBOM bytes over the budget are not read, and the record
// says so.
func TestSBOMLayersWithinBudget(t *testing.T) {
	src := &countingSource{Source: catalogtest.NewSource(), reads: map[digest.Digest]int{}}
	img := src.PushImage("lab/app", "1", imageConfig, layer(t, testlayers.DistInfo("numpy", "1.26.4")))
	doc := []byte(`{"spdxVersion":"SPDX-2.3","packages":[{"name":"openblas","versionInfo":"0.3.26",` +
		`"externalRefs":[{"referenceType":"purl","referenceLocator":"pkg:conda/openblas@0.3.26"}]}]}`)
	spdx := src.PutBlob("application/spdx+json", doc)
	empty := src.PutBlob(v1.MediaTypeEmptyJSON, []byte("{}"))
	m := oci.Manifest{SchemaVersion: 2, MediaType: v1.MediaTypeImageManifest, ArtifactType: "application/spdx+json", Config: &empty,
		Subject: &v1.Descriptor{MediaType: v1.MediaTypeImageManifest, Digest: img.Digest, Size: 1}}
	for range 300 {
		m.Layers = append(m.Layers, spdx)
	}
	raw, _ := json.Marshal(m)
	sbomRef := src.PutManifest("lab/app", "", m.MediaType, raw)

	rec := build(t, budgeted(t, src, catalog.Budget{}), img)
	if src.reads[spdx.Digest] != 1 || rec.Partial || len(rec.IndexErrors) != 0 {
		t.Errorf("SBOM read %d times; truncated %q, errors %q", src.reads[spdx.Digest], rec.Truncated, rec.IndexErrors)
	}
	if got := packageLines(rec); !reflect.DeepEqual(got, []string{"python numpy 1.26.4 " + testlayers.DistInfo("numpy", "1.26.4").Name,
		"conda openblas 0.3.26 sbom:" + string(sbomRef.Digest)}) {
		t.Errorf("packages %q", got)
	}

	rec = build(t, budgeted(t, src, catalog.Budget{MaxSBOMBytes: int64(len(doc)) - 1}), img)
	want := []string{fmt.Sprintf("SBOM %s: over the limit of %d SBOM bytes per image; layer %s and the rest were not read", sbomRef.Digest, len(doc)-1, spdx.Digest)}
	if !reflect.DeepEqual(rec.Truncated, want) || len(rec.Packages) != 1 {
		t.Errorf("truncated %q, want %q; packages %q", rec.Truncated, want, packageLines(rec))
	}
}

// A record over the size budget loses the tail of its package list first,
// and says how much it kept.
func TestRecordSizeWithinBudget(t *testing.T) {
	src := catalogtest.NewSource()
	ref := src.PushImage("lab/big", "1", imageConfig, layer(t, testlayers.File("var/lib/dpkg/status", testlayers.DpkgStatus(testlayers.ManyDpkgPackages(1000)...))))
	const most = 16 << 10
	rec := build(t, budgeted(t, src, catalog.Budget{MaxRecordBytes: most}), ref)
	raw, _ := json.Marshal(rec)
	if len(raw) > most || len(rec.Packages) == 0 || len(rec.Packages) >= 1000 {
		t.Fatalf("record of %d bytes with %d packages", len(raw), len(rec.Packages))
	}
	want := fmt.Sprintf("record: over the limit of %d bytes; kept %d of 1000 packages", most, len(rec.Packages))
	if !rec.Partial || !reflect.DeepEqual(rec.Truncated, []string{want}) {
		t.Errorf("truncated %q, want %q", rec.Truncated, want)
	}
}

// Problems over the budget are counted, and the record says so.
func TestRecordProblemsWithinBudget(t *testing.T) {
	src := catalogtest.NewSource()
	var layers [][]byte
	for i := range 3 {
		layers = append(layers, layer(t, testlayers.File("var/lib/dpkg/status", strings.Repeat("x\n\n", 10+i))))
	}
	rec := build(t, budgeted(t, src, catalog.Budget{MaxProblemsPerFile: 4, MaxProblems: 10}), src.PushImage("lab/bad", "1", imageConfig, layers...))
	if len(rec.IndexErrors) != 10 || rec.IndexErrorsOmitted != 10+11+12-10 {
		t.Errorf("%d listed, %d omitted", len(rec.IndexErrors), rec.IndexErrorsOmitted)
	}
	want := []string{"index errors: 33, over the limit of 10; 23 were counted, not listed"}
	if !rec.Partial || !reflect.DeepEqual(rec.Truncated, want) {
		t.Errorf("truncated %q, want %q", rec.Truncated, want)
	}
}

// Past the deadline nothing more is read: the record is partial and says
// why, and what it lacks is named in its errors.
func TestDeadline(t *testing.T) {
	src := catalogtest.NewSource()
	ref := src.PushImage("lab/slow", "1", imageConfig, layer(t, testlayers.DistInfo("numpy", "1.26.4")))
	rec := build(t, budgeted(t, src, catalog.Budget{Deadline: time.Nanosecond}), ref)
	want := []string{"indexing: over the deadline of 1ns; what was not read by then is missing"}
	if !rec.Partial || !reflect.DeepEqual(rec.Truncated, want) || len(rec.Packages) != 0 {
		t.Errorf("truncated %q, want %q; packages %q", rec.Truncated, want, packageLines(rec))
	}
	if errs := strings.Join(rec.IndexErrors, "\n"); !strings.Contains(errs, "not read, indexing stopped") && !strings.Contains(errs, "reading stopped") {
		t.Errorf("errors %q", rec.IndexErrors)
	}
	// The deadline is the image's own: a caller's context that ends is an
	// error, not a partial record.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if rec, _, err := budgeted(t, src, catalog.Budget{}).Record(ctx, ref); err == nil {
		t.Errorf("cancelled: record %+v", rec)
	}
}

// An abandoned image's record is what its manifest says, partial, with why.
func TestAbandoned(t *testing.T) {
	src := catalogtest.NewSource()
	ref := src.PushImage("lab/poison", "1", imageConfig, layer(t, testlayers.DistInfo("numpy", "1.26.4")))
	rec, err := budgeted(t, src, catalog.Budget{}).Abandoned(context.Background(), ref, "indexing: failed")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Kind != catalog.KindImage || !rec.Partial || !reflect.DeepEqual(rec.Truncated, []string{"indexing: failed"}) || len(rec.Packages) != 0 {
		t.Errorf("record %+v", rec)
	}
}

func layer(t testing.TB, entries ...testlayers.Entry) []byte {
	return testlayers.Gzip(t, testlayers.Tar(t, entries...))
}

// An image of many layers keeps the budget's paths across them, and says
// where it stopped.
func TestManyLayersWithinBudget(t *testing.T) {
	src := catalogtest.NewSource()
	var layers [][]byte
	for i := range 300 {
		layers = append(layers, layer(t, testlayers.DistInfo(fmt.Sprint("p", i), "1.0")))
	}
	rec := build(t, budgeted(t, src, catalog.Budget{MaxPaths: 100}), src.PushImage("lab/layers", "1", imageConfig, layers...))
	want := "paths: over the limit of 100 per image; from layer 100's " + testlayers.DistInfo("p100", "1.0").Name + " on, not kept"
	if len(rec.Packages) != 100 || !rec.Partial || !reflect.DeepEqual(rec.Truncated, []string{want}) {
		t.Errorf("%d packages, truncated %q, want %q", len(rec.Packages), rec.Truncated, want)
	}
}

// Once the SBOM bytes are spent, the remaining SBOM referrers are not
// read, and the record names the first of them.
func TestSBOMReferrersWithinBudget(t *testing.T) {
	src := catalogtest.NewSource()
	img := src.PushImage("lab/app", "1", imageConfig, layer(t, testlayers.DistInfo("numpy", "1.26.4")))
	doc := func(name string) []byte {
		return []byte(`{"spdxVersion":"SPDX-2.3","packages":[{"name":"` + name + `","versionInfo":"1.0"}]}`)
	}
	a := src.PushReferrer(img, "application/spdx+json", "application/spdx+json", doc("aaaa"))
	b := src.PushReferrer(img, "application/spdx+json", "application/spdx+json", doc("bbbb"))
	second := max(a.Digest, b.Digest)
	rec := build(t, budgeted(t, src, catalog.Budget{MaxSBOMBytes: int64(len(doc("aaaa")))}), img)
	want := []string{fmt.Sprintf("SBOM %s: over the limit of %d SBOM bytes per image; it and those after it were not read", second, len(doc("aaaa")))}
	if len(rec.Packages) != 2 || !reflect.DeepEqual(rec.Truncated, want) {
		t.Errorf("packages %q, truncated %q, want %q", packageLines(rec), rec.Truncated, want)
	}
}
