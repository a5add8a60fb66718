package server_test

import (
	"bytes"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func s512Server(t *testing.T) string {
	t.Helper()
	ts, _ := startServer(t, nil)
	return ts.URL
}

func s512Sum(b []byte) string { s := sha512.Sum512(b); return "sha512:" + hex.EncodeToString(s[:]) }

func s512Expect(t *testing.T, what string, r response, status int, digest string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, r.status, status, r.body)
	}
	if digest != "" && r.header.Get("Docker-Content-Digest") != digest {
		t.Fatalf("%s: Docker-Content-Digest %q, want %q", what, r.header.Get("Docker-Content-Digest"), digest)
	}
}

func s512ExpectCode(t *testing.T, what string, r response, status int, code string) {
	t.Helper()
	var e struct{ Errors []struct{ Code string } }
	if r.status != status || json.Unmarshal(r.body, &e) != nil || len(e.Errors) == 0 || e.Errors[0].Code != code {
		t.Fatalf("%s: got %d %s, want %d %s", what, r.status, r.body, status, code)
	}
}

// s512PushBlob uploads content with POST then PUT ?digest=, returning the answer to the PUT.
func s512PushBlob(t *testing.T, base, repo string, content []byte, digest string) response {
	t.Helper()
	post := do(t, http.MethodPost, base+"/v2/"+repo+"/blobs/uploads/", nil)
	s512Expect(t, "upload POST", post, http.StatusAccepted, "")
	loc := post.header.Get("Location")
	if !strings.HasPrefix(loc, "http") {
		loc = base + loc
	}
	sep := "?"
	if strings.Contains(loc, "?") {
		sep = "&"
	}
	return do(t, http.MethodPut, loc+sep+"digest="+digest, content, "Content-Type", "application/octet-stream")
}

func TestSHA512Blobs(t *testing.T) {
	base := s512Server(t)
	content := []byte("a blob named by its sha512 digest")
	d512, d256 := s512Sum(content), digestOf(content)

	put := s512PushBlob(t, base, "lab/one", content, d512)
	s512Expect(t, "blob PUT by sha512", put, http.StatusCreated, d512)
	if loc := put.header.Get("Location"); !strings.HasSuffix(loc, "/v2/lab/one/blobs/"+d512) {
		t.Fatalf("Location %q does not name the sha512 digest", loc)
	}
	get := do(t, http.MethodGet, base+"/v2/lab/one/blobs/"+d512, nil)
	s512Expect(t, "blob GET by sha512", get, http.StatusOK, d512)
	if !bytes.Equal(get.body, content) {
		t.Fatalf("blob GET by sha512 returned %q", get.body)
	}
	s512Expect(t, "blob HEAD by sha512", do(t, http.MethodHead, base+"/v2/lab/one/blobs/"+d512, nil), http.StatusOK, d512)
	s512Expect(t, "blob GET by sha256", do(t, http.MethodGet, base+"/v2/lab/one/blobs/"+d256, nil), http.StatusOK, d256)

	// A wrong sha512 digest is refused and stores nothing.
	other := []byte("content that does not match")
	wrong := s512PushBlob(t, base, "lab/one", other, s512Sum([]byte("something else")))
	s512ExpectCode(t, "blob PUT with a wrong sha512", wrong, http.StatusBadRequest, "DIGEST_INVALID")
	s512Expect(t, "blob of the refused upload", do(t, http.MethodHead, base+"/v2/lab/one/blobs/"+digestOf(other), nil), http.StatusNotFound, "")
	s512Expect(t, "blob by the refused digest", do(t, http.MethodHead, base+"/v2/lab/one/blobs/"+s512Sum([]byte("something else")), nil), http.StatusNotFound, "")

	// Mount by sha512 into another repository.
	mount := do(t, http.MethodPost, base+"/v2/lab/two/blobs/uploads/?mount="+d512+"&from=lab/one", nil)
	s512Expect(t, "mount by sha512", mount, http.StatusCreated, d512)
	if loc := mount.header.Get("Location"); !strings.HasSuffix(loc, "/v2/lab/two/blobs/"+d512) {
		t.Fatalf("mount Location %q does not name the sha512 digest", loc)
	}
	get = do(t, http.MethodGet, base+"/v2/lab/two/blobs/"+d512, nil)
	s512Expect(t, "mounted blob by sha512", get, http.StatusOK, d512)
	if !bytes.Equal(get.body, content) {
		t.Fatalf("mounted blob returned %q", get.body)
	}
	missing := s512Sum([]byte("never pushed"))
	s512Expect(t, "mount of an unknown sha512", do(t, http.MethodPost, base+"/v2/lab/two/blobs/uploads/?mount="+missing+"&from=lab/one", nil), http.StatusAccepted, "")
	s512Expect(t, "blob after failed mount", do(t, http.MethodHead, base+"/v2/lab/two/blobs/"+missing, nil), http.StatusNotFound, "")

	// Deleting either name deletes both.
	s512Expect(t, "blob DELETE by sha512", do(t, http.MethodDelete, base+"/v2/lab/one/blobs/"+d512, nil), http.StatusAccepted, "")
	s512Expect(t, "sha512 name after delete", do(t, http.MethodHead, base+"/v2/lab/one/blobs/"+d512, nil), http.StatusNotFound, "")
	s512Expect(t, "sha256 name after sha512 delete", do(t, http.MethodHead, base+"/v2/lab/one/blobs/"+d256, nil), http.StatusNotFound, "")
	s512Expect(t, "blob DELETE by sha256", do(t, http.MethodDelete, base+"/v2/lab/two/blobs/"+d256, nil), http.StatusAccepted, "")
	s512Expect(t, "sha512 name after sha256 delete", do(t, http.MethodHead, base+"/v2/lab/two/blobs/"+d512, nil), http.StatusNotFound, "")
}

