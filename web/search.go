package web

import (
	"net/http"
	"strings"

	"github.com/oyster-registry/oyster/api"
	"github.com/oyster-registry/oyster/catalog/search"
)

// searchRequest reads the catalog search parameters of a request, its
// page within sizes.
// The request is limited to what the caller may see.
func searchRequest(r *http.Request, sizes pageSizes) (search.Request, error) {
	q := r.URL.Query()
	req := search.Request{Query: q.Get("q"), Sort: q.Get("sort"), Visible: viewerOf(r).mayPull}
	p, err := readPage(r, sizes)
	if err != nil {
		return req, err
	}
	req.Page, req.PerPage = p.number, p.size
	if f := q.Get("facets"); f != "" {
		req.Facets = strings.Split(f, ",")
	}
	return req, nil
}

func (a *API) search(w http.ResponseWriter, r *http.Request) error {
	req, err := searchRequest(r, searchPages)
	if err != nil {
		return err
	}
	resp, err := a.Search.Search(r.Context(), req)
	if err != nil {
		return err
	}
	return respond(w, searchJSON(resp, viewerOf(r).private))
}

// dockerSearch answers GET /v1/search?q=&n= so that `docker search
// HOST/term` lists matching repositories (one line per repository).
func (a *API) dockerSearch(w http.ResponseWriter, r *http.Request) error {
	term := r.URL.Query().Get("q")
	n, err := intParam(r.URL.Query().Get("n"), "n", 25, 1, search.MaxPerPage)
	if err != nil {
		return err
	}
	resp, err := a.Search.Search(r.Context(), search.Request{Query: term, PerPage: n, OnePerRepository: true, Visible: viewerOf(r).mayPull})
	if err != nil {
		return err
	}
	out := api.DockerSearchResults{Query: term, Results: make([]api.DockerSearchResult, 0, len(resp.Results))}
	for _, h := range resp.Results {
		desc := h.Title
		if h.Description != "" {
			desc = h.Description
		}
		out.Results = append(out.Results, api.DockerSearchResult{Name: h.Repository, Description: desc})
	}
	out.NumResults = len(out.Results)
	return respond(w, out)
}
