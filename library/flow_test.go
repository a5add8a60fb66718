package library

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	dconfig "github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory" // the tests' storage
	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// newTestLibrary is a Library over a real distribution App with storage
// in memory, and a clock the test sets.
func newTestLibrary(t *testing.T) (*Library, *time.Time) {
	t.Helper()
	dc := &dconfig.Configuration{}
	dc.Storage = dconfig.Storage{"inmemory": dconfig.Parameters{}, "delete": dconfig.Parameters{"enabled": true}}
	dc.HTTP.Secret = "library-test"
	dc.Log.Level = "error"
	dc.Catalog.MaxEntries = 2 // several pages of repositories
	app := handlers.NewApp(context.Background(), dc)
	l, err := New(Options{Registry: app, ExternalURL: "http://oyster.test", NamespacesFile: filepath.Join(t.TempDir(), "library.json")})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l.uploads.now = func() time.Time { return now }
	return l, &now
}

// answer is what the Library answered a request.
type answer struct {
	code int
	body []byte
}

// do sends a request to l.
func do(t *testing.T, l *Library, method, target string, body []byte) answer {
	t.Helper()
	target = strings.TrimPrefix(target, "http://oyster.test")
	w := httptest.NewRecorder()
	l.ServeHTTP(w, httptest.NewRequest(method, target, bytes.NewReader(body)))
	return answer{w.Code, w.Body.Bytes()}
}

// data decodes the "data" of a successful answer.
func data[T any](t *testing.T, a answer) T {
	t.Helper()
	var out struct{ Data T }
	if a.code != http.StatusOK {
		t.Fatalf("status %d: %s", a.code, a.body)
	}
	if err := json.Unmarshal(a.body, &out); err != nil {
		t.Fatalf("%v: %s", err, a.body)
	}
	return out.Data
}

func makeContainer(t *testing.T, l *Library, e, c, n string) {
	t.Helper()
	data[entity](t, do(t, l, "POST", "/v1/entities", fmt.Appendf(nil, `{"name":%q}`, e)))
	data[collection](t, do(t, l, "POST", "/v1/collections", fmt.Appendf(nil, `{"name":%q,"entity":%q}`, c, e)))
	data[container](t, do(t, l, "POST", "/v1/containers", fmt.Appendf(nil, `{"name":%q,"collection":%q}`, n, e+"~"+c)))
}

func hashOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// upload pushes file as an image of repo in one request and returns its ID.
func uploadSIF(t *testing.T, l *Library, repo string, file []byte) string {
	t.Helper()
	id := strings.ReplaceAll(repo, "/", "~") + "@sha256." + hashOf(file)
	start := data[map[string]string](t, do(t, l, "POST", "/v2/imagefile/"+id, fmt.Appendf(nil, `{"filesize":%d,"sha256sum":%q}`, len(file), hashOf(file))))
	if a := do(t, l, "PUT", start["uploadURL"], file); a.code != http.StatusOK {
		t.Fatalf("upload: %d %s", a.code, a.body)
	}
	data[map[string]any](t, do(t, l, "PUT", "/v2/imagefile/"+id+"/_complete", []byte(`{}`)))
	return id
}

func setArchTag(t *testing.T, l *Library, container, arch, tag, id string) {
	t.Helper()
	data[struct{}](t, do(t, l, "POST", "/v2/tags/"+container, fmt.Appendf(nil, `{"Arch":%q,"Tag":%q,"ImageID":%q}`, arch, tag, id)))
}

