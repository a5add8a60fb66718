package web

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/oyster-registry/oyster/api"
)

// pagingBounds are the page and per_page bounds openapi.json documents for
// path, or ok false when path takes no paging.
func pagingBounds(t *testing.T, doc openAPIDocument, path string) (maxPage, maxPer int, ok bool) {
	t.Helper()
	for _, p := range doc.Paths[path]["get"].Parameters {
		if p.Name != "page" && p.Name != "per_page" {
			continue
		}
		if p.Schema.Minimum == nil || *p.Schema.Minimum != 1 || p.Schema.Maximum == nil {
			t.Fatalf("%s: %s is documented without the bounds 1 to a maximum", path, p.Name)
		}
		if p.Name == "page" {
			maxPage = *p.Schema.Maximum
		} else {
			maxPer = *p.Schema.Maximum
		}
	}
	if (maxPage == 0) != (maxPer == 0) {
		t.Fatalf("%s documents page or per_page without the other", path)
	}
	return maxPage, maxPer, maxPage > 0
}

// withQuery appends query to a sample path that may hold a query already.
func withQuery(path, query string) string {
	if strings.Contains(path, "?") {
		return path + "&" + query
	}
	return path + "?" + query
}

// TestPagingBounds asks every paged endpoint, as openapi.json lists them,
// for pages that overflow, are negative, are not numbers, or are just past
// the documented bounds: each is a 400 INVALID_PAGING, and the documented
// bounds themselves are served.
func TestPagingBounds(t *testing.T) {
	s := newUISite(t, uiFixtures()...)
	doc := fetchOpenAPI(t, s)
	paged := 0
	for _, rt := range routes(&API{}, &Hub{}) {
		maxPage, maxPer, ok := pagingBounds(t, doc, rt.path)
		if !ok {
			continue
		}
		paged++
		path := samplePath(rt.path)
		for _, bad := range []string{
			"page=9223372036854775807", "page=9223372036854775808", "page=99999999999999999999", "page=-9223372036854775808",
			"page=-1", "page=0", "page=abc", "page=1.5", "page=1e3", "page=%20", "page=" + strconv.Itoa(maxPage+1),
			"per_page=9223372036854775807", "per_page=-1", "per_page=0", "per_page=x", "per_page=" + strconv.Itoa(maxPer+1),
			"page=9223372036854775807&per_page=9223372036854775807",
		} {
			var e api.ErrorBody
			getJSON(t, s, withQuery(path, bad), http.StatusBadRequest, &e)
			if e.Error.Code != api.CodeInvalidPaging || !strings.Contains(e.Error.Message, strings.Split(bad, "=")[0]) {
				t.Errorf("%s?%s: %+v, want INVALID_PAGING naming the parameter", path, bad, e)
			}
		}
		for _, good := range []string{"page=1&per_page=" + strconv.Itoa(maxPer), "page=" + strconv.Itoa(maxPage) + "&per_page=1"} {
			if code, body, _ := s.get(t, withQuery(path, good)); code != http.StatusOK {
				t.Errorf("%s?%s: %d %s", path, good, code, body)
			}
		}
	}
	if paged < 3 {
		t.Fatalf("%d paged endpoints in openapi.json; search, repositories and packages are", paged)
	}
}

func TestPagingPastTheResultWindow(t *testing.T) {
	s := newUISite(t, uiFixtures()...)
	var e api.ErrorBody
	getJSON(t, s, "/api/v1/search?page=101&per_page=100", http.StatusBadRequest, &e)
	if e.Error.Code != api.CodeInvalidPaging || !strings.Contains(e.Error.Message, "first 10000 results") {
		t.Errorf("page past the window: %+v", e)
	}
	var page api.SearchResults
	getJSON(t, s, "/api/v1/search?page=100&per_page=100", http.StatusOK, &page)
	if page.Total != 5 || len(page.Results) != 0 {
		t.Errorf("last page of the window, past the results: %+v", page)
	}
}

func TestPagingOnTheUISearchPage(t *testing.T) {
	s := newUISite(t, uiFixtures()...)
	for _, bad := range []string{"page=9223372036854775807", "page=-1", "page=abc", "page=501", "per_page=21"} {
		body := s.page(t, "/search?q=lab&"+bad, http.StatusBadRequest)
		mustContain(t, body, `role="alert"`, strings.Split(bad, "=")[0]+" ")
	}
	s.page(t, "/search?q=lab&page=500", http.StatusOK)
}

func TestDockerSearchLimit(t *testing.T) {
	s := newUISite(t, uiFixtures()...)
	for _, bad := range []string{"9223372036854775807", "-1", "0", "101", "ten"} {
		var e api.ErrorBody
		getJSON(t, s, "/v1/search?q=lab&n="+bad, http.StatusBadRequest, &e)
		if e.Error.Code != api.CodeInvalidPaging || !strings.Contains(e.Error.Message, "n must be") {
			t.Errorf("n=%s: %+v", bad, e)
		}
	}
	var out api.DockerSearchResults
	getJSON(t, s, "/v1/search?q=lab&n=1", http.StatusOK, &out)
	if out.NumResults != 1 || len(out.Results) != 1 {
		t.Errorf("n=1: %+v", out)
	}
}

func TestWindow(t *testing.T) {
	items := []int{1, 2, 3, 4, 5}
	for _, tc := range []struct {
		p    page
		want []int
	}{{page{1, 2}, []int{1, 2}}, {page{3, 2}, []int{5}}, {page{4, 2}, []int{}}, {page{maxPage, 1000}, []int{}}} {
		got := window(items, tc.p)
		if got == nil || len(got) != len(tc.want) || (len(got) > 0 && got[0] != tc.want[0]) {
			t.Errorf("window(%v) = %v, want %v", tc.p, got, tc.want)
		}
	}
}
