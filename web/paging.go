package web

import (
	"net/http"
	"strconv"

	"github.com/oyster-registry/oyster/api"
	"github.com/oyster-registry/oyster/catalog/search"
)

// maxPage bounds the page parameter of every list. With per_page at most
// 1000, (page-1)*per_page stays far inside an int; and nobody reads
// ten thousand pages of anything.
const maxPage = 10000

// pageSizes are a list's default and largest per_page, and how far into
// its results paging may reach (0: to maxPage).
type pageSizes struct {
	def, max int
	window   int
}

// The page sizes of the lists (documented in openapi.json).
var (
	repositoryPages = pageSizes{def: 50, max: 500}
	packagePages    = pageSizes{def: 100, max: 1000}
	searchPages     = pageSizes{def: search.DefaultPerPage, max: search.MaxPerPage, window: search.MaxResultWindow}
)

// page is one page of a list: its 1-based number and its size.
type page struct{ number, size int }

// readPage reads page and per_page. Values out of bounds are refused with
// INVALID_PAGING rather than clamped, so that a client learns its mistake
// instead of reading a page it did not ask for.
func readPage(r *http.Request, sizes pageSizes) (page, error) {
	q := r.URL.Query()
	number, err := intParam(q.Get("page"), "page", 1, 1, maxPage)
	if err != nil {
		return page{}, err
	}
	size, err := intParam(q.Get("per_page"), "per_page", sizes.def, 1, sizes.max)
	if err != nil {
		return page{}, err
	}
	if sizes.window > 0 && (number-1)*size >= sizes.window {
		return page{}, errorf(api.CodeInvalidPaging, "page %d is past the first %d results; refine the query", number, sizes.window)
	}
	return page{number, size}, nil
}

// intParam reads an integer query parameter within [lo, hi]; empty is def.
func intParam(v, name string, def, lo, hi int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, errorf(api.CodeInvalidPaging, "%s must be an integer from %d to %d", name, lo, hi)
	}
	return n, nil
}

// window is p's part of items; past the end it is empty, never nil.
func window[T any](items []T, p page) []T {
	start := (p.number - 1) * p.size // bounded by readPage: cannot overflow
	if start >= len(items) {
		return []T{}
	}
	return items[start:min(start+p.size, len(items))]
}