// TestTagsPerArchitecture: a tag with one image is one SIF manifest; a
// second architecture makes it an index; deleting one architecture leaves
// the other as a plain manifest again.
func TestTagsPerArchitecture(t *testing.T) {
	l, _ := newTestLibrary(t)
	ctx := context.Background()
	makeContainer(t, l, "lab", "sci", "tool")
	amd, arm := []byte("amd64 SIF bytes"), []byte("arm64 SIF bytes")
	amdID, armID := uploadSIF(t, l, "lab/sci/tool", amd), uploadSIF(t, l, "lab/sci/tool", arm)

	setArchTag(t, l, "lab~sci~tool", "amd64", "1.0", amdID)
	makeContainer(t, l, "team", "empty", "none")
	entities := data[[]entity](t, do(t, l, "GET", "/v1/entities", nil))
	if len(entities) != 2 || entities[0].Name != "lab" || entities[1].Name != "team" || entities[0].Collections[0] != "lab~sci" {
		t.Fatalf("entities: %+v", entities)
	}
	col := data[collection](t, do(t, l, "GET", "/v1/collections/lab/sci", nil))
	ctr := data[container](t, do(t, l, "GET", "/v1/containers/lab/sci/tool", nil))
	if len(col.Containers) != 1 || col.Containers[0] != "lab~sci~tool" || ctr.ImageTags["1.0"] != amdID || ctr.ArchTags["amd64"]["1.0"] != amdID {
		t.Fatalf("collection %+v, container %+v", col, ctr)
	}
	m, err := l.reg.getManifest(ctx, "lab/sci/tool", "1.0")
	if err != nil || m.parsed.MediaType != v1.MediaTypeImageManifest || m.parsed.Layers[0].MediaType != "application/vnd.sylabs.sif.layer.v1.sif" {
		t.Fatalf("one architecture: %v %s", err, m.body)
	}
	setArchTag(t, l, "lab~sci~tool", "arm64", "1.0", armID)
	if m, _ = l.reg.getManifest(ctx, "lab/sci/tool", "1.0"); m.parsed.MediaType != v1.MediaTypeImageIndex || len(m.parsed.Manifests) != 2 {
		t.Fatalf("two architectures: %s", m.body)
	}
	tags := data[map[string]map[string]string](t, do(t, l, "GET", "/v2/tags/lab~sci~tool", nil))
	if tags["amd64"]["1.0"] != amdID || tags["arm64"]["1.0"] != armID {
		t.Fatalf("arch tags: %v", tags)
	}
	var pulled []string
	l.pulled = func(repo string, manifest digest.Digest) { pulled = append(pulled, repo+"@"+manifest.String()) }
	for _, child := range m.parsed.Manifests {
		arch, want := child.Platform.Architecture, map[string][]byte{"amd64": amd, "arm64": arm}[child.Platform.Architecture]
		pull := do(t, l, "GET", "/v1/imagefile/lab/sci/tool:1.0?arch="+arch, nil)
		img := data[image](t, do(t, l, "GET", "/v1/images/lab/sci/tool:1.0?arch="+arch, nil))
		if pull.code != http.StatusSeeOther || img.Hash != "sha256."+hashOf(want) || img.Size != int64(len(want)) {
			t.Fatalf("%s: pull %d, image %+v", arch, pull.code, img)
		}
		if counted := pulled[len(pulled)-1]; counted != "lab/sci/tool@"+child.Digest.String() {
			t.Fatalf("%s: pull counted for %s, not its manifest %s", arch, counted, child.Digest)
		}
	}
	if a := do(t, l, "GET", "/v1/imagefile/lab/sci/tool:1.0?arch=ppc64le", nil); a.code != http.StatusNotFound {
		t.Fatalf("absent architecture: %d %s", a.code, a.body)
	}

	data[struct{}](t, do(t, l, "DELETE", "/v1/images/lab/sci/tool:1.0?arch=arm64", nil))
	if m, _ = l.reg.getManifest(ctx, "lab/sci/tool", "1.0"); m.parsed.MediaType != v1.MediaTypeImageManifest {
		t.Fatalf("after deleting arm64: %s", m.body)
	}
	data[struct{}](t, do(t, l, "DELETE", "/v1/images/lab/sci/tool:sha256."+hashOf(amd)+"?arch=amd64", nil))
	if a := do(t, l, "GET", "/v1/images/lab/sci/tool:1.0", nil); a.code != http.StatusNotFound {
		t.Fatalf("deleted image still there: %d", a.code)
	}
}

// TestSetTagRefusals: a tag moves only to an uploaded image of the same
// container.
func TestSetTagRefusals(t *testing.T) {
	l, _ := newTestLibrary(t)
	makeContainer(t, l, "lab", "sci", "tool")
	makeContainer(t, l, "lab", "sci", "other")
	id := uploadSIF(t, l, "lab/sci/other", []byte("a SIF"))
	for body, want := range map[string]string{
		`{"Arch":"amd64","Tag":"1","ImageID":"` + id + `"}`:                                          "not in container",
		`{"Arch":"amd64","Tag":"1","ImageID":"lab~sci~tool@sha256.` + hashOf([]byte("never")) + `"}`: "has not been uploaded",
		`{"Arch":"amd64","Tag":"Bad Tag","ImageID":"` + id + `"}`:                                    "not a valid tag",
		`{"Arch":"../x","Tag":"1","ImageID":"` + id + `"}`:                                           "architecture",
	} {
		if a := do(t, l, "POST", "/v2/tags/lab~sci~tool", []byte(body)); a.code < 400 || !strings.Contains(string(a.body), want) {
			t.Errorf("%s: %d %s, want an error saying %q", body, a.code, a.body, want)
		}
	}
	if tags, _ := l.reg.tags(context.Background(), "lab/sci/tool"); len(tags) != 0 {
		t.Fatalf("a refused tag was set: %v", tags)
	}
}

