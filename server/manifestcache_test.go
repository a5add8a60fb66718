package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/oyster-registry/oyster/config"
)

const (
	ociManifestType    = "application/vnd.oci.image.manifest.v1+json"
	dockerManifestType = "application/vnd.docker.distribution.manifest.v2+json"
	ociIndexType       = "application/vnd.oci.image.index.v1+json"
	dockerListType     = "application/vnd.docker.distribution.manifest.list.v2+json"
)

func cacheOff(c *config.Config) { c.Storage.ManifestCacheBytes = 0 }

// cachedManifest builds an image manifest of the given media type whose
// content differs by note, so each note names a new digest.
func cachedManifest(t testing.TB, base, repo, mediaType, note string) []byte {
	t.Helper()
	if mediaType == ociIndexType || mediaType == dockerListType {
		child := cachedManifest(t, base, repo, ociManifestType, note+" child")
		putManifest(t, base, repo, digestOf(child), ociManifestType, child)
		m, _ := json.Marshal(map[string]any{
			"schemaVersion": 2, "mediaType": mediaType,
			"manifests": []any{map[string]any{"mediaType": ociManifestType, "digest": digestOf(child), "size": len(child),
				"platform": map[string]string{"architecture": "amd64", "os": "linux"}}},
		})
		return m
	}
	cfgType := "application/vnd.oci.image.config.v1+json"
	if mediaType == dockerManifestType {
		cfgType = "application/vnd.docker.container.image.v1+json"
	}
	content := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	cfg := pushBlob(t, base, repo, content)
	m, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": mediaType,
		"config":      map[string]any{"mediaType": cfgType, "digest": cfg, "size": len(content)},
		"layers":      []any{},
		"annotations": map[string]string{"note": note},
	})
	return m
}

func putManifest(t testing.TB, base, repo, ref, mediaType string, m []byte) {
	t.Helper()
	if r := do(t, http.MethodPut, base+"/v2/"+repo+"/manifests/"+ref, m, "Content-Type", mediaType); r.status != http.StatusCreated {
		t.Fatalf("PUT manifest %s: %d %s", ref, r.status, r.body)
	}
}

func getManifest(t testing.TB, method, base, repo, ref string, accept ...string) response {
	t.Helper()
	var headers []string
	if len(accept) > 0 {
		headers = []string{"Accept", strings.Join(accept, ", ")}
	}
	return do(t, method, base+"/v2/"+repo+"/manifests/"+ref, nil, headers...)
}

var everyManifestType = []string{ociManifestType, dockerManifestType, ociIndexType, dockerListType}

func expectManifest(t *testing.T, what string, r response, want []byte) {
	t.Helper()
	if r.status != http.StatusOK || r.header.Get("Docker-Content-Digest") != digestOf(want) {
		t.Fatalf("%s: %d digest %q, want 200 %s: %s", what, r.status, r.header.Get("Docker-Content-Digest"), digestOf(want), r.body)
	}
}

// answer is what a client sees of a manifest response, less the Date.
func answer(r response) string {
	h := r.header.Clone()
	h.Del("Date")
	return fmt.Sprintf("%d %v %s", r.status, h, r.body)
}

// TestManifestCacheAnswersLikeDistribution compares, request by request, a
// server without the cache (distribution's answers) with one whose cache
// was warmed, for OCI and docker manifests and indexes, GET and HEAD, by
// tag and by digest, under Accept headers that accept and refuse each
// type: status, every header but Date, and body.
func TestManifestCacheAnswersLikeDistribution(t *testing.T) {
	plain, _ := startServer(t, cacheOff)
	cached, _ := startServer(t, nil)
	accepts := [][]string{nil, {ociManifestType}, {dockerManifestType}, {ociIndexType}, {dockerListType},
		{ociManifestType + "; q=0.5", dockerManifestType}, {"*/*"}, everyManifestType}
	for _, mediaType := range everyManifestType {
		m := cachedManifest(t, plain.URL, "lab/a", mediaType, mediaType)
		if n := cachedManifest(t, cached.URL, "lab/a", mediaType, mediaType); string(n) != string(m) {
			t.Fatal("the two servers were given different manifests")
		}
		putManifest(t, plain.URL, "lab/a", "v1", mediaType, m)
		putManifest(t, cached.URL, "lab/a", "v1", mediaType, m)
		for _, ref := range []string{"v1", digestOf(m)} {
			expectManifest(t, "warming "+ref, getManifest(t, http.MethodGet, cached.URL, "lab/a", ref, everyManifestType...), m)
			for _, method := range []string{http.MethodGet, http.MethodHead} {
				for _, accept := range accepts {
					want := answer(getManifest(t, method, plain.URL, "lab/a", ref, accept...))
					got := answer(getManifest(t, method, cached.URL, "lab/a", ref, accept...))
					if got != want {
						t.Errorf("%s %s %s Accept %q:\n cached %s\n plain  %s", mediaType, method, ref, accept, got, want)
					}
				}
			}
		}
	}
}

