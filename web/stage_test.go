package web

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/catalogtest"
	"github.com/oyster-registry/oyster/catalog/stage"
)

func stageSite(t *testing.T) (http.Handler, *catalog.Record) {
	t.Helper()
	c := catalogtest.New(t)
	rec := &catalog.Record{Repository: "lab/sci", Digest: digest.FromString("sci"), Kind: "image", Tags: []string{"1"}, Updated: time.Now()}
	c.Put(t, rec, &catalog.Record{Repository: "lab/nb", Digest: digest.FromString("nb"), Kind: "image", Tags: []string{"1"}, Updated: time.Now()})
	p, err := stage.Open(filepath.Join(t.TempDir(), "stage.json"), c.Store, c.Search, stage.Config{Pins: []string{"lab/sci:1"}, HubWindow: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return New(Options{Store: c.Store, Search: c.Search, Stage: p}), rec
}

func do(h http.Handler, method, path, body string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// TestStageListETag: the list carries an ETag; asking with it gets 304
// until the list changes.
func TestStageListETag(t *testing.T) {
	h, rec := stageSite(t)
	w := do(h, "GET", "/api/v1/stage?cluster=hpc", "")
	etag := w.Header().Get("ETag")
	if w.Code != 200 || etag == "" || !strings.Contains(w.Body.String(), `"ref":"lab/sci@`+rec.Digest.String()) {
		t.Fatalf("list: %d %s %q", w.Code, w.Body, etag)
	}
	if w := do(h, "GET", "/api/v1/stage?cluster=hpc", "", "If-None-Match", etag); w.Code != http.StatusNotModified {
		t.Errorf("unchanged list with its ETag: %d", w.Code)
	}
	if w := do(h, "PUT", "/api/v1/stage/pins", `{"cluster":"hpc","ref":"lab/sci@`+rec.Digest.String()+`"}`); w.Code != 200 {
		t.Fatalf("pin: %d %s", w.Code, w.Body)
	}
	if w := do(h, "POST", "/api/v1/hub/selections", `{"ref":"registry.example:5000/lab/nb:1"}`); w.Code != 200 {
		t.Fatalf("hub selection: %d %s", w.Code, w.Body)
	}
	if w := do(h, "GET", "/api/v1/stage?cluster=hpc", "", "If-None-Match", etag); w.Code != 200 || !strings.Contains(w.Body.String(), `"reason":"hub"`) {
		t.Errorf("after a hub selection, with the old ETag: %d %s", w.Code, w.Body)
	}
	if w := do(h, "DELETE", "/api/v1/stage/pins", `{"cluster":"hpc","ref":"lab/sci@`+rec.Digest.String()+`"}`); w.Code != 200 {
		t.Fatalf("unpin: %d %s", w.Code, w.Body)
	}
	if w := do(h, "DELETE", "/api/v1/stage/pins", `{"cluster":"hpc","ref":"lab/sci@`+rec.Digest.String()+`"}`); w.Code != 404 {
		t.Errorf("second unpin: %d %s", w.Code, w.Body)
	}
}

// TestStageRefusesBadInput: every bad body gets a 4xx in the API's error
// shape and changes nothing.
func TestStageRefusesBadInput(t *testing.T) {
	h, _ := stageSite(t)
	for _, c := range []struct {
		method, path, body string
		status             int
	}{
		{"PUT", "/api/v1/stage/pins", `{"ref":"lab/none:1"}`, 404},
		{"PUT", "/api/v1/stage/pins", `{"ref":"lab/sci"}`, 400},
		{"PUT", "/api/v1/stage/pins", `{"ref":"lab/sci:1","extra":1}`, 400},
		{"PUT", "/api/v1/stage/pins", `{"ref":"lab/sci:1"} {}`, 400},
		{"POST", "/api/v1/hub/selections", `not json`, 400},
		{"PUT", "/api/v1/stagers/node-1", `{"node":"node-2"}`, 400},
		{"PUT", "/api/v1/stagers/bad%20node", `{"node":"bad node"}`, 400},
	} {
		w := do(h, c.method, c.path, c.body)
		if w.Code != c.status || !strings.Contains(w.Body.String(), `"code"`) {
			t.Errorf("%s %s %s: %d %s, want %d", c.method, c.path, c.body, w.Code, w.Body, c.status)
		}
	}
	if w := do(h, "GET", "/api/v1/stage/pins", ""); strings.TrimSpace(w.Body.String()) != "[]" {
		t.Errorf("pins after refusals: %s", w.Body)
	}
	if w := do(h, "GET", "/api/v1/stagers", ""); !strings.Contains(w.Body.String(), `"stagers":[]`) {
		t.Errorf("stagers after refusals: %s", w.Body)
	}
}

func TestStageInventory(t *testing.T) {
	h, rec := stageSite(t)
	body := `{"node":"node-1","cluster":"hpc","usage_bytes":10,"quota_bytes":100,"images":[{"repository":"lab/sci","refs":["lab/sci:1"],"digest":"` +
		rec.Digest.String() + `","formats":["sif"],"bytes":10,"last_used":"2026-01-01T00:00:00Z","pinned":true}],"reported":"0001-01-01T00:00:00Z"}`
	if w := do(h, "PUT", "/api/v1/stagers/node-1", body); w.Code != 200 {
		t.Fatalf("report: %d %s", w.Code, w.Body)
	}
	w := do(h, "GET", "/api/v1/stagers", "")
	b, _ := io.ReadAll(w.Body)
	if !strings.Contains(string(b), `"node":"node-1"`) || !strings.Contains(string(b), rec.Digest.String()) || strings.Contains(string(b), `"reported":"0001`) {
		t.Errorf("stagers: %s", b)
	}
}

// TestStagedUI: the image page shows the nodes holding the image, and the
// cluster view each node's cache.
func TestStagedUI(t *testing.T) {
	h, rec := stageSite(t)
	if w := do(h, "GET", "/image/lab/sci:1", ""); w.Code != 200 || strings.Contains(w.Body.String(), "Staged on compute nodes") {
		t.Fatalf("image page before any inventory: %d, staged section shown: %v", w.Code, strings.Contains(w.Body.String(), "Staged on"))
	}
	body := `{"node":"node-7","cluster":"gpu","usage_bytes":10,"quota_bytes":100,"images":[{"repository":"lab/sci","refs":["lab/sci:1"],"digest":"` +
		rec.Digest.String() + `","formats":["sif","rootfs"],"bytes":10,"last_used":"2026-01-01T00:00:00Z","pinned":true}],"reported":"0001-01-01T00:00:00Z"}`
	if w := do(h, "PUT", "/api/v1/stagers/node-7", body); w.Code != 200 {
		t.Fatalf("report: %d %s", w.Code, w.Body)
	}
	page := do(h, "GET", "/image/lab/sci:1", "").Body.String()
	for _, want := range []string{"Staged on compute nodes", `href="/stagers#node-node-7">node-7</a>`, "<td>gpu</td>", "<td>sif, rootfs</td>"} {
		if !strings.Contains(page, want) {
			t.Errorf("image page lacks %q", want)
		}
	}
	w := do(h, "GET", "/stagers", "")
	for _, want := range []string{`id="node-node-7"`, "cluster gpu", ">lab/sci:1</a>", "pinned"} {
		if w.Code != 200 || !strings.Contains(w.Body.String(), want) {
			t.Errorf("/stagers (%d) lacks %q", w.Code, want)
		}
	}
}

// TestOpenAPIDocumentsStageRoutes: every staging route is in openapi.json
// with the status a good request gets.
func TestOpenAPIDocumentsStageRoutes(t *testing.T) {
	h, rec := stageSite(t)
	var doc struct {
		Paths map[string]map[string]struct{ Responses map[string]any }
	}
	if err := json.Unmarshal(do(h, "GET", "/api/v1/openapi.json", "").Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	pin := `{"ref":"lab/sci@` + rec.Digest.String() + `"}`
	bodies := map[string]string{
		"PUT /api/v1/stage/pins": pin, "DELETE /api/v1/stage/pins": pin,
		"POST /api/v1/hub/selections": `{"ref":"lab/nb:1"}`, "PUT /api/v1/stagers/{node}": `{"node":"n1"}`,
	}
	for _, rt := range (&Stage{}).routes() {
		op, ok := doc.Paths[rt.path][strings.ToLower(rt.method)]
		if !ok {
			t.Errorf("openapi.json does not document %s %s", rt.method, rt.path)
			continue
		}
		got := do(h, rt.method, strings.ReplaceAll(rt.path, "{node}", "n1"), bodies[rt.method+" "+rt.path])
		if _, ok := op.Responses[fmt.Sprint(got.Code)]; !ok || got.Code != 200 {
			t.Errorf("%s %s: %d, documented %v: %s", rt.method, rt.path, got.Code, op.Responses, got.Body)
		}
	}
}
