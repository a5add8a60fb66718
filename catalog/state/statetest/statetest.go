// Package statetest is the suite every catalog.Store implementation must
// pass, and the one for extract.LayerCache. The bbolt store runs it; a
// second implementation (PostgreSQL, say) runs the same functions.
package statetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/extract"
	"github.com/oyster-registry/oyster/catalog/scan"
)

// Open returns an empty store for one test; the test's cleanup closes it.
type Open func(t *testing.T) catalog.Store

// Run runs every Store test against stores from open.
func Run(t *testing.T, open Open) {
	tests := map[string]func(*testing.T, catalog.Store){
		"Records":        testRecords,
		"CallersCopy":    testCallersCopy,
		"ByRepository":   testByRepository,
		"Tags":           testTags,
		"RepositoryTags": testRepositoryTags,
		"NameTags":       testNameTags,
		"BaseAndDerived": testBaseAndDerived,
		"Parents":        testParents,
		"Pulls":          testPulls,
		"Journal":        testJournal,
		"Reset":          testReset,
	}
	for name, test := range tests {
		t.Run(name, func(t *testing.T) { test(t, open(t)) })
	}
}

// RunLayerCache tests a layer cache from open.
func RunLayerCache(t *testing.T, open func(t *testing.T) extract.LayerCache) {
	c := open(t)
	d := Digest("layer")
	if got, err := c.LayerFacts(d); err != nil || got != nil {
		t.Fatalf("empty cache: %+v, %v", got, err)
	}
	want := scan.LayerFacts{
		Findings:  []scan.Finding{{Path: "etc/os-release", Kind: scan.FileOSRelease}},
		Whiteouts: []string{"usr/x"}, Problems: []string{"a: bad"},
	}
	must(t, c.PutLayerFacts(d, want))
	got, err := c.LayerFacts(d)
	if err != nil || got == nil || !reflect.DeepEqual(*got, want) {
		t.Fatalf("cached %+v, %v; want %+v", got, err, want)
	}
	if other, err := c.LayerFacts(Digest("other")); err != nil || other != nil {
		t.Fatalf("another layer: %+v, %v", other, err)
	}
}

// Digest is a well-formed sha256 digest named after s.
func Digest(s string) digest.Digest { return digest.FromString(s) }

