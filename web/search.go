package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/oyster-registry/oyster/catalog/search"
)

// searchRequest reads the catalog search parameters of a request.
func searchRequest(r *http.Request) (search.Request, error) {
	q := r.URL.Query()
	req := search.Request{Query: q.Get("q"), Sort: q.Get("sort")}
	page, per, err := paging(r, 20, 100)
	if err != nil {
		return req, err
	}
	req.Page, req.PerPage = page, per
	if f := q.Get("facets"); f != "" {
		req.Facets = strings.Split(f, ",")
	}
	return req, nil
}

func (a *API) search(w http.ResponseWriter, r *http.Request) {
	req, err := searchRequest(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "PAGINATION_INVALID", err.Error())
		return
	}
	resp, err := a.Search.Search(r.Context(), req)
	if a.searchFailed(w, err) {
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// searchFailed answers a failed search: 400 for a query the person can fix.
func (a *API) searchFailed(w http.ResponseWriter, err error) bool {
	if err == nil {
		return false
	}
	var qe *search.QueryError
	if errors.As(err, &qe) {
		writeError(w, http.StatusBadRequest, "QUERY_INVALID", qe.Msg)
	} else {
		a.internal(w, err)
	}
	return true
}

// dockerSearchResult is one result in the shape `docker search` reads.
type dockerSearchResult struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	StarCount   int    `json:"star_count"`
	IsOfficial  bool   `json:"is_official"`
	IsAutomated bool   `json:"is_automated"`
}

// dockerSearch answers GET /v1/search?q=&n= so that `docker search
// HOST/term` lists matching repositories (one line per repository).
func (a *API) dockerSearch(w http.ResponseWriter, r *http.Request) {
	term := r.URL.Query().Get("q")
	n := 25
	if v := r.URL.Query().Get("n"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > 100 {
			writeError(w, http.StatusBadRequest, "INVALID_LIMIT", "n must be between 1 and 100")
			return
		}
	}
	resp, err := a.Search.Search(r.Context(), search.Request{Query: term, PerPage: 100})
	if a.searchFailed(w, err) {
		return
	}
	results := []dockerSearchResult{}
	seen := map[string]bool{}
	for _, h := range resp.Results {
		if seen[h.Repository] || len(results) == n {
			continue
		}
		seen[h.Repository] = true
		desc := h.Title
		if h.Description != "" {
			desc = h.Description
		}
		results = append(results, dockerSearchResult{Name: h.Repository, Description: desc})
	}
	writeJSON(w, http.StatusOK, map[string]any{"query": term, "num_results": len(results), "results": results})
}
