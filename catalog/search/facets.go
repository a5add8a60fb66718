package search

import (
	"cmp"
	"slices"
	"strings"
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
	size  int // values shown
	// group folds versions to major.minor, the granularity people choose
	// by.
	group  bool
	filter string // filter name; the value follows it
}

// facetSpecs are the facets a request may ask for.
var facetSpecs = map[string]facetSpec{
	"arch":      {field: fArch, size: 10, filter: "arch"},
	"os":        {field: fOSRel, size: 10, filter: "os"},
	"type":      {field: fKind, size: 4, filter: "type"},
	"namespace": {field: fNS, size: 10, filter: "namespace"},
	"python":    {field: fPython, size: 10, group: true, filter: "python"},
	"cuda":      {field: fCUDA, size: 10, group: true, filter: "cuda"},
	"license":   {field: fLicense, size: 10, filter: "license"},
	"packages":  {field: fLangPkg, size: 15, filter: "pkg"},
}

// DefaultFacets are computed when a request names none.
var DefaultFacets = []string{"arch", "os", "type", "namespace", "python", "cuda", "license", "packages"}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// facet counts the values of one facet over every hit, exactly, in the
// cheaper of two ways: per hit, adding up the terms of each (a narrow
// result), or per term, with a popcount over the bitsets (a broad one).
func (r *run) facet(spec facetSpec) ([]FacetCount, error) {
	cols := make([]*facetColumn, len(r.views))
	var perHit, perTerm float64
	for i, v := range r.views {
		if len(r.nz[i]) == 0 {
			continue
		}
		fc, err := v.cache.facet(v, spec.field)
		if err != nil {
			return nil, err
		}
		cols[i] = fc
		perHit += float64(r.sizes[i]) * fc.termsPerDoc()
		perTerm += float64(len(r.nz[i])*len(fc.terms)) / pruneFactor
	}
	var top []FacetCount
	if perHit < perTerm {
		top = r.countPerHit(cols)
	} else {
		top = r.countPerTerm(cols, spec)
	}
	if spec.group {
		top = groupCounts(top)
	}
	top = sortCounts(top, spec.size)
	for i := range top {
		top[i].Filter = spec.filter + ":" + quoteValue(top[i].Value)
	}
	return top, nil
}

// pruneFactor is about how much of a field countPerTerm skips on a broad
// query; it only tunes the choice between the two ways.
const pruneFactor = 4

func (r *run) countPerHit(cols []*facetColumn) []FacetCount {
	counts := map[string]int{}
	for i, fc := range cols {
		if fc != nil {
			fc.countDocs(r.hits[i], r.nz[i], counts)
		}
	}
	top := make([]FacetCount, 0, len(counts))
	for v, n := range counts {
		top = append(top, FacetCount{Value: v, Count: n})
	}
	return top
}

// countPerTerm tries terms from the most frequent down and stops when the
// next holds fewer documents than the last value shown. The count stays
// exact, and a broad query counts a few hundred of a thousand package
// names. Grouped facets need every version, so they are not cut short.
func (r *run) countPerTerm(cols []*facetColumn, spec facetSpec) []FacetCount {
	df := map[string]int{}
	for _, fc := range cols {
		if fc != nil {
			for ord, term := range fc.terms {
				df[term] += fc.df[ord]
			}
		}
	}
	top := []FacetCount{}
	for _, t := range byFrequency(df) {
		if !spec.group && len(top) == spec.size && t.Count < top[len(top)-1].Count {
			break
		}
		n := 0
		for i, fc := range cols {
			if fc != nil {
				n += fc.countTerm(t.Value, r.hits[i], r.nz[i])
			}
		}
		if n > 0 {
			top = append(top, FacetCount{Value: t.Value, Count: n})
			if !spec.group {
				top = sortCounts(top, spec.size)
			}
		}
	}
	return top
}

// byFrequency lists the terms with their document counts, most frequent
// first.
func byFrequency(df map[string]int) []FacetCount {
	terms := make([]FacetCount, 0, len(df))
	for t, n := range df {
		terms = append(terms, FacetCount{Value: t, Count: n})
	}
	return sortCounts(terms, len(terms))
}

// sortCounts orders counts most common first, then by value, and keeps
// the first size.
func sortCounts(counts []FacetCount, size int) []FacetCount {
	slices.SortFunc(counts, func(a, b FacetCount) int {
		return cmp.Or(b.Count-a.Count, strings.Compare(a.Value, b.Value))
	})
	return counts[:min(len(counts), size)]
}

// quoteValue writes a filter value so that Parse reads it back unchanged.
func quoteValue(v string) string {
	if !strings.ContainsAny(v, " \t\r\n\f\v\"") {
		return v
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
}

// groupCounts sums versions into major.minor buckets.
func groupCounts(counts []FacetCount) []FacetCount {
	sums := map[string]int{}
	for _, c := range counts {
		sums[majorMinor(c.Value)] += c.Count
	}
	out := make([]FacetCount, 0, len(sums))
	for v, n := range sums {
		out = append(out, FacetCount{Value: v, Count: n})
	}
	return out
}
