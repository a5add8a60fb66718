package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/oyster-registry/oyster/config"
	"github.com/oyster-registry/oyster/server"
)

// The referrers index is derived data: deleting it and restarting rebuilds
// it from the manifests in storage.
func TestReferrersIndexRebuiltWhenMissing(t *testing.T) {
	// The first server stays open (it is closed at cleanup), so the
	// catalog, whose store it holds, is off for this test.
	ts, cfg := startServer(t, func(c *config.Config) { c.Catalog.Enabled = false })
	subject := imageManifest(t, ts.URL, "rebuild/repo")
	if r := do(t, http.MethodPut, ts.URL+"/v2/rebuild/repo/manifests/v1", subject, "Content-Type", "application/vnd.oci.image.manifest.v1+json"); r.status != 201 {
		t.Fatalf("push subject: %d %s", r.status, r.body)
	}
	referrer, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"artifactType": "application/spdx+json",
		"config":       map[string]any{"mediaType": "application/vnd.oci.empty.v1+json", "digest": pushBlob(t, ts.URL, "rebuild/repo", []byte("{}")), "size": 2},
		"layers":       []any{},
		"subject":      map[string]any{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digestOf(subject), "size": len(subject)},
	})
	r := do(t, http.MethodPut, ts.URL+"/v2/rebuild/repo/manifests/"+digestOf(referrer), referrer, "Content-Type", "application/vnd.oci.image.manifest.v1+json")
	if r.status != 201 || r.header.Get("OCI-Subject") != digestOf(subject) {
		t.Fatalf("push referrer: %d OCI-Subject=%q", r.status, r.header.Get("OCI-Subject"))
	}
	ts.Close()

	if err := os.Remove(filepath.Join(cfg.Data, "referrers.db")); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(context.Background(), cfg, server.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ts2 := httptest.NewServer(srv.Handler())
	defer ts2.Close()
	r = do(t, http.MethodGet, ts2.URL+"/v2/rebuild/repo/referrers/"+digestOf(subject)+"?artifactType=application/spdx%2Bjson", nil)
	var index struct {
		Manifests []struct{ Digest, ArtifactType string } `json:"manifests"`
	}
	if err := json.Unmarshal(r.body, &index); err != nil {
		t.Fatal(err)
	}
	if r.status != 200 || len(index.Manifests) != 1 || index.Manifests[0].Digest != digestOf(referrer) ||
		r.header.Get("OCI-Filters-Applied") != "artifactType" {
		t.Fatalf("after rebuild: %d %s %v", r.status, r.body, r.header)
	}
}
