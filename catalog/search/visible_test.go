package search

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/oyster-registry/oyster/catalog"
)

// visibleIndex indexes generated records in several batches, so that a
// search spans segments, and returns them with the five namespaces that
// hold the most records, which the tests make private.
func visibleIndex(t *testing.T) (*Index, []*catalog.Record, []string) {
	t.Helper()
	recs := generated(600)
	ix, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	for i := 0; i < len(recs); i += 150 {
		if err := ix.PutBatch(recs[i : i+150]); err != nil {
			t.Fatal(err)
		}
	}
	perNS := map[string]int{}
	for _, rec := range recs {
		perNS[namespace(rec.Repository)]++
	}
	byCount := sortedKeys(perNS)
	slices.SortStableFunc(byCount, func(a, b string) int { return perNS[b] - perNS[a] })
	return ix, recs, byCount[:5]
}

// TestVisibleMatchesExcludedNamespaces checks a filtered search against
// the same search without a filter that names the hidden namespaces in
// the query: results, totals and every facet count must be the same, so
// that nothing about a hidden image shows through the counts.
func TestVisibleMatchesExcludedNamespaces(t *testing.T) {
	ix, recs, private := visibleIndex(t)
	owner := private[0]
	callers := []struct {
		name   string
		hidden []string
	}{
		{"anonymous", private},
		{"owner of " + owner, private[1:]},
		{"admin", nil},
	}
	queries := []string{"", "numpy", "pkg:numpy>=1.26 -type:sif", "python:*", "type:artifact"}
	for _, c := range callers {
		visible := func(repo string) bool { return !slices.Contains(c.hidden, namespace(repo)) }
		for _, q := range queries {
			for _, sortKey := range []string{SortName, SortRelevance} {
				got := mustSearch(t, ix, Request{Query: q, Sort: sortKey, PerPage: 50, Visible: visible})
				var excl strings.Builder
				for _, ns := range c.hidden {
					fmt.Fprintf(&excl, " -namespace:%s", ns)
				}
				want := mustSearch(t, ix, Request{Query: q + excl.String(), Sort: sortKey, PerPage: 50})
				if got.Total != want.Total || !reflect.DeepEqual(ids(got.Results), ids(want.Results)) {
					t.Errorf("%s, %q by %s: %d results %v, want %d %v", c.name, q, sortKey, got.Total, ids(got.Results), want.Total, ids(want.Results))
				}
				if !reflect.DeepEqual(got.Facets, want.Facets) {
					t.Errorf("%s, %q: facets\n%v\nwant\n%v", c.name, q, got.Facets, want.Facets)
				}
			}
		}
	}
	// The filter must have had something to hide: the private namespaces
	// hold records the unfiltered search finds.
	all := mustSearch(t, ix, Request{})
	anon := mustSearch(t, ix, Request{Visible: func(repo string) bool { return !slices.Contains(private, namespace(repo)) }})
	hidden := 0
	for _, rec := range recs {
		if slices.Contains(private, namespace(rec.Repository)) {
			hidden++
		}
	}
	if hidden == 0 || all.Total-anon.Total != hidden {
		t.Errorf("all %d, anonymous %d: the difference should be the %d private images", all.Total, anon.Total, hidden)
	}
	for _, fc := range anon.Facets["namespace"] {
		if slices.Contains(private, fc.Value) {
			t.Errorf("the namespace facet shows private %s to anonymous", fc.Value)
		}
	}
}

// TestVisibleAsksOncePerRepository checks the memo: one search over four
// segments asks about each repository once.
func TestVisibleAsksOncePerRepository(t *testing.T) {
	ix, recs, private := visibleIndex(t)
	repos := map[string]bool{}
	for _, rec := range recs {
		repos[rec.Repository] = true
	}
	asked := map[string]int{}
	visible := func(repo string) bool {
		asked[repo]++
		return !slices.Contains(private, namespace(repo))
	}
	mustSearch(t, ix, Request{Visible: visible})
	if len(asked) != len(repos) {
		t.Errorf("asked about %d repositories, the index holds %d", len(asked), len(repos))
	}
	for repo, n := range asked {
		if n != 1 {
			t.Errorf("asked about %s %d times", repo, n)
		}
	}
}

// TestVisibleHidesEverything checks a caller who may see nothing gets
// nothing, facets included.
func TestVisibleHidesEverything(t *testing.T) {
	ix := openFixtures(t)
	res := mustSearch(t, ix, Request{Visible: func(string) bool { return false }})
	if res.Total != 0 || len(res.Results) != 0 {
		t.Errorf("%d results %v", res.Total, ids(res.Results))
	}
	for name, counts := range res.Facets {
		if len(counts) != 0 {
			t.Errorf("facet %s: %v", name, counts)
		}
	}
}

func mustSearch(t *testing.T, ix *Index, req Request) *Response {
	t.Helper()
	res, err := ix.Search(context.Background(), req)
	if err != nil {
		t.Fatalf("%q: %v", req.Query, err)
	}
	return res
}

// TestVisibleScoresIgnoreHiddenImages: relevance is computed over what
// the caller may see, so a score is the same as in an index that never
// held the hidden images, and says nothing of them.
func TestVisibleScoresIgnoreHiddenImages(t *testing.T) {
	recs := generated(300)
	private := map[string]bool{}
	for i := 0; i < len(recs); i += 20 {
		private[namespace(recs[i].Repository)] = true
	}
	var public []*catalog.Record
	for _, rec := range recs {
		if !private[namespace(rec.Repository)] {
			public = append(public, rec)
		}
	}
	if len(public) > len(recs)*9/10 {
		t.Fatalf("only %d of %d images hidden", len(recs)-len(public), len(recs))
	}
	open := func(recs []*catalog.Record) *Index {
		ix, err := Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ix.Close() })
		if err := ix.PutBatch(recs); err != nil {
			t.Fatal(err)
		}
		return ix
	}
	all, only := open(recs), open(public)
	visible := func(repo string) bool { return !private[namespace(repo)] }
	for _, q := range []string{"numpy", "pymatgen scipy", "jupyter notebook pandas"} {
		got := mustSearch(t, all, Request{Query: q, PerPage: MaxPerPage, Visible: visible})
		want := mustSearch(t, only, Request{Query: q, PerPage: MaxPerPage})
		if got.Total == 0 || got.Total != want.Total {
			t.Fatalf("%q: %d results, %d without the hidden images", q, got.Total, want.Total)
		}
		for i := range got.Results {
			if g, w := got.Results[i], want.Results[i]; g.Digest != w.Digest || g.Score != w.Score {
				t.Errorf("%q #%d: %s scored %v, without the hidden images %s scored %v", q, i, id(g), g.Score, id(w), w.Score)
			}
		}
	}
}