// Image is a tagged image record of repo with the given layers (named by
// their digests' seeds).
func Image(repo, name string, layers []string, tags ...string) *catalog.Record {
	rec := &catalog.Record{Repository: repo, Digest: Digest(repo + name), Kind: catalog.KindImage, Tags: tags}
	for _, l := range layers {
		rec.Layers = append(rec.Layers, catalog.Layer{Digest: Digest(l), Size: 1})
	}
	return rec
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustRecord(t *testing.T, s catalog.Store, ref catalog.Ref) *catalog.Record {
	t.Helper()
	rec, err := s.Record(ref)
	must(t, err)
	return rec
}

func testRecords(t *testing.T, s catalog.Store) {
	rec := Image("lab/app", "a", []string{"l1"}, "v1")
	if got := mustRecord(t, s, rec.Ref()); got != nil {
		t.Fatalf("record before any put: %+v", got)
	}
	must(t, s.PutRecord(rec))
	if got := mustRecord(t, s, rec.Ref()); got == nil || !reflect.DeepEqual(got.Layers, rec.Layers) || got.Tags[0] != "v1" {
		t.Fatalf("got %+v", got)
	}
	rec.Tags = []string{"v2"}
	must(t, s.PutRecord(rec))
	if got := mustRecord(t, s, rec.Ref()); got.Tags[0] != "v2" {
		t.Fatalf("stale record after an update: %v", got.Tags)
	}
	must(t, s.DeleteRecord(rec.Ref()))
	if got := mustRecord(t, s, rec.Ref()); got != nil {
		t.Fatalf("deleted record still served: %+v", got)
	}
	must(t, s.DeleteRecord(rec.Ref())) // deleting what is gone is no error
}

// A caller may set fields of a returned record without changing the store.
func testCallersCopy(t *testing.T, s catalog.Store) {
	rec := Image("lab/app", "a", nil, "v1")
	must(t, s.PutRecord(rec))
	for range 2 { // the second read may come from a cache
		got := mustRecord(t, s, rec.Ref())
		got.Tags = []string{"changed by a caller"}
		got.Size = 99
	}
	if got := mustRecord(t, s, rec.Ref()); got.Tags[0] != "v1" || got.Size != 0 {
		t.Fatalf("a caller's change leaked into the store: %+v", got)
	}
}

func testByRepository(t *testing.T, s catalog.Store) {
	for _, repo := range []string{"lab/app", "lab/app-x", "lab/app/sub", "a"} {
		must(t, s.PutRecord(Image(repo, "1", nil, "v")))
		must(t, s.PutRecord(Image(repo, "2", nil)))
	}
	var got []string
	must(t, s.Records("lab/app", func(rec *catalog.Record) error {
		got = append(got, rec.Ref().String())
		return nil
	}))
	want := []string{Image("lab/app", "1", nil).Ref().String(), Image("lab/app", "2", nil).Ref().String()}
	if want[0] > want[1] {
		want[0], want[1] = want[1], want[0]
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("records of lab/app: %q, want %q", got, want)
	}
	all := 0
	must(t, s.Records("", func(*catalog.Record) error { all++; return nil }))
	if all != 8 {
		t.Errorf("all records: %d, want 8", all)
	}
	names, err := s.RepositoryNames()
	must(t, err)
	if want := []string{"a", "lab/app", "lab/app-x", "lab/app/sub"}; !reflect.DeepEqual(names, want) {
		t.Errorf("repository names %q, want %q", names, want)
	}
}

func wantTag(t *testing.T, s catalog.Store, repo, tag string, want digest.Digest) {
	t.Helper()
	got, err := s.Tag(repo, tag)
	must(t, err)
	if got != want {
		t.Errorf("%s:%s resolves to %q, want %q", repo, tag, got, want)
	}
}

func testTags(t *testing.T, s catalog.Store) {
	old := Image("lab/app", "old", nil, "v1", "latest")
	must(t, s.PutRecord(old))
	must(t, s.PutRecord(Image("lab/other", "x", nil, "v1")))
	wantTag(t, s, "lab/app", "v1", old.Digest)
	wantTag(t, s, "lab/app", "latest", old.Digest)
	wantTag(t, s, "lab/app", "v2", "")
	wantTag(t, s, "lab/other", "v1", Image("lab/other", "x", nil).Digest)

	// latest moves to a new image: the new record takes it before the old
	// one is rewritten without it, and keeps it after.
	cur := Image("lab/app", "new", nil, "latest")
	must(t, s.PutRecord(cur))
	wantTag(t, s, "lab/app", "latest", cur.Digest)
	old.Tags = []string{"v1"}
	must(t, s.PutRecord(old))
	wantTag(t, s, "lab/app", "latest", cur.Digest)
	must(t, s.DeleteRecord(old.Ref()))
	wantTag(t, s, "lab/app", "v1", "")
	wantTag(t, s, "lab/app", "latest", cur.Digest)
	cur.Tags = nil
	must(t, s.PutRecord(cur))
	wantTag(t, s, "lab/app", "latest", "")
}

// repositoryTags is what RepositoryTags says of repo, as "tag digest"
// lines and the untagged count.
func repositoryTags(t *testing.T, s catalog.Store, repo string) ([]string, int) {
	t.Helper()
	tags, untagged, err := s.RepositoryTags(repo)
	must(t, err)
	out := []string{}
	for _, tr := range tags {
		out = append(out, tr.Tag+" "+tr.Record.Digest.String())
	}
	return out, untagged
}

func testRepositoryTags(t *testing.T, s catalog.Store) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	old := Image("lab/app", "old", nil, "v1", "latest")
	old.Updated = t0
	cur := Image("lab/app", "new", nil, "b", "a")
	cur.Updated = t0.Add(time.Hour)
	bare := Image("lab/app", "bare", nil)
	for _, rec := range []*catalog.Record{old, cur, bare, Image("lab/app-x", "x", nil, "v1")} {
		must(t, s.PutRecord(rec))
	}
	got, untagged := repositoryTags(t, s, "lab/app")
	want := []string{"a " + cur.Digest.String(), "b " + cur.Digest.String(), "latest " + old.Digest.String(), "v1 " + old.Digest.String()}
	if !reflect.DeepEqual(got, want) || untagged != 1 {
		t.Fatalf("tags %q, %d untagged; want %q, 1", got, untagged, want)
	}

	// latest moves to cur while old still lists it: it is listed once,
	// with the image the tag index resolves it to.
	cur.Tags = []string{"a", "b", "latest"}
	must(t, s.PutRecord(cur))
	got, untagged = repositoryTags(t, s, "lab/app")
	want = []string{"a " + cur.Digest.String(), "b " + cur.Digest.String(), "latest " + cur.Digest.String(), "v1 " + old.Digest.String()}
	if !reflect.DeepEqual(got, want) || untagged != 1 {
		t.Fatalf("after the move: tags %q, %d untagged; want %q, 1", got, untagged, want)
	}

	if got, untagged = repositoryTags(t, s, "lab/none"); len(got) != 0 || untagged != 0 {
		t.Fatalf("unknown repository: %q, %d untagged", got, untagged)
	}
}

