package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/oyster-registry/oyster/config"
	"github.com/oyster-registry/oyster/server"
)

func startServer(t testing.TB, mutate func(*config.Config)) (*httptest.Server, config.Config) {
	t.Helper()
	cfg := config.Default()
	cfg.Data = t.TempDir()
	cfg.Log.Level = "error"
	if mutate != nil {
		mutate(&cfg)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.New(context.Background(), cfg, server.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv.Start(ctx)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { ts.Close(); cancel(); srv.Close() })
	return ts, cfg
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func do(t testing.TB, method, url string, body []byte, headers ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, raw}
}

// errorCode extracts the first OCI error code of a response body.
func errorCode(t testing.TB, r response) string {
	t.Helper()
	var e struct {
		Errors []struct{ Code string } `json:"errors"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil || len(e.Errors) == 0 {
		t.Fatalf("response %d is not an OCI error: %s", r.status, r.body)
	}
	return e.Errors[0].Code
}

// uploadBlob uploads content with POST then PUT under the given digest.
func uploadBlob(t testing.TB, base, repo, dgst string, content []byte) response {
	t.Helper()
	r := do(t, http.MethodPost, fmt.Sprintf("%s/v2/%s/blobs/uploads/", base, repo), nil)
	if r.status != http.StatusAccepted {
		t.Fatalf("starting upload: %d %s", r.status, r.body)
	}
	return do(t, http.MethodPut, r.header.Get("Location")+"&digest="+dgst, content, "Content-Type", "application/octet-stream")
}

// pushBlob uploads content and returns its digest.
func pushBlob(t testing.TB, base, repo string, content []byte) string {
	t.Helper()
	d := digestOf(content)
	if r := uploadBlob(t, base, repo, d, content); r.status != http.StatusCreated {
		t.Fatalf("blob push: %d %s", r.status, r.body)
	}
	return d
}

func imageManifest(t testing.TB, base, repo string) []byte {
	t.Helper()
	cfg := pushBlob(t, base, repo, []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`))
	m, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg, "size": 79},
		"layers": []any{},
	})
	return m
}

