package indexer_test

import (
	"context"
	"io"
	"log/slog"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/catalogtest"
	"github.com/oyster-registry/oyster/catalog/indexer"
	"github.com/oyster-registry/oyster/catalog/search"
	"github.com/oyster-registry/oyster/events"
	"github.com/oyster-registry/oyster/internal/testlayers"
)

// start runs an indexer over src with its own catalog until the test ends,
// and waits for its start-up.
func start(tb testing.TB, src catalog.Source, workers int) (*indexer.Indexer, *catalogtest.Catalog) {
	tb.Helper()
	c := catalogtest.New(tb)
	return startOn(tb, c, src, c.Search, workers), c
}

func startOn(tb testing.TB, c *catalogtest.Catalog, src catalog.Source, idx catalog.SearchIndex, workers int) *indexer.Indexer {
	ix := indexer.New(indexer.Options{Source: src, Store: c.Store, Search: idx, Workers: workers, Log: quiet()})
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	ix.Start(ctx)
	ix.Wait()
	return ix
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// pushed tells the indexer what a registry push of ref would.
func pushed(ix *indexer.Indexer, ref catalog.Ref) {
	ix.Notify(context.Background(), events.Event{Action: events.ManifestPut, Repository: ref.Repo, Digest: ref.Digest})
}

const config = `{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers"}}`

func layer(t testing.TB, entries ...testlayers.Entry) []byte {
	return testlayers.Gzip(t, testlayers.Tar(t, entries...))
}

func record(t *testing.T, c *catalogtest.Catalog, ref catalog.Ref) *catalog.Record {
	t.Helper()
	rec, err := c.Store.Record(ref)
	if err != nil || rec == nil {
		t.Fatalf("record of %s: %+v, %v", ref, rec, err)
	}
	return rec
}

func packageNames(rec *catalog.Record) []string {
	var out []string
	for _, p := range rec.Packages {
		out = append(out, p.Ecosystem+" "+p.Name)
	}
	sort.Strings(out)
	return out
}

func searchRepos(t *testing.T, c *catalogtest.Catalog, q string) []string {
	t.Helper()
	resp, err := c.Search.Search(context.Background(), search.Request{Query: q})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, h := range resp.Results {
		out = append(out, h.Repository+"@"+h.Digest)
	}
	return out
}

func TestIndexesPushedImage(t *testing.T) {
	src := catalogtest.NewSource()
	ix, c := start(t, src, 1)
	ref := src.PushImage("lab/app", "v1", config,
		layer(t, testlayers.File("etc/os-release", testlayers.DebianOSRelease),
			testlayers.File("var/lib/dpkg/status", testlayers.DpkgStatus("libc6=2.36-9", "python3.11-minimal=3.11.2-6"))),
		layer(t, testlayers.DistInfo("numpy", "1.26.4")))
	pushed(ix, ref)
	ix.Wait()
	rec := record(t, c, ref)
	if want := []string{"deb libc6", "deb python3.11-minimal", "python numpy"}; !reflect.DeepEqual(packageNames(rec), want) {
		t.Errorf("packages %q, want %q", packageNames(rec), want)
	}
	if rec.OS.ID != "debian" || rec.Runtimes["python"] != "3.11.2" || !reflect.DeepEqual(rec.Tags, []string{"v1"}) {
		t.Errorf("os %+v, runtimes %v, tags %v", rec.OS, rec.Runtimes, rec.Tags)
	}
	if d, err := c.Store.Tag("lab/app", "v1"); err != nil || d != ref.Digest {
		t.Errorf("lab/app:v1 resolves to %q, %v", d, err)
	}
	if got := searchRepos(t, c, "pkg:numpy"); !reflect.DeepEqual(got, []string{ref.String()}) {
		t.Errorf("search finds %q", got)
	}
}

// A tag that moves to another image resolves to it, and the image it left
// drops out of search.
func TestTagMoves(t *testing.T) {
	src := catalogtest.NewSource()
	ix, c := start(t, src, 2)
	old := src.PushImage("lab/app", "latest", config, layer(t, testlayers.DistInfo("numpy", "1.0")))
	pushed(ix, old)
	ix.Wait()
	cur := src.PushImage("lab/app", "latest", config, layer(t, testlayers.DistInfo("numpy", "2.0")))
	pushed(ix, cur)
	ix.Wait()
	if d, err := c.Store.Tag("lab/app", "latest"); err != nil || d != cur.Digest {
		t.Errorf("latest resolves to %q, %v; want %s", d, err, cur.Digest)
	}
	if got := searchRepos(t, c, "repo:lab/app"); !reflect.DeepEqual(got, []string{cur.String()}) {
		t.Errorf("search finds %q", got)
	}
	if rec := record(t, c, old); len(rec.Tags) != 0 {
		t.Errorf("the old image keeps tags %v", rec.Tags)
	}
}

// An index indexed before its children inherits what they hold once they
// are indexed; so does an image indexed before its base, which it then
// names. Workers index them in any order.
func TestRelationsWhateverTheOrder(t *testing.T) {
	src := catalogtest.NewSource()
	ix, c := start(t, src, 3)
	baseLayer := layer(t, testlayers.File("var/lib/dpkg/status", testlayers.DpkgStatus("libc6=2.36-9")))
	base := src.PushImage("lab/base", "12", config, baseLayer)
	amd := src.PushImage("lab/app", "", config, baseLayer, layer(t, testlayers.DistInfo("numpy", "1.26.4")))
	arm := src.PushImage("lab/app", "", config, layer(t, testlayers.CondaMeta("scipy", "1.12.0")))
	index := src.PushIndex("lab/app", "1", amd, arm)
	for _, ref := range []catalog.Ref{index, amd, arm, base} { // parents first
		pushed(ix, ref)
	}
	ix.Wait()
	rec := record(t, c, index)
	if want := []string{"conda scipy", "deb libc6", "python numpy"}; !reflect.DeepEqual(packageNames(rec), want) {
		t.Errorf("index packages %q, want %q", packageNames(rec), want)
	}
	app := record(t, c, amd)
	if len(app.BaseImages) != 1 || app.BaseImages[0].Repository != "lab/base" || app.BaseImages[0].Tag != "12" {
		t.Errorf("bases of the amd64 image: %+v", app.BaseImages)
	}
}

// SBOMs come from the registry's referrers index, through the Source: an
// SBOM pushed after its image adds its packages to the image's record, and
// deleting it takes them away.
func TestSBOMReferrer(t *testing.T) {
	src := catalogtest.NewSource()
	ix, c := start(t, src, 2)
	img := src.PushImage("lab/app", "1", config, layer(t, testlayers.DistInfo("numpy", "1.26.4")))
	pushed(ix, img)
	ix.Wait()
	doc := `{"spdxVersion":"SPDX-2.3","packages":[{"name":"openblas","versionInfo":"0.3.26",` +
		`"externalRefs":[{"referenceType":"purl","referenceLocator":"pkg:conda/openblas@0.3.26"}]}]}`
	sbom := src.PushReferrer(img, "application/spdx+json", "application/spdx+json", []byte(doc))
	pushed(ix, sbom)
	ix.Wait()
	rec := record(t, c, img)
	if want := []string{"conda openblas", "python numpy"}; !reflect.DeepEqual(packageNames(rec), want) {
		t.Errorf("packages %q, want %q", packageNames(rec), want)
	}
	if len(rec.Referrers) != 1 || rec.Referrers[0].Digest != sbom.Digest {
		t.Errorf("referrers %+v", rec.Referrers)
	}
	src.Delete(sbom)
	pushed(ix, sbom) // a delete event says the same: look at it again
	ix.Wait()
	if rec := record(t, c, img); len(rec.Referrers) != 0 || len(rec.Packages) != 1 {
		t.Errorf("after the SBOM's deletion: referrers %+v, packages %q", rec.Referrers, packageNames(rec))
	}
}

// At start the catalog is reconciled with storage: what storage holds is
// indexed, records of what it lost are dropped.
func TestStartReconciles(t *testing.T) {
	src := catalogtest.NewSource()
	kept := src.PushImage("lab/kept", "1", config, layer(t, testlayers.DistInfo("six", "1.16.0")))
	c := catalogtest.New(t)
	lost := &catalog.Record{Repository: "lab/lost", Digest: digest.FromString("lost"), Kind: catalog.KindImage, Tags: []string{"1"}}
	c.Put(t, lost)
	startOn(t, c, src, c.Search, 2)
	record(t, c, kept)
	if rec, err := c.Store.Record(lost.Ref()); err != nil || rec != nil {
		t.Errorf("record of a manifest storage lost: %+v, %v", rec, err)
	}
	if got := searchRepos(t, c, "repo:lab/*"); !reflect.DeepEqual(got, []string{kept.String()}) {
		t.Errorf("search finds %q", got)
	}
}

func TestReindexReportsProgress(t *testing.T) {
	src := catalogtest.NewSource()
	var refs []catalog.Ref
	for _, name := range []string{"a", "b", "c"} {
		refs = append(refs, src.PushImage("lab/"+name, "1", config, layer(t, testlayers.DistInfo(name, "1.0"))))
	}
	c := catalogtest.New(t)
	ix := indexer.New(indexer.Options{Source: src, Store: c.Store, Search: c.Search, Workers: 2, Log: quiet()})
	var calls [][2]int
	err := ix.Reindex(context.Background(), func(done, total int) { calls = append(calls, [2]int{done, total}) }, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := [][2]int{{1, 3}, {2, 3}, {3, 3}}; !reflect.DeepEqual(calls, want) {
		t.Errorf("progress %v, want %v", calls, want)
	}
	for _, ref := range refs {
		record(t, c, ref)
	}
}

// gatedSource holds reads of one blob until the test opens the gate, and
// counts the reads held at once: each is an indexing pass over the image
// (its layer is cached only once a pass reads it through).
type gatedSource struct {
	*catalogtest.Source
	gated   digest.Digest
	entered chan struct{} // a read of the gated blob began
	gate    chan struct{} // closed: reads of the gated blob go on
	held    atomic.Int32
	most    atomic.Int32
}

func newGatedSource() *gatedSource {
	return &gatedSource{Source: catalogtest.NewSource(), entered: make(chan struct{}, 100), gate: make(chan struct{})}
}

func (g *gatedSource) Blob(ctx context.Context, ref catalog.Ref) (io.ReadSeekCloser, int64, error) {
	if ref.Digest == g.gated {
		n := g.held.Add(1)
		for most := g.most.Load(); n > most && !g.most.CompareAndSwap(most, n); most = g.most.Load() {
		}
		g.entered <- struct{}{}
		<-g.gate
		g.held.Add(-1)
	}
	return g.Source.Blob(ctx, ref)
}

// notifyingIndex reports each record put into the search index.
type notifyingIndex struct {
	catalog.SearchIndex
	put chan catalog.Ref
}

func (n *notifyingIndex) Put(rec *catalog.Record) error {
	err := n.SearchIndex.Put(rec)
	n.put <- rec.Ref()
	return err
}

// With two workers, an image whose layer takes forever does not hold up
// another pushed after it; and the same manifest, notified again and
// again meanwhile, is never indexed by two workers at once.
func TestWorkersDoNotWaitForASlowImage(t *testing.T) {
	src := newGatedSource()
	c := catalogtest.New(t)
	idx := &notifyingIndex{SearchIndex: c.Search, put: make(chan catalog.Ref, 100)}
	ix := startOn(t, c, src, idx, 2)

	slowLayer := layer(t, testlayers.DistInfo("slow", "1.0"))
	src.gated = digest.FromBytes(slowLayer)
	slow := src.PushImage("lab/slow", "1", config, slowLayer)
	fast := src.PushImage("lab/fast", "1", config, layer(t, testlayers.DistInfo("fast", "1.0")))
	pushed(ix, slow)
	<-src.entered // a worker is stuck in the slow image's layer
	for range 5 {
		pushed(ix, slow)
	}
	pushed(ix, fast)
	for done := false; !done; {
		select {
		case ref := <-idx.put:
			done = ref == fast
		case <-time.After(time.Minute): // a hang guard, not a measure
			t.Fatalf("the fast image was not indexed while the slow one was stuck (%d passes over the slow one at once)", src.most.Load())
		}
	}
	close(src.gate)
	ix.Wait()
	if most := src.most.Load(); most != 1 {
		t.Errorf("the slow image was indexed by %d workers at once", most)
	}
	if rec := record(t, c, slow); !strings.Contains(strings.Join(packageNames(rec), " "), "python slow") {
		t.Errorf("slow image packages %q", packageNames(rec))
	}
}

// oyster_catalog_queue_depth counts tasks waiting or running: 0 when idle.
func TestQueueDepthIdle(t *testing.T) {
	src := catalogtest.NewSource()
	ix, _ := start(t, src, 2)
	var wg sync.WaitGroup
	for i := range 20 {
		ref := src.PushImage("lab/app", "", config, layer(t, testlayers.DistInfo("pkg", string(rune('a'+i)))))
		wg.Add(1)
		go func() { defer wg.Done(); pushed(ix, ref) }()
	}
	wg.Wait()
	ix.Wait()
	if depth := gauge(t, "oyster_catalog_queue_depth"); depth != 0 {
		t.Errorf("queue depth %v when idle", depth)
	}
}

func gauge(t *testing.T, name string) float64 {
	t.Helper()
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}
