package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/oyster-registry/oyster/api"
	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/catalogtest"
)

// fakeBuilds is a build queue of fixed records.
type fakeBuilds struct {
	builds   []api.Build
	log      string
	webhooks int
	// rebuilds and cancels count the calls that change the queue.
	rebuilds, cancels int
}

func (f *fakeBuilds) Builds() ([]api.Build, error) { return f.builds, nil }
func (f *fakeBuilds) Build(id string) (api.Build, error) {
	for _, b := range f.builds {
		if b.ID == id {
			return b, nil
		}
	}
	return api.Build{}, &api.Error{Code: api.CodeNotFound, Message: fmt.Sprintf("no build %q", id)} // as gitsync words it
}
func (f *fakeBuilds) FollowLog(ctx context.Context, id string, follow bool, w func([]byte) error) error {
	for _, line := range strings.SplitAfter(f.log, "\n") {
		if err := w([]byte(line)); err != nil {
			return err
		}
	}
	return nil
}
func (f *fakeBuilds) Rebuild(ctx context.Context, source, recipe string) ([]api.Build, error) {
	if source != "lab" {
		return nil, &api.Error{Code: api.CodeNotFound, Message: "no source " + source}
	}
	f.rebuilds++
	return f.builds[:1], nil
}
func (f *fakeBuilds) Recipe(source, commit, path string) (api.RecipeSource, error) {
	if source != "lab" || path != "app/Dockerfile" {
		return api.RecipeSource{}, &api.Error{Code: api.CodeNotFound, Message: "no recipe"}
	}
	return api.RecipeSource{Source: source, Commit: commit, Path: path, CommitURL: "https://git.example/lab/envs/commit/" + commit,
		Text: "FROM lab/base\nRUN pip install numpy==1.26.4 <b>\n", Base: "lab/base", Packages: []api.DeclaredPackage{{Manager: "pip", Name: "numpy", Version: "1.26.4"}}}, nil
}

func (f *fakeBuilds) Cancel(id string) (api.Build, error) {
	f.cancels++
	return f.Build(id)
}
func (f *fakeBuilds) Webhook(ctx context.Context, provider, source string, h http.Header, body []byte) (api.WebhookResult, error) {
	if h.Get("X-Hub-Signature-256") != "sha256=good" {
		return api.WebhookResult{}, &api.Error{Code: api.CodeUnauthorized, Message: "bad signature"}
	}
	f.webhooks++
	return api.WebhookResult{Source: source, Queued: f.builds[:1]}, nil
}

func buildsSite(t *testing.T, recs ...*catalog.Record) (http.Handler, *fakeBuilds) {
	c := catalogtest.New(t)
	c.Put(t, recs...)
	f := &fakeBuilds{
		builds: []api.Build{{ID: "00000002", Source: "lab", Recipe: "app/Dockerfile", Commit: strings.Repeat("a", 40), Status: api.BuildSucceeded,
			Digest: "sha256:" + strings.Repeat("b", 64), Tags: []string{"aaaaaaaaaaaa", "main"}, Repository: "lab/app", Queued: time.Now()}},
		log: "STEP 1/2: FROM scratch\n<script>alert(1)</script>\n",
	}
	return New(Options{Store: c.Store, Search: c.Search, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Builds: f}), f
}