func TestManifestCacheFollowsTagMove(t *testing.T) {
	ts, _ := startServer(t, nil)
	one := cachedManifest(t, ts.URL, "lab/b", ociManifestType, "one")
	two := cachedManifest(t, ts.URL, "lab/b", ociManifestType, "two")
	putManifest(t, ts.URL, "lab/b", "latest", ociManifestType, one)
	expectManifest(t, "before the move", getManifest(t, http.MethodGet, ts.URL, "lab/b", "latest", ociManifestType), one)
	putManifest(t, ts.URL, "lab/b", "latest", ociManifestType, two)
	expectManifest(t, "after the move", getManifest(t, http.MethodGet, ts.URL, "lab/b", "latest", ociManifestType), two)
	expectManifest(t, "HEAD after the move", getManifest(t, http.MethodHead, ts.URL, "lab/b", "latest", ociManifestType), two)
	expectManifest(t, "the old content by digest", getManifest(t, http.MethodGet, ts.URL, "lab/b", digestOf(one), ociManifestType), one)
}

func TestManifestCacheForgetsDeletedTag(t *testing.T) {
	ts, _ := startServer(t, nil)
	m := cachedManifest(t, ts.URL, "lab/c", ociManifestType, "c")
	putManifest(t, ts.URL, "lab/c", "v1", ociManifestType, m)
	expectManifest(t, "before the delete", getManifest(t, http.MethodGet, ts.URL, "lab/c", "v1", ociManifestType), m)
	if r := do(t, http.MethodDelete, ts.URL+"/v2/lab/c/manifests/v1", nil); r.status != http.StatusAccepted {
		t.Fatalf("DELETE tag: %d %s", r.status, r.body)
	}
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		if r := getManifest(t, method, ts.URL, "lab/c", "v1", ociManifestType); r.status != http.StatusNotFound {
			t.Fatalf("%s of a deleted tag: %d, want 404", method, r.status)
		}
	}
	expectManifest(t, "the content stays by digest", getManifest(t, http.MethodGet, ts.URL, "lab/c", digestOf(m), ociManifestType), m)
}

func TestManifestCacheForgetsDeletedManifest(t *testing.T) {
	ts, _ := startServer(t, nil)
	m := cachedManifest(t, ts.URL, "lab/d", ociManifestType, "d")
	putManifest(t, ts.URL, "lab/d", "v1", ociManifestType, m)
	for _, ref := range []string{"v1", digestOf(m)} {
		expectManifest(t, "warming "+ref, getManifest(t, http.MethodGet, ts.URL, "lab/d", ref, ociManifestType), m)
	}
	if r := do(t, http.MethodDelete, ts.URL+"/v2/lab/d/manifests/"+digestOf(m), nil); r.status != http.StatusAccepted {
		t.Fatalf("DELETE manifest: %d %s", r.status, r.body)
	}
	for _, ref := range []string{"v1", digestOf(m)} {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			if r := getManifest(t, method, ts.URL, "lab/d", ref, ociManifestType); r.status != http.StatusNotFound {
				t.Fatalf("%s %s after the manifest delete: %d, want 404", method, ref, r.status)
			}
		}
	}
}

// TestManifestCachePushRacingGets moves a tag while readers GET it: every
// read names some pushed manifest, and once a push returns, every read
// begun after it sees that manifest. Run with -race.
func TestManifestCachePushRacingGets(t *testing.T) {
	ts, _ := startServer(t, nil)
	const pushes = 12
	var manifests [][]byte
	known := map[string]bool{}
	for i := range pushes {
		m := cachedManifest(t, ts.URL, "lab/e", ociManifestType, fmt.Sprint(i))
		manifests = append(manifests, m)
		known[digestOf(m)] = true
	}
	putManifest(t, ts.URL, "lab/e", "latest", ociManifestType, manifests[0])
	stop := make(chan struct{})
	errs := make(chan string, 64)
	var readers sync.WaitGroup
	for range 4 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				r := getManifest(t, http.MethodGet, ts.URL, "lab/e", "latest", ociManifestType)
				if d := r.header.Get("Docker-Content-Digest"); r.status != http.StatusOK || !known[d] {
					errs <- fmt.Sprintf("racing GET: %d %q", r.status, d)
					return
				}
			}
		}()
	}
	for _, m := range manifests[1:] {
		putManifest(t, ts.URL, "lab/e", "latest", ociManifestType, m)
		expectManifest(t, "GET after the push returned", getManifest(t, http.MethodGet, ts.URL, "lab/e", "latest", ociManifestType), m)
	}
	close(stop)
	readers.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestManifestCacheIsPerRepository: content cached in one repository is not
// served from another that lacks it.
func TestManifestCacheIsPerRepository(t *testing.T) {
	ts, _ := startServer(t, nil)
	m := cachedManifest(t, ts.URL, "lab/f", ociManifestType, "f")
	putManifest(t, ts.URL, "lab/f", "v1", ociManifestType, m)
	expectManifest(t, "warming", getManifest(t, http.MethodGet, ts.URL, "lab/f", digestOf(m), ociManifestType), m)
	for _, ref := range []string{"v1", digestOf(m)} {
		if r := getManifest(t, http.MethodGet, ts.URL, "lab/other", ref, ociManifestType); r.status != http.StatusNotFound {
			t.Fatalf("GET %s from another repository: %d, want 404", ref, r.status)
		}
	}
}

func TestNegativeManifestCacheRefused(t *testing.T) {
	cfg := config.Default()
	cfg.Data = t.TempDir()
	cfg.Storage.ManifestCacheBytes = -1
	if err := cfg.Validate(); err == nil {
		t.Fatal("storage.manifest_cache_bytes -1 accepted")
	}
}