// snapshot lists every file under the storage root with a hash of its
// content, leaving out upload sessions (scratch space distribution purges).
func snapshot(t *testing.T, cfg config.Config) string {
	t.Helper()
	var lines []string
	root := cfg.FilesystemRoot()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if d.IsDir() && d.Name() == "_uploads" {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return nil
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		lines = append(lines, rel+" "+digestOf(raw))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// expectUnchanged runs fn and fails if storage differs afterwards.
func expectUnchanged(t *testing.T, cfg config.Config, fn func()) {
	t.Helper()
	before := snapshot(t, cfg)
	fn()
	if after := snapshot(t, cfg); after != before {
		t.Fatalf("storage changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func TestBadManifests(t *testing.T) {
	ts, cfg := startServer(t, nil)
	base, repo := ts.URL, "bad/manifests"
	good := imageManifest(t, base, repo)
	mt := "application/vnd.oci.image.manifest.v1+json"
	huge := bytes.Replace(good, []byte(`"layers":[]`), []byte(`"layers":[],"annotations":{"pad":"`+strings.Repeat("x", 5<<20)+`"}`), 1)

	cases := []struct {
		name, ref   string
		body        []byte
		contentType string
		status      int
		code        string
	}{
		{"digest mismatch", digestOf([]byte("something else")), good, mt, 400, "DIGEST_INVALID"},
		{"over 4 MiB", "huge", huge, mt, 413, "MANIFEST_INVALID"},
		{"invalid JSON", "broken", []byte(`{"schemaVersion":2,`), mt, 400, "MANIFEST_INVALID"},
		{"wrong schema version", "v1", bytes.Replace(good, []byte(`"schemaVersion":2`), []byte(`"schemaVersion":1`), 1), mt, 400, "MANIFEST_INVALID"},
		{"invalid reference", "-bad-tag", good, mt, 400, "TAG_INVALID"},
		{"negative layer size", "neg", bytes.Replace(good, []byte(`"layers":[]`), []byte(`"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"`+digestOf(nil)+`","size":-1}]`), 1), mt, 400, "MANIFEST_INVALID"},
		{"negative config size", "neg", bytes.Replace(good, []byte(`"size":79`), []byte(`"size":-79`), 1), mt, 400, "MANIFEST_INVALID"},
		{"negative size in an index", "neg", []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"` + mt + `","digest":"` + digestOf(good) + `","size":-5}]}`), "application/vnd.oci.image.index.v1+json", 400, "MANIFEST_INVALID"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			expectUnchanged(t, cfg, func() {
				r := do(t, http.MethodPut, fmt.Sprintf("%s/v2/%s/manifests/%s", base, repo, c.ref), c.body, "Content-Type", c.contentType)
				if r.status != c.status || errorCode(t, r) != c.code {
					t.Fatalf("got %d %s, want %d %s", r.status, r.body, c.status, c.code)
				}
			})
		})
	}
	if r := do(t, http.MethodGet, base+"/v2/"+repo+"/tags/list", nil); r.status != http.StatusNotFound {
		t.Fatalf("a tag appeared after rejected pushes: %d %s", r.status, r.body)
	}
}

// A chunk whose Content-Range is malformed, or does not start where the
// upload stands, is refused with 416 RANGE_INVALID and leaves the upload
// as it was: a correct chunk is accepted afterwards.
func TestMalformedContentRange(t *testing.T) {
	ts, _ := startServer(t, nil)
	content := []byte("0123456789abcdefghij")
	r := do(t, http.MethodPost, ts.URL+"/v2/bad/ranges/blobs/uploads/", nil)
	if r.status != http.StatusAccepted {
		t.Fatalf("start upload: %d %s", r.status, r.body)
	}
	patch := func(loc, contentRange string, chunk []byte) response {
		return do(t, http.MethodPatch, loc, chunk, "Content-Type", "application/octet-stream", "Content-Range", contentRange)
	}
	r = patch(r.header.Get("Location"), "0-9", content[:10])
	if r.status != http.StatusAccepted {
		t.Fatalf("first chunk: %d %s", r.status, r.body)
	}
	loc := r.header.Get("Location")
	for _, cr := range []string{
		"-5-4", "bytes=10-19", "12345678901234567890-12345678901234567899", "10-", "10", "+10-19", "19-10",
		"20-29", // start beyond the upload's offset (10)
		"5-14",  // start before it
	} {
		r := patch(loc, cr, content[10:])
		if r.status != http.StatusRequestedRangeNotSatisfiable || errorCode(t, r) != "RANGE_INVALID" {
			t.Errorf("Content-Range %q: got %d %s, want 416 RANGE_INVALID", cr, r.status, r.body)
		}
	}
	r = patch(loc, "10-19", content[10:])
	if r.status != http.StatusAccepted || r.header.Get("Range") != "0-19" {
		t.Fatalf("correct chunk after refused ones: %d Range=%q %s", r.status, r.header.Get("Range"), r.body)
	}
	d := digestOf(content)
	if r = do(t, http.MethodPut, r.header.Get("Location")+"&digest="+d, nil); r.status != http.StatusCreated {
		t.Fatalf("commit: %d %s", r.status, r.body)
	}
	if r = do(t, http.MethodGet, ts.URL+"/v2/bad/ranges/blobs/"+d, nil); r.status != 200 || !bytes.Equal(r.body, content) {
		t.Fatalf("blob after chunked upload: %d %q", r.status, r.body)
	}
}

// Paths distribution's router does not know get OCI errors rather than a
// bare-text 404 or a 405 without a body.
func TestBadV2Paths(t *testing.T) {
	ts, _ := startServer(t, nil)
	for _, c := range []struct {
		method, path string
		status       int
		code         string
	}{
		{http.MethodGet, "/v2/lab/App/manifests/latest", 400, "NAME_INVALID"},
		{http.MethodGet, "/v2/-lab/tags/list", 400, "NAME_INVALID"},
		{http.MethodPost, "/v2/" + strings.Repeat("a", 256) + "/blobs/uploads/", 400, "NAME_INVALID"},
		{http.MethodGet, "/v2/lab/app/blobs/latest", 400, "DIGEST_INVALID"},
		{http.MethodDelete, "/v2/lab/app/referrers/" + digestOf(nil), 405, "UNSUPPORTED"},
		{http.MethodGet, "/v2/lab/app/referrers/sha256:nothex", 400, "DIGEST_INVALID"},
		{http.MethodGet, "/v2/lab/app/referrers/" + digestOf(nil) + "?n=0", 400, "PAGINATION_NUMBER_INVALID"},
	} {
		r := do(t, c.method, ts.URL+c.path, nil)
		if r.status != c.status || errorCode(t, r) != c.code || r.header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: got %d %s %s, want %d %s", c.method, c.path, r.status, r.header.Get("Content-Type"), r.body, c.status, c.code)
		}
	}
}

func TestStrictReferencesRejectMissingBlobs(t *testing.T) {
	ts, cfg := startServer(t, func(c *config.Config) { c.Storage.StrictReferences = true })
	m := imageManifest(t, ts.URL, "strict/repo")
	missing := bytes.Replace(m, []byte(`"layers":[]`), []byte(`"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"`+digestOf([]byte("never pushed"))+`","size":12}]`), 1)
	expectUnchanged(t, cfg, func() {
		r := do(t, http.MethodPut, ts.URL+"/v2/strict/repo/manifests/v1", missing, "Content-Type", "application/vnd.oci.image.manifest.v1+json")
		if r.status != 400 || errorCode(t, r) != "MANIFEST_BLOB_UNKNOWN" {
			t.Fatalf("got %d %s", r.status, r.body)
		}
	})
}

func TestBadBlobUploads(t *testing.T) {
	ts, cfg := startServer(t, nil)
	base := ts.URL
	content := []byte("the content the client really sent")

	t.Run("wrong digest", func(t *testing.T) {
		expectUnchanged(t, cfg, func() {
			wrong := digestOf([]byte("what the client claimed"))
			r := uploadBlob(t, base, "bad/blobs", wrong, content)
			if r.status != 400 || errorCode(t, r) != "DIGEST_INVALID" {
				t.Fatalf("got %d %s", r.status, r.body)
			}
			if r := do(t, http.MethodHead, base+"/v2/bad/blobs/blobs/"+wrong, nil); r.status != 404 {
				t.Fatalf("blob with the wrong digest is served: %d", r.status)
			}
		})
	})
	t.Run("chunk out of order", func(t *testing.T) {
		expectUnchanged(t, cfg, func() {
			r := do(t, http.MethodPost, base+"/v2/bad/blobs/blobs/uploads/", nil)
			if r.status != http.StatusAccepted {
				t.Fatalf("start upload: %d", r.status)
			}
			loc := r.header.Get("Location")
			r = do(t, http.MethodPatch, loc, content[:10], "Content-Type", "application/octet-stream", "Content-Range", "0-9")
			if r.status != http.StatusAccepted {
				t.Fatalf("first chunk: %d %s", r.status, r.body)
			}
			loc = r.header.Get("Location")
			r = do(t, http.MethodPatch, loc, content[20:], "Content-Type", "application/octet-stream", "Content-Range", fmt.Sprintf("20-%d", len(content)-1))
			if r.status != http.StatusRequestedRangeNotSatisfiable {
				t.Fatalf("out-of-order chunk: got %d %s, want 416", r.status, r.body)
			}
		})
	})
	t.Run("invalid digest syntax", func(t *testing.T) {
		r := do(t, http.MethodGet, base+"/v2/bad/blobs/blobs/sha256:nothex", nil)
		if r.status != 400 || errorCode(t, r) != "DIGEST_INVALID" {
			t.Fatalf("got %d %s", r.status, r.body)
		}
	})
	t.Run("range past the end", func(t *testing.T) {
		d := pushBlob(t, base, "bad/blobs", content)
		r := do(t, http.MethodGet, base+"/v2/bad/blobs/blobs/"+d, nil, "Range", fmt.Sprintf("bytes=%d-", len(content)+100))
		if r.status != http.StatusRequestedRangeNotSatisfiable {
			t.Fatalf("got %d %s, want 416", r.status, r.body)
		}
	})
}

func TestPathTraversalNames(t *testing.T) {
	ts, cfg := startServer(t, nil)
	m := imageManifest(t, ts.URL, "safe/repo")
	paths := []string{
		"/v2/../etc/passwd/manifests/latest",
		"/v2/safe/../../etc/tags/list",
		"/v2/safe/%2e%2e/%2e%2e/x/tags/list",
		"/v2/safe/..%2f..%2fetc/manifests/latest",
		"/v2/a/./b/blobs/uploads/",
	}
	for _, p := range paths {
		for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete} {
			expectUnchanged(t, cfg, func() {
				req, _ := http.NewRequest(method, ts.URL+"/v2/", bytes.NewReader(m))
				req.URL.Opaque = p // sent exactly as written, not cleaned by the client
				req.Header.Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				r := response{resp.StatusCode, resp.Header, body}
				if r.status != 400 || errorCode(t, r) != "NAME_INVALID" {
					t.Fatalf("%s %s: got %d %s", method, p, r.status, r.body)
				}
			})
		}
	}
}