const s512OCIManifest = "application/vnd.oci.image.manifest.v1+json"

func TestSHA512Manifests(t *testing.T) {
	base := s512Server(t)
	repo := base + "/v2/lab/img"
	config := []byte(`{"architecture":"amd64","os":"linux"}`)
	s512Expect(t, "config blob", s512PushBlob(t, base, "lab/img", config, s512Sum(config)), http.StatusCreated, s512Sum(config))

	manifest := []byte(`{"schemaVersion":2,"mediaType":"` + s512OCIManifest + `","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"` +
		s512Sum(config) + `","size":` + s512Itoa(len(config)) + `},"layers":[]}`)
	m512, m256 := s512Sum(manifest), digestOf(manifest)

	// A body that does not match the digest is refused and changes nothing.
	bad := s512Sum([]byte("not this manifest"))
	s512ExpectCode(t, "manifest PUT with a wrong sha512", do(t, http.MethodPut, repo+"/manifests/"+bad+"?tag=bad", manifest, "Content-Type", s512OCIManifest),
		http.StatusBadRequest, "DIGEST_INVALID")
	for _, ref := range []string{bad, m256, m512, "bad"} {
		s512Expect(t, "manifest "+ref+" after refused PUT", do(t, http.MethodGet, repo+"/manifests/"+ref, nil, "Accept", s512OCIManifest), http.StatusNotFound, "")
	}

	put := do(t, http.MethodPut, repo+"/manifests/"+m512+"?tag=v1&tag=latest", manifest, "Content-Type", s512OCIManifest)
	s512Expect(t, "manifest PUT by sha512", put, http.StatusCreated, m512)
	if loc := put.header.Get("Location"); !strings.HasSuffix(loc, "/v2/lab/img/manifests/"+m512) {
		t.Fatalf("Location %q does not name the sha512 digest", loc)
	}
	if tags := strings.Join(put.header.Values("OCI-Tag"), ","); !strings.Contains(tags, "v1") || !strings.Contains(tags, "latest") {
		t.Fatalf("OCI-Tag %q lacks the tags pushed", tags)
	}
	for _, ref := range []string{m512, "v1", "latest"} {
		get := do(t, http.MethodGet, repo+"/manifests/"+ref, nil, "Accept", s512OCIManifest)
		s512Expect(t, "manifest GET "+ref, get, http.StatusOK, m512)
		if !bytes.Equal(get.body, manifest) || get.header.Get("Content-Type") != s512OCIManifest {
			t.Fatalf("manifest GET %s returned %s %q", ref, get.header.Get("Content-Type"), get.body)
		}
		s512Expect(t, "manifest HEAD "+ref, do(t, http.MethodHead, repo+"/manifests/"+ref, nil, "Accept", s512OCIManifest), http.StatusOK, m512)
	}
	s512Expect(t, "manifest GET by sha256", do(t, http.MethodGet, repo+"/manifests/"+m256, nil, "Accept", s512OCIManifest), http.StatusOK, m256)

	// A referrer pushed by sha512, of a subject named by sha512.
	artifact := []byte(`{"schemaVersion":2,"mediaType":"` + s512OCIManifest + `","artifactType":"application/vnd.example.sbom",` +
		`"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},` +
		`"layers":[],"subject":{"mediaType":"` + s512OCIManifest + `","digest":"` + m512 + `","size":` + s512Itoa(len(manifest)) + `}}`)
	s512Expect(t, "empty config", s512PushBlob(t, base, "lab/img", []byte("{}"), digestOf([]byte("{}"))), http.StatusCreated, "")
	a512 := s512Sum(artifact)
	put = do(t, http.MethodPut, repo+"/manifests/"+a512, artifact, "Content-Type", s512OCIManifest)
	s512Expect(t, "referrer PUT by sha512", put, http.StatusCreated, a512)
	if put.header.Get("OCI-Subject") != m512 {
		t.Fatalf("OCI-Subject %q, want %q", put.header.Get("OCI-Subject"), m512)
	}
	if refs := s512Referrers(t, repo+"/referrers/"+m512); len(refs) != 1 || refs[0] != a512 {
		t.Fatalf("referrers of %s: %v, want [%s]", m512, refs, a512)
	}

	// Deleting the referrer by sha512 deletes it under both names and from the index.
	s512Expect(t, "referrer DELETE by sha512", do(t, http.MethodDelete, repo+"/manifests/"+a512, nil), http.StatusAccepted, "")
	for _, ref := range []string{a512, digestOf(artifact)} {
		s512Expect(t, "referrer "+ref+" after delete", do(t, http.MethodGet, repo+"/manifests/"+ref, nil, "Accept", s512OCIManifest), http.StatusNotFound, "")
	}
	if refs := s512Referrers(t, repo+"/referrers/"+m512); len(refs) != 0 {
		t.Fatalf("referrers after delete: %v", refs)
	}

	// Deleting the manifest by sha256 takes its sha512 name and its tags along.
	s512Expect(t, "manifest DELETE by sha256", do(t, http.MethodDelete, repo+"/manifests/"+m256, nil), http.StatusAccepted, "")
	for _, ref := range []string{m256, m512, "v1", "latest"} {
		s512Expect(t, "manifest "+ref+" after delete", do(t, http.MethodGet, repo+"/manifests/"+ref, nil, "Accept", s512OCIManifest), http.StatusNotFound, "")
	}
}

func s512Referrers(t *testing.T, url string) []string {
	t.Helper()
	r := do(t, http.MethodGet, url, nil)
	s512Expect(t, "referrers", r, http.StatusOK, "")
	var index struct{ Manifests []struct{ Digest string } }
	if err := json.Unmarshal(r.body, &index); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range index.Manifests {
		out = append(out, m.Digest)
	}
	return out
}

func s512Itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
