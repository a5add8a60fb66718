package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/oyster-registry/oyster/config"
	"github.com/oyster-registry/oyster/server"
)

func TestHealthAndMetrics(t *testing.T) {
	ts, _ := startServer(t, nil)
	if r := do(t, http.MethodGet, ts.URL+"/healthz", nil); r.status != 200 || !strings.Contains(string(r.body), `"ok"`) {
		t.Fatalf("healthz: %d %s", r.status, r.body)
	}
	m := imageManifest(t, ts.URL, "ops/app")
	if r := do(t, http.MethodPut, ts.URL+"/v2/ops/app/manifests/v1", m, "Content-Type", "application/vnd.oci.image.manifest.v1+json"); r.status != 201 {
		t.Fatalf("push: %d", r.status)
	}
	want := []string{
		`oyster_http_requests_total{code="201",method="PUT",surface="v2"}`,
		`oyster_registry_events_total{action="manifest.put"}`,
		`oyster_catalog_tasks_total{kind="manifest",result="ok"}`,
		"registry_storage_action_seconds", // distribution's own
	}
	var body string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		body = string(do(t, http.MethodGet, ts.URL+"/metrics", nil).body)
		if containsAll(body, want) {
			return
		}
	}
	t.Fatalf("metrics lack some of %v:\n%s", want, body)
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

func TestBadHubQueryStopsStartUp(t *testing.T) {
	cfg := config.Default()
	cfg.Data = t.TempDir()
	cfg.Hub.Query = "lable:x=y"
	_, err := server.New(context.Background(), cfg, server.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil || !strings.Contains(err.Error(), "hub.query") || !strings.Contains(err.Error(), "unknown filter") {
		t.Fatalf("got %v", err)
	}
}

// _catalog pages with n and last and a Link header (apptainer search
// oras:// walks it); n above the maximum is refused.
func TestCatalogPagination(t *testing.T) {
	ts, _ := startServer(t, func(c *config.Config) { c.Catalog.Enabled = false })
	for _, repo := range []string{"a/one", "b/two", "c/three"} {
		m := imageManifest(t, ts.URL, repo)
		if r := do(t, http.MethodPut, ts.URL+"/v2/"+repo+"/manifests/v1", m, "Content-Type", "application/vnd.oci.image.manifest.v1+json"); r.status != 201 {
			t.Fatalf("push %s: %d", repo, r.status)
		}
	}
	r := do(t, http.MethodGet, ts.URL+"/v2/_catalog?n=2", nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"a/one","b/two"`) ||
		!strings.Contains(r.header.Get("Link"), `last=b%2Ftwo`) || !strings.Contains(r.header.Get("Link"), `rel="next"`) {
		t.Fatalf("first page: %d %s Link=%q", r.status, r.body, r.header.Get("Link"))
	}
	r = do(t, http.MethodGet, ts.URL+"/v2/_catalog?n=2&last=b/two", nil)
	if r.status != 200 || !strings.Contains(string(r.body), `["c/three"]`) || r.header.Get("Link") != "" {
		t.Fatalf("last page: %d %s Link=%q", r.status, r.body, r.header.Get("Link"))
	}
	r = do(t, http.MethodGet, ts.URL+"/v2/_catalog?n=100000", nil)
	if r.status != 400 || errorCode(t, r) != "PAGINATION_NUMBER_INVALID" {
		t.Fatalf("n over the maximum: %d %s", r.status, r.body)
	}
	r = do(t, http.MethodGet, ts.URL+"/v2/a/one/tags/list", nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"tags":["v1"]`) {
		t.Fatalf("tags/list: %d %s", r.status, r.body)
	}
}

// A push by digest may name tags as ?tag= parameters (distribution-spec
// 1.1.1); a manifest that is refused gets none of them.
func TestManifestTagParameters(t *testing.T) {
	ts, _ := startServer(t, nil)
	m := imageManifest(t, ts.URL, "tagparam/app")
	mt := "application/vnd.oci.image.manifest.v1+json"
	r := do(t, http.MethodPut, ts.URL+"/v2/tagparam/app/manifests/"+digestOf(m)+"?tag=v1&tag=stable", m, "Content-Type", mt)
	if r.status != 201 || r.header.Get("OCI-Tag") != "v1, stable" || r.header.Get("Docker-Content-Digest") != digestOf(m) {
		t.Fatalf("push with tags: %d %v %s", r.status, r.header, r.body)
	}
	wrong := digestOf([]byte("other"))
	r = do(t, http.MethodPut, ts.URL+"/v2/tagparam/app/manifests/"+wrong+"?tag=broken", m, "Content-Type", mt)
	if r.status != 400 || errorCode(t, r) != "DIGEST_INVALID" {
		t.Fatalf("mismatched digest with a tag: %d %s", r.status, r.body)
	}
	r = do(t, http.MethodPut, ts.URL+"/v2/tagparam/app/manifests/"+digestOf(m)+"?tag=-bad", m, "Content-Type", mt)
	if r.status != 400 || errorCode(t, r) != "TAG_INVALID" {
		t.Fatalf("invalid tag parameter: %d %s", r.status, r.body)
	}
	r = do(t, http.MethodGet, ts.URL+"/v2/tagparam/app/tags/list", nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"tags":["stable","v1"]`) {
		t.Fatalf("tags: %s", r.body)
	}
}
