package search

import (
	"cmp"
	"slices"
	"strings"

	"github.com/blevesearch/bleve/v2"
	bsearch "github.com/blevesearch/bleve/v2/search"
)

// FacetCount is one value of a facet, how many results have it, and the
// filter that narrows a query to it (ready to append to the query).
type FacetCount struct {
	Value  string `json:"value"`
	Count  int    `json:"count"`
	Filter string `json:"filter"`
}

// facetSpec says where a facet's counts come from and how they read back
// as a filter.
type facetSpec struct {
	field string
	size  int
	// group folds versions to major.minor, the granularity people choose
	// by; bleve counts every distinct version, so size must cover them.
	group  bool
	filter string // filter name; the value follows it
}

// facetSpecs are the facets a request may ask for.
var facetSpecs = map[string]facetSpec{
	"arch":      {field: fArch, size: 10, filter: "arch"},
	"os":        {field: fOSRel, size: 10, filter: "os"},
	"type":      {field: fKind, size: 4, filter: "type"},
	"namespace": {field: fNS, size: 10, filter: "namespace"},
	"python":    {field: fPython, size: 1000, group: true, filter: "python"},
	"cuda":      {field: fCUDA, size: 1000, group: true, filter: "cuda"},
	"license":   {field: fLicense, size: 10, filter: "license"},
	"packages":  {field: fLangPkg, size: 15, filter: "pkg"},
}

// DefaultFacets are computed when a request names none.
var DefaultFacets = []string{"arch", "os", "type", "namespace", "python", "cuda", "license", "packages"}

// groupedSize is how many major.minor buckets a grouped facet shows.
const groupedSize = 10

func addFacets(sr *bleve.SearchRequest, names []string) error {
	if len(names) == 0 {
		names = DefaultFacets
	}
	for _, name := range names {
		spec, ok := facetSpecs[name]
		if !ok {
			return errorf(-1, "unknown facet %q; known facets: %s", name, strings.Join(sortedKeys(facetSpecs), ", "))
		}
		sr.AddFacet(name, bleve.NewFacetRequest(spec.field, spec.size))
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func facetCounts(results bsearch.FacetResults) map[string][]FacetCount {
	out := make(map[string][]FacetCount, len(results))
	for name, fr := range results {
		spec := facetSpecs[name]
		counts := make([]FacetCount, 0)
		if fr.Terms != nil {
			for _, tf := range fr.Terms.Terms() {
				counts = append(counts, FacetCount{Value: tf.Term, Count: tf.Count})
			}
		}
		if spec.group {
			counts = groupCounts(counts)
		}
		for i := range counts {
			counts[i].Filter = spec.filter + ":" + quoteValue(counts[i].Value)
		}
		out[name] = counts
	}
	return out
}

// groupCounts sums versions into major.minor buckets, most common first.
func groupCounts(counts []FacetCount) []FacetCount {
	sums := map[string]int{}
	for _, c := range counts {
		sums[majorMinor(c.Value)] += c.Count
	}
	out := make([]FacetCount, 0, len(sums))
	for v, n := range sums {
		out = append(out, FacetCount{Value: v, Count: n})
	}
	slices.SortFunc(out, func(a, b FacetCount) int {
		return cmp.Or(b.Count-a.Count, strings.Compare(a.Value, b.Value))
	})
	return out[:min(len(out), groupedSize)]
}