func testNameTags(t *testing.T, s catalog.Store) {
	tagged := Image("lab/base", "b", nil, "12", "latest")
	bare := Image("lab/base", "old", nil)
	must(t, s.PutRecord(tagged))
	must(t, s.PutRecord(bare))
	in := []catalog.ImageRef{
		{Repository: "lab/base", Digest: tagged.Digest, Via: catalog.ViaAnnotation},
		{Repository: "lab/base", Digest: tagged.Digest, Tag: "kept", Via: catalog.ViaAnnotation},
		{Repository: "lab/base", Digest: bare.Digest, Via: catalog.ViaAnnotation},
		{Repository: "lab/gone", Digest: Digest("gone"), Via: catalog.ViaAnnotation},
	}
	got, err := s.NameTags(in)
	must(t, err)
	want := []string{"lab/base:12 via annotation", "lab/base:kept via annotation", "lab/base: via annotation", "lab/gone: via annotation"}
	if g := refStrings(got); !reflect.DeepEqual(g, want) {
		t.Fatalf("named %q, want %q", g, want)
	}
	if in[0].Tag != "" {
		t.Fatal("NameTags changed its argument")
	}
}

func refStrings(refs []catalog.ImageRef) []string {
	out := []string{}
	for _, r := range refs {
		out = append(out, fmt.Sprintf("%s:%s via %s", r.Repository, r.Tag, r.Via))
	}
	return out
}

func testBaseAndDerived(t *testing.T, s catalog.Store) {
	base := Image("lab/base", "b", []string{"l1"}, "12")
	app := Image("lab/app", "a", []string{"l1", "l2"}, "1")
	twin := Image("lab/twin", "t", []string{"l1", "l2"}, "1")     // same layers as app
	untagged := Image("lab/old", "o", []string{"l1", "l2", "l3"}) // built on both, no tag
	top := Image("lab/top", "t", []string{"l1", "l2", "l3", "l4"}, "x")
	for _, rec := range []*catalog.Record{base, app, twin, untagged, top} {
		must(t, s.PutRecord(rec))
	}
	bases, err := s.BaseImages(top.Layers)
	must(t, err)
	if got, want := refStrings(bases), []string{"lab/base:12 via layers", "lab/app:1 via layers", "lab/twin:1 via layers"}; !sameSet(got, want) {
		t.Errorf("bases of top: %q, want %q", got, want)
	}
	derived, err := s.DerivedImages(app.Layers)
	must(t, err)
	if got, want := refStrings(derived), []string{"lab/top:x via layers"}; !sameSet(got, want) {
		t.Errorf("derived of app: %q, want %q", got, want)
	}
	built, err := s.BuiltOn(app.Layers)
	must(t, err)
	if want := []catalog.Ref{untagged.Ref(), top.Ref()}; !sameRefs(built, want) {
		t.Errorf("built on app: %v, want %v (untagged images too)", built, want)
	}
	if derived, err := s.DerivedImages(nil); err != nil || len(derived) != 0 {
		t.Errorf("derived of no layers: %q, %v", refStrings(derived), err)
	}
	must(t, s.DeleteRecord(top.Ref()))
	if derived, err := s.DerivedImages(app.Layers); err != nil || len(derived) != 0 {
		t.Errorf("derived of app after top's deletion: %q, %v", refStrings(derived), err)
	}
	app.Layers = app.Layers[:1] // rebuilt on l1 alone: no longer derived from base
	must(t, s.PutRecord(app))
	derived, err = s.DerivedImages(base.Layers)
	must(t, err)
	if got, want := refStrings(derived), []string{"lab/twin:1 via layers"}; !sameSet(got, want) {
		t.Errorf("derived of base after app changed: %q, want %q", got, want)
	}
}

func sameSet(a, b []string) bool {
	count := map[string]int{}
	for _, s := range a {
		count[s]++
	}
	for _, s := range b {
		count[s]--
	}
	for _, n := range count {
		if n != 0 {
			return false
		}
	}
	return true
}

func testParents(t *testing.T, s catalog.Store) {
	amd, arm := Image("lab/app", "amd", nil), Image("lab/app", "arm", nil)
	index := &catalog.Record{Repository: "lab/app", Digest: Digest("index"), Kind: catalog.KindIndex, Tags: []string{"1"},
		Children: []catalog.Child{{Digest: amd.Digest}, {Digest: arm.Digest}}}
	must(t, s.PutRecord(index))
	parents, err := s.Parents(amd.Ref())
	must(t, err)
	if !reflect.DeepEqual(parents, []catalog.Ref{index.Ref()}) {
		t.Errorf("parents of amd: %v", parents)
	}
	if other, err := s.Parents(catalog.Ref{Repo: "lab/other", Digest: amd.Digest}); err != nil || len(other) != 0 {
		t.Errorf("the same digest in another repository: %v, %v", other, err)
	}
	index.Children = index.Children[1:]
	must(t, s.PutRecord(index))
	if parents, err := s.Parents(amd.Ref()); err != nil || len(parents) != 0 {
		t.Errorf("parents of a dropped child: %v, %v", parents, err)
	}
	must(t, s.DeleteRecord(index.Ref()))
	if parents, err := s.Parents(arm.Ref()); err != nil || len(parents) != 0 {
		t.Errorf("parents after the index's deletion: %v, %v", parents, err)
	}
}

