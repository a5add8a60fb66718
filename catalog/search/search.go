package search

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
)

// Paging bounds. Results past MaxResultWindow are not served: a person
// refines the query long before, and a deep page costs memory in bleve.
const (
	DefaultPerPage  = 20
	MaxPerPage      = 100
	MaxResultWindow = 10000
)

// Sort orders.
const (
	SortRelevance = "relevance"
	SortUpdated   = "updated"
	SortName      = "name"
)

// Request is one search.
type Request struct {
	Query   string   `json:"q"`
	Sort    string   `json:"sort,omitempty"` // relevance (default), updated, name
	Page    int      `json:"page,omitempty"` // from 1
	PerPage int      `json:"per_page,omitempty"`
	Facets  []string `json:"facets,omitempty"` // empty: DefaultFacets
}

// Response is one page of results with facet counts over all of them.
type Response struct {
	Total   int                     `json:"total"`
	Results []Hit                   `json:"results"`
	Facets  map[string][]FacetCount `json:"facets"`
}

// Hit is enough of a record to render a result without another lookup.
type Hit struct {
	Repository  string    `json:"repository"`
	Digest      string    `json:"digest"`
	Tags        []string  `json:"tags,omitempty"`
	Kind        string    `json:"kind"`
	Title       string    `json:"title,omitempty"`
	Description string    `json:"description,omitempty"`
	Platforms   []string  `json:"platforms,omitempty"`
	Updated     time.Time `json:"updated"`
	Size        int64     `json:"size"`
	Python      string    `json:"python,omitempty"`
	CUDA        string    `json:"cuda,omitempty"`
	OS          string    `json:"os,omitempty"`
	Score       float64   `json:"score,omitempty"`
	// Highlights are HTML fragments, text escaped, matches in <mark>.
	Highlights map[string][]string `json:"highlights,omitempty"`
}

// highlightNames name highlighted fields as Hit's JSON does.
var highlightNames = map[string]string{fName: "repository", fTitle: "title", fDesc: "description"}

// storedFields are loaded for each hit.
var storedFields = []string{fName, fDigest, fTag, fKind, fTitle, fDesc, fPlatforms, fUpdated, fSize, fPython, fCUDA, fOSPretty}

