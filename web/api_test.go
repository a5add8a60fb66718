package web

import (
	"encoding/json"
	"net/http"

	"testing"

	"github.com/oyster-registry/oyster/api"
)

// getJSON fetches path from the site and decodes the JSON answer into v.
func getJSON(t *testing.T, s *uiSite, path string, status int, v any) {
	t.Helper()
	code, body, hdr := s.get(t, path)
	if code != status {
		t.Fatalf("GET %s: %d, want %d\n%s", path, code, status, body)
	}
	if ct := hdr.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("GET %s: Content-Type %q", path, ct)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, body)
	}
}

func TestAPIRepositories(t *testing.T) {
	s := newUISite(t, uiFixtures()...)
	var list struct {
		Total        int
		Repositories []api.RepositorySummary
	}
	getJSON(t, s, "/api/v1/repositories?per_page=2&page=2", http.StatusOK, &list)
	if list.Total != 5 || len(list.Repositories) != 2 || list.Repositories[0].Name != "lab/sci" {
		t.Fatalf("second page of two: %+v", list)
	}
	var detail api.RepositoryDetail
	getJSON(t, s, "/api/v1/repositories/lab/sci", http.StatusOK, &detail)
	if len(detail.Tags) != 2 || detail.Untagged != 1 || !detail.Tags[0].Newest || detail.Tags[0].Digest != sciDigest {
		t.Fatalf("lab/sci: %+v", detail)
	}
	var e api.ErrorBody
	getJSON(t, s, "/api/v1/repositories/no/such", http.StatusNotFound, &e)
	if e.Error.Code != "NOT_FOUND" {
		t.Fatalf("unknown repository: %+v", e)
	}
	getJSON(t, s, "/api/v1/repositories?per_page=0", http.StatusBadRequest, &e)
}

func TestAPIImage(t *testing.T) {
	s := newUISite(t, uiFixtures()...)
	var byTag, byDigest api.Image
	getJSON(t, s, "/api/v1/images/lab/sci:latest", http.StatusOK, &byTag)
	getJSON(t, s, "/api/v1/images/lab/sci@"+sciDigest, http.StatusOK, &byDigest)
	if byTag.Digest != sciDigest || byDigest.OCI.Title != "Scientific Python" || len(byDigest.Packages) != 3 ||
		len(byDigest.Referrers) != 1 || byDigest.Config.User != "scientist" {
		t.Fatalf("image record: %+v", byDigest)
	}
	var base api.Image
	getJSON(t, s, "/api/v1/images/lab/base:12", http.StatusOK, &base)
	if len(base.Derived) != 1 || base.Derived[0].Repository != "lab/sci" {
		t.Fatalf("derived images of the base: %+v", base.Derived)
	}
	var e api.ErrorBody
	getJSON(t, s, "/api/v1/images/lab/sci:nope", http.StatusNotFound, &e)
	getJSON(t, s, "/api/v1/images/lab/sci@sha256:0000", http.StatusNotFound, &e)
}

func TestAPIPackages(t *testing.T) {
	s := newUISite(t, uiFixtures()...)
	var out struct {
		Total    int
		Packages []struct{ Name, Ecosystem string }
	}
	getJSON(t, s, "/api/v1/images/lab/sci:1/packages?q=PY&ecosystem=python", http.StatusOK, &out)
	if out.Total != 2 || out.Packages[0].Name != "numpy" || out.Packages[1].Name != "scipy" {
		t.Fatalf("python packages matching py: %+v", out)
	}
	getJSON(t, s, "/api/v1/images/lab/sci:1/packages?ecosystem=deb", http.StatusOK, &out)
	if out.Total != 1 || out.Packages[0].Name != "libc6" {
		t.Fatalf("deb packages: %+v", out)
	}
}

func TestAPISearch(t *testing.T) {
	s := newUISite(t, uiFixtures()...)
	var resp struct {
		Total   int
		Results []struct{ Repository, Digest string }
		Facets  map[string][]struct{ Value string }
	}
	getJSON(t, s, "/api/v1/search?q=pkg:numpy>=1.26&facets=arch,os", http.StatusOK, &resp)
	if resp.Total != 1 || resp.Results[0].Digest != sciDigest || len(resp.Facets["os"]) != 1 {
		t.Fatalf("pkg:numpy>=1.26: %+v", resp)
	}
	var e api.ErrorBody
	getJSON(t, s, "/api/v1/search?q=pgk:numpy", http.StatusBadRequest, &e)
	if e.Error.Code != "INVALID_QUERY" || e.Error.Message == "" {
		t.Fatalf("bad filter: %+v", e)
	}
	getJSON(t, s, "/api/v1/search?per_page=1000", http.StatusBadRequest, &e)
}

func TestDockerSearch(t *testing.T) {
	s := newUISite(t, uiFixtures()...)
	var out struct {
		Query      string
		NumResults int `json:"num_results"`
		Results    []api.DockerSearchResult
	}
	getJSON(t, s, "/v1/search?q=lab&n=25", http.StatusOK, &out)
	if out.Query != "lab" || out.NumResults != 2 || out.Results[0].Name == out.Results[1].Name {
		t.Fatalf("docker search: %+v", out)
	}
	var e api.ErrorBody
	getJSON(t, s, "/v1/search?q=lab&n=500", http.StatusBadRequest, &e)
}