func testPulls(t *testing.T, s catalog.Store) {
	a, b, c := Image("lab/a", "1", nil, "v"), Image("lab/b", "1", nil, "v"), Image("lab/c", "1", nil, "v")
	gone := catalog.Ref{Repo: "gone/repo", Digest: Digest("gone")}
	for _, rec := range []*catalog.Record{a, b, c} {
		must(t, s.PutRecord(rec))
	}
	must(t, s.AddPulls(map[catalog.Ref]uint64{a.Ref(): 2, b.Ref(): 5, gone: 99}))
	must(t, s.AddPulls(map[catalog.Ref]uint64{a.Ref(): 1}))
	if n, err := s.Pulls(a.Ref()); err != nil || n != 3 {
		t.Errorf("pulls of a: %d, %v", n, err)
	}
	if n, err := s.Pulls(c.Ref()); err != nil || n != 0 {
		t.Errorf("pulls of c: %d, %v", n, err)
	}
	top, err := s.MostPulled(5)
	must(t, err)
	var got []string
	for _, p := range top {
		got = append(got, fmt.Sprintf("%s=%d", p.Record.Repository, p.Pulls))
	}
	if want := []string{"lab/b=5", "lab/a=3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("most pulled %q, want %q (a count without a record is skipped)", got, want)
	}
	if top, err := s.MostPulled(1); err != nil || len(top) != 1 {
		t.Errorf("most pulled, 1: %d, %v", len(top), err)
	}
}

func testJournal(t *testing.T, s catalog.Store) {
	start := time.Now()
	a, b := Image("lab/a", "1", nil, "v"), Image("lab/b", "1", nil, "v")
	must(t, s.PutRecord(a))
	must(t, s.PutRecord(b))
	must(t, s.DeleteRecord(b.Ref()))
	if early, err := s.Unsynced(start.Add(-time.Hour)); err != nil || len(early) != 0 {
		t.Errorf("journalled before the writes: %v, %v", early, err)
	}
	later := time.Now().Add(time.Hour)
	refs, err := s.Unsynced(later)
	must(t, err)
	if want := []catalog.Ref{a.Ref(), b.Ref()}; !sameRefs(refs, want) {
		t.Errorf("journal %v, want %v", refs, want)
	}
	must(t, s.Synced(refs[:1]))
	if left, err := s.Unsynced(later); err != nil || len(left) != 1 || left[0] != refs[1] {
		t.Errorf("journal after one was synced: %v, %v", left, err)
	}
}

func sameRefs(a, b []catalog.Ref) bool {
	var as, bs []string
	for _, r := range a {
		as = append(as, r.String())
	}
	for _, r := range b {
		bs = append(bs, r.String())
	}
	return sameSet(as, bs) && len(a) == len(b)
}

func testReset(t *testing.T, s catalog.Store) {
	base := Image("lab/base", "b", []string{"l1"}, "12")
	app := Image("lab/app", "a", []string{"l1", "l2"}, "1")
	must(t, s.PutRecord(base))
	must(t, s.PutRecord(app))
	must(t, s.AddPulls(map[catalog.Ref]uint64{app.Ref(): 4}))
	must(t, s.Reset())
	if rec := mustRecord(t, s, app.Ref()); rec != nil {
		t.Errorf("record after reset: %+v", rec)
	}
	wantTag(t, s, "lab/app", "1", "")
	if names, err := s.RepositoryNames(); err != nil || len(names) != 0 {
		t.Errorf("repositories after reset: %q, %v", names, err)
	}
	if bases, err := s.BaseImages(app.Layers); err != nil || len(bases) != 0 {
		t.Errorf("bases after reset: %v, %v", bases, err)
	}
	if n, err := s.Pulls(app.Ref()); err != nil || n != 4 {
		t.Errorf("pull count after reset: %d, %v (pulls outlive a reindex)", n, err)
	}
	if left, err := s.Unsynced(time.Now().Add(time.Hour)); err != nil || len(left) != 0 {
		t.Errorf("journal after reset: %v, %v", left, err)
	}
}