func doBuilds(h http.Handler, method, path string, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(`{}`))
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestBuildsAPIShape(t *testing.T) {
	h, _ := buildsSite(t)
	rec := doBuilds(h, "GET", "/api/v1/builds", nil)
	var raw map[string][]map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &raw); rec.Code != 200 || err != nil {
		t.Fatalf("%d %s %v", rec.Code, rec.Body, err)
	}
	for _, k := range []string{"id", "source", "recipe", "commit", "status", "digest", "tags"} {
		if _, ok := raw["builds"][0][k]; !ok {
			t.Errorf("a build has no %q: %s", k, rec.Body)
		}
	}
	if rec := doBuilds(h, "GET", "/api/v1/builds/00000002", nil); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"status":"succeeded"`) {
		t.Errorf("one build: %d %s", rec.Code, rec.Body)
	}
	if rec := doBuilds(h, "GET", "/api/v1/builds/nope", nil); rec.Code != 404 || !strings.Contains(rec.Body.String(), `"NOT_FOUND"`) {
		t.Errorf("unknown build: %d %s", rec.Code, rec.Body)
	}
	if rec := doBuilds(h, "GET", "/api/v1/builds/00000002/log", nil); rec.Code != 200 || !strings.HasPrefix(rec.Body.String(), "STEP 1/2") {
		t.Errorf("log: %d %s", rec.Code, rec.Body)
	}
	rec = doBuilds(h, "GET", "/api/v1/builds/00000002/log", http.Header{"Accept": {"text/event-stream"}})
	if ct := rec.Header().Get("Content-Type"); ct != "text/event-stream" || !strings.Contains(rec.Body.String(), "data: STEP 1/2: FROM scratch\n") || !strings.HasSuffix(rec.Body.String(), "event: end\ndata: \n\n") {
		t.Errorf("log as events: %s\n%s", ct, rec.Body)
	}
}

func TestBuildsAPIChanges(t *testing.T) {
	h, f := buildsSite(t)
	if rec := doBuilds(h, "POST", "/api/v1/sources/lab/rebuild", nil); rec.Code != http.StatusAccepted || !strings.Contains(rec.Body.String(), `"builds"`) {
		t.Errorf("rebuild: %d %s", rec.Code, rec.Body)
	}
	if rec := doBuilds(h, "POST", "/api/v1/sources/nope/rebuild", nil); rec.Code != 404 {
		t.Errorf("rebuild of an unknown source: %d %s", rec.Code, rec.Body)
	}
	rec := doBuilds(h, "POST", "/api/v1/webhooks/github", http.Header{"X-Hub-Signature-256": {"sha256=forged"}})
	if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), `"UNAUTHORIZED"`) || f.webhooks != 0 {
		t.Errorf("forged webhook: %d %s", rec.Code, rec.Body)
	}
	if rec := doBuilds(h, "POST", "/api/v1/webhooks/github?source=lab", http.Header{"X-Hub-Signature-256": {"sha256=good"}}); rec.Code != 200 || f.webhooks != 1 {
		t.Errorf("signed webhook: %d %s", rec.Code, rec.Body)
	}
}

func TestBuildsPages(t *testing.T) {
	h, _ := buildsSite(t)
	rec := doBuilds(h, "GET", "/builds", nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `href="/builds/00000002"`) || !strings.Contains(rec.Body.String(), "/image/lab/app@sha256:") {
		t.Errorf("builds page: %d\n%s", rec.Code, rec.Body)
	}
	rec = doBuilds(h, "GET", "/builds/00000002", nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "&lt;script&gt;alert(1)&lt;/script&gt;") || strings.Contains(rec.Body.String(), "<script>alert") {
		t.Errorf("build page does not show the escaped log: %d\n%s", rec.Code, rec.Body)
	}
	if rec := doBuilds(h, "GET", "/builds/nope", nil); rec.Code != 404 {
		t.Errorf("unknown build page: %d", rec.Code)
	}
}

func TestImagePageShowsTheRecipe(t *testing.T) {
	commit := strings.Repeat("c", 40)
	built := &catalog.Record{
		Repository: "lab/app", Digest: baseDigest, Kind: catalog.KindImage, Tags: []string{"main"},
		MediaType: "application/vnd.oci.image.manifest.v1+json", Updated: time.Now(), Platforms: []string{"linux/amd64"},
		Labels: map[string]string{"org.oyster.source": "lab", "org.oyster.recipe": "app/Dockerfile", "org.opencontainers.image.revision": commit},
	}
	other := &catalog.Record{
		Repository: "lab/pushed", Digest: sciDigest, Kind: catalog.KindImage, Tags: []string{"1"},
		MediaType: "application/vnd.oci.image.manifest.v1+json", Updated: time.Now(), Platforms: []string{"linux/amd64"},
	}
	h, _ := buildsSite(t, built, other)
	rec := doBuilds(h, "GET", "/image/lab/app:main", nil)
	body := rec.Body.String()
	for _, want := range []string{`id="recipe"`, `href="https://git.example/lab/envs/commit/` + commit + `"`, "pip: numpy 1.26.4", "&lt;b&gt;", ">declared<"} {
		if !strings.Contains(body, want) {
			t.Errorf("the image page lacks %q:\n%s", want, body)
		}
	}
	if rec := doBuilds(h, "GET", "/image/lab/pushed:1", nil); rec.Code != 200 || strings.Contains(rec.Body.String(), `id="recipe"`) {
		t.Errorf("an image pushed by a client shows a recipe section: %d", rec.Code)
	}
	if rec := doBuilds(h, "GET", "/api/v1/sources/lab/recipe?commit="+commit+"&path=app/Dockerfile", nil); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"packages":[{"manager":"pip","name":"numpy","version":"1.26.4"}]`) {
		t.Errorf("recipe API: %d %s", rec.Code, rec.Body)
	}
}

// TestOpenAPIDocumentsBuildRoutes: every build route is in openapi.json
// with the status a request gets from a site with a build queue.
func TestOpenAPIDocumentsBuildRoutes(t *testing.T) {
	h, _ := buildsSite(t)
	rec := doBuilds(h, "GET", "/api/v1/openapi.json", nil)
	var doc struct {
		Paths map[string]map[string]struct{ Responses map[string]any }
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	sample := strings.NewReplacer("{id}", "00000002", "{name}", "lab", "{provider}", "github").Replace
	for _, rt := range buildRoutes(nil) {
		op, ok := doc.Paths[rt.path][strings.ToLower(rt.method)]
		if !ok {
			t.Errorf("openapi.json does not document %s %s", rt.method, rt.path)
			continue
		}
		path := sample(rt.path)
		if strings.HasSuffix(path, "/recipe") {
			path += "?commit=c&path=app/Dockerfile"
		}
		got := doBuilds(h, rt.method, path, http.Header{"X-Hub-Signature-256": {"sha256=good"}})
		if _, ok := op.Responses[fmt.Sprint(got.Code)]; !ok || got.Code >= 300 {
			t.Errorf("%s %s: %d, which openapi.json does not document as its success: %s", rt.method, path, got.Code, got.Body)
		}
	}
}