// Search runs req. An unparseable query or a bad sort, facet or page is a
// *QueryError.
func (ix *Index) Search(ctx context.Context, req Request) (*Response, error) {
	sr, err := plan(req)
	if err != nil {
		return nil, err
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if err := ix.compile(sr, req); err != nil {
		return nil, err
	}
	res, err := ix.bi.SearchInContext(ctx, sr.SearchRequest)
	if err != nil {
		return nil, err
	}
	return &Response{Total: int(res.Total), Results: hits(res.Hits), Facets: facetCounts(res.Facets)}, nil
}

// searchPlan is a bleve request being assembled, and what the query asks.
type searchPlan struct {
	*bleve.SearchRequest
	q       *Query
	scored  bool
	sortKey string
}

// plan checks everything in req that does not need the index.
func plan(req Request) (*searchPlan, error) {
	q, err := Parse(req.Query)
	if err != nil {
		return nil, err
	}
	page, per := max(req.Page, 1), req.PerPage
	if per <= 0 {
		per = DefaultPerPage
	}
	per = min(per, MaxPerPage)
	if (page-1)*per >= MaxResultWindow {
		return nil, errorf(-1, "page %d is past the first %d results; refine the query", page, MaxResultWindow)
	}
	sortKey := req.Sort
	if sortKey == "" {
		sortKey = SortRelevance
	}
	if !slices.Contains([]string{SortRelevance, SortUpdated, SortName}, sortKey) {
		return nil, errorf(-1, "unknown sort %q; known: %s, %s, %s", req.Sort, SortName, SortRelevance, SortUpdated)
	}
	sr := bleve.NewSearchRequestOptions(nil, per, (page-1)*per, false)
	sr.Fields = storedFields
	if err := addFacets(sr, req.Facets); err != nil {
		return nil, err
	}
	return &searchPlan{SearchRequest: sr, q: q, sortKey: sortKey, scored: sortKey == SortRelevance && hasText(q)}, nil
}

func hasText(q *Query) bool {
	return slices.ContainsFunc(q.Terms, func(t Term) bool { return t.Filter == "" && !t.Negated })
}

// compile builds the bleve query. Only positive free text is scored;
// without it bleve skips scoring altogether, which lets it intersect
// filters as bitmaps.
func (ix *Index) compile(p *searchPlan, req Request) error {
	var text, filters, not []query.Query
	for _, t := range p.q.Terms {
		q, err := t.clause.query(ix)
		if err != nil {
			return err
		}
		switch {
		case t.Negated:
			not = append(not, q)
		case t.Filter == "":
			text = append(text, q)
		default:
			filters = append(filters, q)
		}
	}
	p.Query = combine(text, filters, not, p.scored)
	p.sort()
	if p.scored {
		p.Highlight = bleve.NewHighlightWithStyle("html")
		p.Highlight.Fields = []string{fName, fTitle, fDesc}
	} else {
		p.Score = bleve.ScoreNone
	}
	return nil
}

// combine joins the clauses. Filters do not add to the score: when text
// is scored they become the boolean query's filter.
func combine(text, filters, not []query.Query, scored bool) query.Query {
	b := query.NewBooleanQuery(nil, nil, not)
	switch {
	case scored && len(filters) > 0:
		b.AddMust(text...)
		b.AddFilter(query.NewConjunctionQuery(filters))
	case len(text)+len(filters) > 0:
		b.AddMust(append(text, filters...)...)
	case len(not) == 0:
		return query.NewMatchAllQuery()
	}
	return b
}

// sort orders the results; the document ID breaks ties so that pages
// neither repeat nor skip a record.
func (p *searchPlan) sort() {
	switch {
	case p.sortKey == SortName:
		p.SortBy([]string{fRepo, "-" + fUpdated, "_id"})
	case p.scored:
		p.SortBy([]string{"-_score", "-" + fUpdated, "_id"})
	default:
		p.SortBy([]string{"-" + fUpdated, "_id"})
	}
}

func hits(dms bsearch.DocumentMatchCollection) []Hit {
	out := make([]Hit, 0, len(dms))
	for _, dm := range dms {
		f := dm.Fields
		h := Hit{
			Repository: str(f[fName]), Digest: str(f[fDigest]), Tags: strs(f[fTag]), Kind: str(f[fKind]),
			Title: str(f[fTitle]), Description: str(f[fDesc]), Platforms: strs(f[fPlatforms]),
			Python: str(f[fPython]), CUDA: str(f[fCUDA]), OS: str(f[fOSPretty]), Score: dm.Score,
		}
		if n, ok := f[fSize].(float64); ok {
			h.Size = int64(n)
		}
		h.Updated, _ = time.Parse(time.RFC3339, str(f[fUpdated]))
		for field, frags := range dm.Fragments {
			if h.Highlights == nil {
				h.Highlights = map[string][]string{}
			}
			h.Highlights[highlightNames[field]] = frags
		}
		out = append(out, h)
	}
	return out
}

// str and strs read stored fields, which bleve returns as a value when
// there is one and as a slice when there are several.
func str(v interface{}) string {
	s, _ := v.(string)
	return s
}

func strs(v interface{}) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []interface{}:
		out := make([]string, 0, len(v))
		for _, e := range v {
			out = append(out, fmt.Sprint(e))
		}
		return out
	}
	return nil
}

// quoteValue writes a filter value so that Parse reads it back unchanged.
func quoteValue(v string) string {
	if !strings.ContainsAny(v, " \t\r\n\f\v\"") {
		return v
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
}
