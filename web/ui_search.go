package web

import (
	"html/template"
	"net/http"
	"strings"

	"github.com/oyster-registry/oyster/catalog/search"
)

// uiSearchPages: a page of results shows 20; the UI offers no per_page.
var uiSearchPages = pageSizes{def: 20, max: 20, window: search.MaxResultWindow}

// uiFacets are the facets the results page shows, in this order.
var uiFacets = []struct{ name, label string }{
	{"type", "Type"}, {"arch", "Architecture"}, {"os", "OS"}, {"namespace", "Namespace"},
	{"python", "Python"}, {"cuda", "CUDA"}, {"packages", "Packages"},
}

// searchView is one page of results with the facets that narrow them.
type searchView struct {
	frame
	Total  int
	Hits   []hitView
	Facets []facetGroup
	Pager  pager
	Error  string // what is wrong with the query, for the person who typed it
}

// hitView is one result; the *Mark fields hold sanitised highlights.
type hitView struct {
	search.Hit
	URL       string
	NameMark  template.HTML
	TitleMark template.HTML
	DescMark  template.HTML
	Private   bool // not everyone may pull it
}

func newHitView(h search.Hit, private bool) hitView {
	v := hitView{Hit: h, URL: imageURL(h.Repository, h.Digest), Private: private}
	first := func(field string) template.HTML {
		if frags := h.Highlights[field]; len(frags) > 0 {
			return marked(frags[0])
		}
		return ""
	}
	v.NameMark, v.TitleMark, v.DescMark = first("repository"), first("title"), first("description")
	return v
}

type facetGroup struct {
	Label  string
	Values []facetValue
}

// facetValue links to the query narrowed to one value, or, when the query
// already holds that filter, to the query without it.
type facetValue struct {
	Value  string
	Count  int
	URL    string
	Active bool
}

// pager links to the neighbouring pages; a zero pager means one page.
type pager struct {
	Prev, Next string
	Links      []pageLink
}

type pageLink struct {
	N       int
	URL     string
	Current bool
	Gap     bool // pages left out before this one
}

// search serves the whole results page; searchResults serves only the
// results region, which the page's script swaps in as the person types.
func (u *ui) search(w http.ResponseWriter, r *http.Request) {
	if v, status, err := u.runSearch(r); err != nil {
		u.fail(w, r, err)
	} else {
		u.render(w, status, "search", "layout", v)
	}
}

func (u *ui) searchResults(w http.ResponseWriter, r *http.Request) {
	if v, status, err := u.runSearch(r); err != nil {
		u.fail(w, r, err)
	} else {
		u.render(w, status, "search", "results", v)
	}
}

// runSearch answers a query; a query the person can fix is not an error
// but a 400 page that says what to fix.
func (u *ui) runSearch(r *http.Request) (searchView, int, error) {
	q := r.URL.Query()
	v := searchView{frame: frame{Title: "All images", Query: q.Get("q"), Sort: q.Get("sort"), Page: "search", Account: u.accountOf(r)}}
	if strings.TrimSpace(v.Query) != "" {
		v.Title = v.Query
	}
	req, err := searchRequest(r, uiSearchPages)
	req.PerPage = uiSearchPages.def // the pager's links assume it
	for _, f := range uiFacets {
		req.Facets = append(req.Facets, f.name)
	}
	var resp *search.Response
	if err == nil {
		resp, err = u.api.Search.Search(r.Context(), req)
	}
	if e := apiError(err); err != nil && e.Code.HTTPStatus() == http.StatusBadRequest {
		v.Error = e.Message
		return v, http.StatusBadRequest, nil
	} else if err != nil {
		return v, 0, err
	}
	v.Total = resp.Total
	for _, h := range resp.Results {
		v.Hits = append(v.Hits, newHitView(h, viewerOf(r).private(h.Repository)))
	}
	v.Facets = facetGroups(v.Query, v.Sort, resp.Facets)
	v.Pager = newPager(v.Query, v.Sort, req.Page, resp.Total)
	return v, http.StatusOK, nil
}

func facetGroups(q, sort string, facets map[string][]search.FacetCount) []facetGroup {
	var out []facetGroup
	for _, f := range uiFacets {
		g := facetGroup{Label: f.label}
		for _, c := range facets[f.name] {
			nq, active := toggleTerm(q, c.Filter)
			g.Values = append(g.Values, facetValue{Value: c.Value, Count: c.Count, URL: searchURL(nq, sort, 1), Active: active})
		}
		if len(g.Values) > 0 {
			out = append(out, g)
		}
	}
	return out
}

// toggleTerm appends term to the query q, or removes it when q holds it
// as a whole term already; it reports whether q held it.
func toggleTerm(q, term string) (string, bool) {
	padded := " " + q + " "
	if i := strings.Index(padded, " "+term+" "); i >= 0 {
		return strings.TrimSpace(padded[:i] + padded[i+len(term)+1:]), true
	}
	return strings.TrimSpace(q + " " + term), false
}

// newPager links the first and last pages and two on either side of the
// current one. Results past search.MaxResultWindow are not served.
func newPager(q, sort string, page, total int) pager {
	last := (min(total, search.MaxResultWindow) + uiSearchPages.def - 1) / uiSearchPages.def
	if last <= 1 {
		return pager{}
	}
	var p pager
	if page > 1 {
		p.Prev = searchURL(q, sort, page-1)
	}
	if page < last {
		p.Next = searchURL(q, sort, page+1)
	}
	prev := 0
	for n := 1; n <= last; n++ {
		if n != 1 && n != last && (n < page-2 || n > page+2) {
			continue
		}
		p.Links = append(p.Links, pageLink{N: n, URL: searchURL(q, sort, n), Current: n == page, Gap: n > prev+1})
		prev = n
	}
	return p
}