// TestIdleUploadDropped: a session no request touched for an hour is
// dropped when another begins; a live one stays.
func TestIdleUploadDropped(t *testing.T) {
	l, now := newTestLibrary(t)
	makeContainer(t, l, "lab", "sci", "tool")
	file := []byte("a SIF that never finishes")
	id := "lab~sci~tool@sha256." + hashOf(file)
	start := func() string {
		mp := data[struct{ UploadID string }](t, do(t, l, "POST", "/v2/imagefile/"+id+"/_multipart", fmt.Appendf(nil, `{"filesize":%d}`, len(file))))
		return mp.UploadID
	}
	announce := func(uploadID string) int {
		return do(t, l, "PUT", "/v2/imagefile/"+id+"/_multipart", fmt.Appendf(nil, `{"partSize":%d,"partNumber":1,"uploadID":%q}`, len(file), uploadID)).code
	}
	stale, live := start(), start()
	*now = now.Add(50 * time.Minute)
	if announce(live) != http.StatusOK {
		t.Fatal("live session lost")
	}
	*now = now.Add(20 * time.Minute)
	start()
	if code := announce(stale); code != http.StatusNotFound {
		t.Fatalf("idle session still open: %d", code)
	}
	if code := announce(live); code != http.StatusOK {
		t.Fatalf("session touched 20 minutes ago was dropped: %d", code)
	}
}

// TestConcurrentUploads pushes several images at once, in parts and in one
// request; each arrives whole (run with -race).
func TestConcurrentUploads(t *testing.T) {
	l, _ := newTestLibrary(t)
	makeContainer(t, l, "lab", "sci", "tool")
	var wg sync.WaitGroup
	ids := make([]string, 6)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids[i] = uploadSIF(t, l, "lab/sci/tool", fmt.Appendf(nil, "SIF number %d", i))
		}()
	}
	wg.Wait()
	for i, id := range ids {
		_, d, _ := parseImageID(id)
		size, err := l.reg.blobSize(context.Background(), "lab/sci/tool", d)
		if err != nil || size != int64(len(fmt.Sprintf("SIF number %d", i))) {
			t.Fatalf("image %d: size %d, %v", i, size, err)
		}
	}
}

// TestPartHashChecked: a part whose bytes do not have the SHA-256 it was
// announced with cancels the upload, and nothing is stored.
func TestPartHashChecked(t *testing.T) {
	l, _ := newTestLibrary(t)
	makeContainer(t, l, "lab", "sci", "tool")
	file := []byte("the whole SIF")
	id := "lab~sci~tool@sha256." + hashOf(file)
	mp := data[struct{ UploadID string }](t, do(t, l, "POST", "/v2/imagefile/"+id+"/_multipart", fmt.Appendf(nil, `{"filesize":%d}`, len(file))))
	part := data[struct{ PresignedURL string }](t, do(t, l, "PUT", "/v2/imagefile/"+id+"/_multipart",
		fmt.Appendf(nil, `{"partSize":%d,"partNumber":1,"uploadID":%q,"sha256sum":%q}`, len(file), mp.UploadID, hashOf([]byte("other")))))
	if a := do(t, l, "PUT", part.PresignedURL, file); a.code != http.StatusBadRequest || !strings.Contains(string(a.body), "announced; the upload is cancelled") {
		t.Fatalf("part with the wrong hash: %d %s", a.code, a.body)
	}
	if a := do(t, l, "PUT", "/v2/imagefile/"+id+"/_multipart_complete", fmt.Appendf(nil, `{"uploadID":%q}`, mp.UploadID)); a.code != http.StatusNotFound {
		t.Fatalf("completing the cancelled upload: %d %s", a.code, a.body)
	}
	if size, err := l.reg.blobSize(context.Background(), "lab/sci/tool", digest.FromBytes(file)); err != nil || size >= 0 {
		t.Fatalf("blob stored: size %d, %v", size, err)
	}
}

// TestCreatedNamespacesKept: an entity, collection and container created
// empty are still there for a Library opened again on the same file; a
// damaged file is an error, not an empty set.
func TestCreatedNamespacesKept(t *testing.T) {
	l, _ := newTestLibrary(t)
	makeContainer(t, l, "lab", "sci", "tool")
	file := l.created.path
	again, err := New(Options{Registry: l.reg.h, NamespacesFile: file})
	if err != nil {
		t.Fatal(err)
	}
	ctr := data[container](t, do(t, again, "GET", "/v1/containers/lab/sci/tool", nil))
	if ctr.ID != "lab~sci~tool" {
		t.Fatalf("container after reopening: %+v", ctr)
	}
	for _, damaged := range []string{`{"not":"a list"}`, `["lab/../x"]`} {
		if err := os.WriteFile(file, []byte(damaged), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := New(Options{Registry: l.reg.h, NamespacesFile: file}); err == nil || !strings.Contains(err.Error(), file) {
			t.Fatalf("damaged file %s: %v", damaged, err)
		}
	}
}
