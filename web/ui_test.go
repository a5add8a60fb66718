package web

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/catalogtest"
	"github.com/oyster-registry/oyster/catalog/pkgdb"
	"github.com/oyster-registry/oyster/catalog/state"
)

// uiSite is the web surface over an in-memory catalog of hand-made records.
type uiSite struct {
	http.Handler
	store *state.Store
	log   *bytes.Buffer // what the site logged
}

func newUISite(t testing.TB, recs ...*catalog.Record) *uiSite {
	t.Helper()
	c := catalogtest.New(t)
	c.Put(t, recs...)
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	return &uiSite{Handler: New(Options{Store: c.Store, Search: c.Search, Log: log}), store: c.Store, log: &logged}
}

// get requests path with Host registry.example:5000 and returns the
// status and body.
func (s *uiSite) get(t *testing.T, path string) (int, string, http.Header) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Host = "registry.example:5000"
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	return w.Code, w.Body.String(), w.Header()
}

// page fetches path, wants status, and returns the body.
func (s *uiSite) page(t *testing.T, path string, status int) string {
	t.Helper()
	code, body, _ := s.get(t, path)
	if code != status {
		t.Fatalf("GET %s: status %d, want %d\n%s", path, code, status, body)
	}
	return body
}

func mustContain(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q", w)
		}
	}
}

func mustNotContain(t *testing.T, body string, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(body, b) {
			t.Errorf("page contains %q", b)
		}
	}
}

const (
	baseDigest = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	sciDigest  = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	sbomDigest = "sha256:3333333333333333333333333333333333333333333333333333333333333333"
	sifDigest  = "sha256:4444444444444444444444444444444444444444444444444444444444444444"
	idxDigest  = "sha256:5555555555555555555555555555555555555555555555555555555555555555"
	badDigest  = "sha256:6666666666666666666666666666666666666666666666666666666666666666"
)

var (
	layerBase = catalog.Layer{Digest: "sha256:aaaa000000000000", MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Size: 30 << 20, CreatedBy: "/bin/sh -c #(nop) ADD file:deb in /"}
	layerSci  = catalog.Layer{Digest: "sha256:bbbb000000000000", MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Size: 120 << 20, CreatedBy: "RUN pip install numpy==1.26.4 scipy"}
	debian12  = pkgdb.OSRelease{ID: "debian", VersionID: "12", PrettyName: "Debian GNU/Linux 12 (bookworm)"}
)

// uiFixtures are a base image, an image built on it with an SBOM attached,
// a SIF, a multi-platform index and an image that could not be fully read.
func uiFixtures() []*catalog.Record {
	now := time.Now()
	base := &catalog.Record{
		Repository: "lab/base", Digest: baseDigest, Kind: catalog.KindImage, Tags: []string{"12"},
		MediaType: "application/vnd.oci.image.manifest.v1+json", Updated: now.Add(-30 * 24 * time.Hour),
		Platforms: []string{"linux/amd64"}, Size: 31 << 20, OS: debian12, Layers: []catalog.Layer{layerBase},
		OCI:      catalog.OCIInfo{Title: "Lab base"},
		Packages: []catalog.Package{{Name: "libc6", Version: "2.36-9+deb12u4", Ecosystem: "deb", Source: "var/lib/dpkg/status"}},
	}
	sci := &catalog.Record{
		Repository: "lab/sci", Digest: sciDigest, Kind: catalog.KindImage, Tags: []string{"1", "latest"},
		MediaType: "application/vnd.oci.image.manifest.v1+json", Updated: now.Add(-3 * 24 * time.Hour),
		Created: now.Add(-4 * 24 * time.Hour), Platforms: []string{"linux/amd64"}, Size: 151 << 20, UncompressedSize: 400 << 20,
		OS: debian12, Layers: []catalog.Layer{layerBase, layerSci}, Runtimes: map[string]string{"python": "3.11.7"},
		OCI: catalog.OCIInfo{
			Title: "Scientific Python", Description: "NumPy and SciPy for data analysis",
			Source: "https://git.example/lab/recipes", Revision: "0123456789abcdef0123456789abcdef01234567", Licenses: "MIT",
		},
		Labels:      map[string]string{"org.example.team": "chem"},
		Annotations: map[string]string{"org.opencontainers.image.source": "https://git.example/lab/recipes"},
		Config: catalog.ImageConfig{
			Env: []string{"PATH=/usr/local/bin:/usr/bin", "LANG=C.UTF-8"}, Entrypoint: []string{"python3", "-m"}, Cmd: []string{"jupyter lab"},
			WorkingDir: "/work", User: "scientist",
		},
		Packages: []catalog.Package{
			{Name: "numpy", Version: "1.26.4", Ecosystem: "python", Source: "usr/lib/python3/dist-packages/numpy-1.26.4.dist-info/METADATA"},
			{Name: "scipy", Version: "1.11.4", Ecosystem: "python", Source: "usr/lib/python3/dist-packages/scipy-1.11.4.dist-info/METADATA"},
			{Name: "libc6", Version: "2.36-9+deb12u4", Ecosystem: "deb", Source: "var/lib/dpkg/status"},
		},
		BaseImages: []catalog.ImageRef{{Repository: "lab/base", Digest: baseDigest, Tag: "12", Via: "annotation"}},
		Referrers:  []catalog.Referrer{{Digest: sbomDigest, ArtifactType: "application/spdx+json", MediaType: "application/vnd.oci.image.manifest.v1+json"}},
	}
	sbom := &catalog.Record{
		Repository: "lab/sci", Digest: sbomDigest, Kind: catalog.KindArtifact, ArtifactType: "application/spdx+json",
		MediaType: "application/vnd.oci.image.manifest.v1+json", Updated: now.Add(-2 * 24 * time.Hour), Subject: sciDigest, Size: 2048,
	}
	sif := &catalog.Record{
		Repository: "tools/blast", Digest: sifDigest, Kind: catalog.KindSIF, Tags: []string{"2.15"},
		MediaType: "application/vnd.oci.image.manifest.v1+json", Updated: now.Add(-5 * time.Hour), Size: 80 << 20,
		Platforms: []string{"linux/amd64"}, OCI: catalog.OCIInfo{Title: "BLAST+"},
		SIF: &catalog.SIFInfo{
			Arch: "amd64", DefFile: "Bootstrap: docker\nFrom: debian:12\n%post\n  apt-get install -y ncbi-blast+\n",
			Runscript: "#!/bin/sh\nexec blastn \"$@\"\n", Labels: map[string]string{"org.label-schema.version": "2.15.0"},
			Partitions: []string{"Def.FILE", "FS (squashfs)"},
		},
	}
	idx := &catalog.Record{
		Repository: "multi/app", Digest: idxDigest, Kind: catalog.KindIndex, Tags: []string{"latest"},
		MediaType: "application/vnd.oci.image.index.v1+json", Updated: now.Add(-2 * time.Hour), Size: 20 << 20,
		Platforms: []string{"linux/amd64", "linux/arm64"},
		Children: []catalog.Child{
			{Digest: "sha256:7777777777777777777777777777777777777777777777777777777777777777", Platform: "linux/amd64", Size: 10 << 20},
			{Digest: "sha256:8888888888888888888888888888888888888888888888888888888888888888", Platform: "linux/arm64", Size: 10 << 20},
		},
	}
	bad := &catalog.Record{
		Repository: "bad/bomb", Digest: badDigest, Kind: catalog.KindImage, Tags: []string{"1"},
		MediaType: "application/vnd.oci.image.manifest.v1+json", Updated: now.Add(-time.Hour), Size: 1 << 20,
		IndexErrors: []string{"layer sha256:cccc: uncompressed size exceeds the limit of 16777216 bytes"},
	}
	return []*catalog.Record{base, sci, sbom, sif, idx, bad}
}

func TestUISecurityHeaders(t *testing.T) {
	site := newUISite(t, uiFixtures()...)
	for _, path := range []string{"/", "/search?q=numpy", "/search/results?q=numpy", "/repo/lab/sci", "/image/lab/sci:1", "/nowhere", "/static/ui.css"} {
		_, _, h := site.get(t, path)
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: Content-Security-Policy %q", path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" {
			t.Errorf("%s: headers %v", path, h)
		}
	}
}

// TestUINoInlineCode checks that the pages need nothing the policy blocks.
func TestUINoInlineCode(t *testing.T) {
	site := newUISite(t, uiFixtures()...)
	for _, path := range []string{"/", "/search?q=numpy", "/image/lab/sci:1", "/image/tools/blast:2.15"} {
		body := site.page(t, path, http.StatusOK)
		mustNotContain(t, body, "<style", " style=", " onclick=", " onload=", "<script>", "http://", "https://fonts")
		if n := strings.Count(body, "<script"); n != 1 {
			t.Errorf("%s: %d script elements, want the one static ui.js", path, n)
		}
	}
}

func TestUIHome(t *testing.T) {
	site := newUISite(t, uiFixtures()...)
	if err := site.store.AddPulls(map[catalog.Ref]uint64{{Repo: "tools/blast", Digest: sifDigest}: 7, {Repo: "lab/sci", Digest: sciDigest}: 3, {Repo: "gone/repo", Digest: "sha256:00"}: 99}); err != nil {
		t.Fatal(err)
	}
	body := site.page(t, "/", http.StatusOK)
	mustContain(t, body,
		`<label for="q"`, `id="q" name="q"`, "Filter help", "pkg:numpy&gt;=1.26,&lt;2", // search box and help
		"5 images", "5 repositories", // counts (the untagged SBOM is not searchable)
		"Recently updated", `href="/image/bad/bomb@`+badDigest+`"`, // newest first
		"Most pulled", "7 pulls", "3 pulls",
	)
	mustNotContain(t, body, "gone/repo", "The catalog is empty")
	if strings.Index(body, "/image/tools/blast@") > strings.Index(body, "/image/lab/base@") {
		t.Error("recently updated is not newest first")
	}
}

func TestUIEmptyCatalog(t *testing.T) {
	site := newUISite(t)
	body := site.page(t, "/", http.StatusOK)
	mustContain(t, body, "The catalog is empty",
		"skopeo copy --dest-tls-verify=false docker://docker.io/library/python:3.12-slim docker://registry.example:5000/library/python:3.12-slim",
		"docker push registry.example:5000/my-team/my-image:1.0",
		"apptainer push --no-https my-tool.sif oras://registry.example:5000/my-team/my-tool:1.0",
		"insecure-registries")

	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Host = "evil.example;rm -rf ~"
	w := httptest.NewRecorder()
	site.ServeHTTP(w, req)
	mustContain(t, w.Body.String(), "docker push REGISTRY_HOST/my-team/my-image:1.0")
	mustNotContain(t, w.Body.String(), "rm -rf")
}

func TestUISearch(t *testing.T) {
	site := newUISite(t, uiFixtures()...)
	body := site.page(t, "/search?q=numpy", http.StatusOK)
	mustContain(t, body,
		`value="numpy"`, "1 image for <q>numpy</q>", `href="/image/lab/sci@`+sciDigest+`"`,
		"<mark>NumPy</mark>",                                               // highlight from the description
		"Python 3.11.7",                                                    // result facts
		"3 days ago",                                                       // relative date
		"Architecture", "amd64", `href="/search?q=numpy&#43;arch%3Aamd64"`, // facet narrowing the query
		"Packages", `href="/search?q=numpy&#43;pkg%3Ascipy"`,
		`<option value="relevance" selected>`,
	)
	mustNotContain(t, body, "tools/blast", "multi/app")

	body = site.page(t, "/search?q=arch:amd64+numpy&sort=updated", http.StatusOK)
	mustContain(t, body, `class="active"`, `href="/search?q=numpy&amp;sort=updated"`, `<option value="updated" selected>`)

	body = site.page(t, "/search?q=type:sif", http.StatusOK)
	mustContain(t, body, "1 image for", "tools/blast")
	body = site.page(t, "/search?q=", http.StatusOK)
	mustContain(t, body, "5 images", "tools/blast", "multi/app", "lab/base", "bad/bomb")
}

func TestUISearchFragment(t *testing.T) {
	site := newUISite(t, uiFixtures()...)
	body := site.page(t, "/search/results?q=blast", http.StatusOK)
	mustContain(t, body, "tools/blast", `class="results-grid"`)
	mustNotContain(t, body, "<html", "<header", "lab/sci")
}

func TestUISearchBadQuery(t *testing.T) {
	site := newUISite(t, uiFixtures()...)
	body := site.page(t, "/search?q="+strings.ReplaceAll("pkg:numpy>>1 <b>", " ", "+"), http.StatusBadRequest)
	mustContain(t, body, `role="alert"`, "bad version constraint", `value="pkg:numpy&gt;&gt;1 &lt;b&gt;"`)
	mustNotContain(t, body, "<b>")
	body = site.page(t, "/search/results?q=nosuch:filter", http.StatusBadRequest)
	mustContain(t, body, "unknown filter")
	site.page(t, "/search?q=x&page=0", http.StatusBadRequest)
	site.page(t, "/search?q=x&sort=sideways", http.StatusBadRequest)
}

func TestUISearchPages(t *testing.T) {
	var recs []*catalog.Record
	for i := range 45 {
		recs = append(recs, &catalog.Record{
			Repository: fmt.Sprintf("bulk/img%02d", i), Digest: digest.Digest(fmt.Sprintf("sha256:%064x", i+1)), Kind: catalog.KindImage,
			Tags: []string{"v1"}, Updated: time.Now().Add(-time.Duration(i) * time.Hour),
		})
	}
	site := newUISite(t, recs...)
	body := site.page(t, "/search?q=repo:bulk/*&sort=updated", http.StatusOK)
	mustContain(t, body, "45 images", "bulk/img00", "bulk/img19", `aria-current="page">1<`,
		`href="/search?page=2&amp;q=repo%3Abulk%2F%2A&amp;sort=updated" rel="next"`, `>3</a>`)
	mustNotContain(t, body, "bulk/img20", "rel=\"prev\"")
	body = site.page(t, "/search?q=repo:bulk/*&sort=updated&page=3", http.StatusOK)
	mustContain(t, body, "bulk/img40", "bulk/img44", `rel="prev"`, `aria-current="page">3<`)
	mustNotContain(t, body, "bulk/img39", `rel="next"`)
}

func TestUIRepository(t *testing.T) {
	site := newUISite(t, uiFixtures()...)
	body := site.page(t, "/repo/lab/sci", http.StatusOK)
	mustContain(t, body, "<h1>lab/sci</h1>", "Scientific Python", "2 tags", "1 untagged manifest",
		`href="/image/lab/sci@`+sciDigest+`"`, ">222222222222<", `<span class="badge">newest</span>`, "158.3 MB", "3 days ago")
	body = site.page(t, "/repo/lab/nothing", http.StatusNotFound)
	mustContain(t, body, "Repository not found", `&#34;lab/nothing&#34;`)
}

func TestUIImage(t *testing.T) {
	site := newUISite(t, uiFixtures()...)
	if err := site.store.AddPulls(map[catalog.Ref]uint64{{Repo: "lab/sci", Digest: sciDigest}: 1234}); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"lab/sci:latest", "lab/sci@" + sciDigest} {
		body := site.page(t, "/image/"+ref, http.StatusOK)
		mustContain(t, body,
			"<h1>Scientific Python</h1>", "NumPy and SciPy for data analysis", sciDigest,
			// pull commands: pinned by digest, the tag form beside
			"docker pull registry.example:5000/lab/sci@"+sciDigest,
			"podman pull --tls-verify=false registry.example:5000/lab/sci@"+sciDigest,
			"apptainer pull --no-https docker://registry.example:5000/lab/sci@"+sciDigest,
			`class="copy" data-copy hidden>Copy</button>`,
			// facts
			"linux/amd64", "Debian GNU/Linux 12 (bookworm)", "<dt>Python</dt><dd>3.11.7</dd>", "158.3 MB", "419.4 MB unpacked",
			"1,234", `<a href="https://git.example/lab/recipes" rel="nofollow noopener">`, ">0123456789ab<", "MIT",
			// packages, base, referrers, config, layers, labels
			"3 packages", `<a href="/search?q=pkg%3Anumpy"`, ">1.26.4<", ">python<", "usr/lib/python3/dist-packages/numpy-1.26.4.dist-info/METADATA",
			`<a href="/image/lab/base@`+baseDigest+`">lab/base:12</a>`, "found by annotation",
			"application/spdx&#43;json", `href="/image/lab/sci@`+sbomDigest+`"`,
			"<code>python3 -m</code>", "<code>&#39;jupyter lab&#39;</code>", "PATH=/usr/local/bin:/usr/bin", "scientist",
			"RUN pip install numpy==1.26.4 scipy", "125.8 MB", "org.example.team", "chem",
		)
	}
	body := site.page(t, "/image/lab/sci:latest", http.StatusOK)
	mustContain(t, body, "docker pull registry.example:5000/lab/sci:latest")
	body = site.page(t, "/image/lab/sci@"+sciDigest, http.StatusOK)
	mustContain(t, body, "docker pull registry.example:5000/lab/sci:1")

	// The base image links back to what is built on it.
	body = site.page(t, "/image/lab/base:12", http.StatusOK)
	mustContain(t, body, `<a href="/image/lab/sci@`+sciDigest+`">lab/sci:1</a>`, "found by layers")
}

func TestUIImagePackageFilter(t *testing.T) {
	site := newUISite(t, uiFixtures()...)
	body := site.page(t, "/image/lab/sci:1?pkg=NUM", http.StatusOK)
	mustContain(t, body, `value="NUM"`, "1 of 3 packages match “NUM”", `<tr><th scope="row"><a href="/search?q=pkg%3Anumpy"`,
		`<tr hidden><th scope="row"><a href="/search?q=pkg%3Ascipy"`, `<tr hidden><th scope="row"><a href="/search?q=pkg%3Alibc6"`)
}

func TestUISIFImage(t *testing.T) {
	site := newUISite(t, uiFixtures()...)
	body := site.page(t, "/image/tools/blast:2.15", http.StatusOK)
	mustContain(t, body,
		"apptainer pull --no-https oras://registry.example:5000/tools/blast@"+sifDigest,
		"apptainer pull --no-https oras://registry.example:5000/tools/blast:2.15",
		"oras pull --plain-http registry.example:5000/tools/blast@"+sifDigest,
		"Definition file", "Bootstrap: docker\nFrom: debian:12", "Runscript", "exec blastn &#34;$@&#34;",
		"org.label-schema.version", "2.15.0", "FS (squashfs)", "5 hours ago")
	mustNotContain(t, body, "docker pull")
}

func TestUIIndexAndErrors(t *testing.T) {
	site := newUISite(t, uiFixtures()...)
	body := site.page(t, "/image/multi/app:latest", http.StatusOK)
	mustContain(t, body, "Platforms in this index", "linux/arm64", `href="/image/multi/app@sha256:8888888888888888888888888888888888888888888888888888888888888888"`)
	body = site.page(t, "/image/bad/bomb:1", http.StatusOK)
	mustContain(t, body, "Indexing problems", "exceeds the limit of 16777216 bytes")
	body = site.page(t, "/image/lab/sci@"+sbomDigest, http.StatusOK)
	mustContain(t, body, "This is an artifact about", `href="/image/lab/sci@`+sciDigest+`"`, "oras pull --plain-http registry.example:5000/lab/sci@"+sbomDigest)
}

func TestUINotFound(t *testing.T) {
	site := newUISite(t, uiFixtures()...)
	for path, want := range map[string]string{
		"/image/lab/sci@sha256:0000000000000000000000000000000000000000000000000000000000000000": "Image not found",
		"/image/lab/sci:nope":    "Image not found",
		"/image/lab/sci":         "Image not found",
		"/no/such/page":          "Not found",
		"/repo/unknown/thing":    "Repository not found",
		"/static/":               "404",
		"/static/missing.css":    "404",
		"/search/results/extra/": "Not found",
	} {
		body := site.page(t, path, http.StatusNotFound)
		mustContain(t, body, want)
	}
	// The API keeps its JSON errors.
	code, body, h := site.get(t, "/api/v1/images/lab/sci:nope")
	if code != http.StatusNotFound || !strings.HasPrefix(h.Get("Content-Type"), "application/json") || !strings.Contains(body, "NOT_FOUND") {
		t.Errorf("API 404: %d %s %s", code, h.Get("Content-Type"), body)
	}
}

func TestUIStatic(t *testing.T) {
	site := newUISite(t)
	for name, ctype := range map[string]string{"ui.css": "text/css", "ui.js": "text/javascript", "favicon.svg": "image/svg+xml"} {
		url := assetURLs[name]
		if !strings.Contains(url, "?v=") {
			t.Fatalf("%s has no versioned URL: %q", name, url)
		}
		code, body, h := site.get(t, url)
		if code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), ctype) || len(body) < 100 {
			t.Errorf("%s: %d %q, %d bytes", url, code, h.Get("Content-Type"), len(body))
		}
		if !strings.Contains(h.Get("Cache-Control"), "immutable") {
			t.Errorf("%s: Cache-Control %q", url, h.Get("Cache-Control"))
		}
	}
}

// hostile is text an image author could put anywhere in an image.
var hostile = []string{`<script>alert(1)</script>`, `"><img src=x onerror=alert(1)>`}

// TestUIEscaping puts script and markup in every kind of text that comes
// from an image and checks that each page shows it as text.
func TestUIEscaping(t *testing.T) {
	evil := strings.Join(hostile, " ")
	rec := &catalog.Record{
		Repository: "evil/app", Digest: sciDigest, Kind: catalog.KindSIF, Tags: []string{"1"}, Updated: time.Now(),
		MediaType: "application/vnd.oci.image.manifest.v1+json", Platforms: []string{"linux/amd64"},
		OCI: catalog.OCIInfo{Title: "evil " + evil, Description: "evil " + evil, Source: "javascript:alert(1)", Revision: evil, Licenses: evil},
		Labels: map[string]string{
			"org.example.xss":  hostile[0],
			"org.example.attr": hostile[1],
			hostile[0]:         "label key",
		},
		Annotations: map[string]string{"org.example.note": evil},
		Config:      catalog.ImageConfig{Env: []string{"X=" + evil}, Entrypoint: []string{evil}, Cmd: []string{evil}, User: evil},
		Layers:      []catalog.Layer{{Digest: "sha256:dddd", Size: 1, CreatedBy: "RUN echo " + evil}},
		Packages:    []catalog.Package{{Name: "evil" + hostile[1], Version: hostile[0], Ecosystem: "python", Source: evil}},
		Runtimes:    map[string]string{"python": hostile[0]},
		IndexErrors: []string{"bad layer " + evil},
		BaseImages:  []catalog.ImageRef{{Repository: "evil/base" + hostile[1], Digest: baseDigest, Tag: hostile[0], Via: evil}},
		Referrers:   []catalog.Referrer{{Digest: sbomDigest, ArtifactType: evil, MediaType: evil}},
		SIF:         &catalog.SIFInfo{DefFile: evil, Runscript: evil, Env: evil, Labels: map[string]string{"x": evil}, Partitions: []string{evil}},
	}
	site := newUISite(t, rec)
	for _, path := range []string{"/", "/search?q=evil", "/search/results?q=evil", "/search?q=alert", "/repo/evil/app", "/image/evil/app:1", "/image/evil/app:1?pkg=" + strings.ReplaceAll(hostile[1], " ", "+")} {
		body := site.page(t, path, http.StatusOK)
		mustNotContain(t, body, "<script>alert", "<img src=x", `href="javascript`)
		want := 1 // ui.js and the logo; the results fragment has neither
		if strings.HasPrefix(path, "/search/results") {
			want = 0
		}
		if n := strings.Count(body, "<script"); n != want {
			t.Errorf("%s: %d script elements", path, n)
		}
		if n := strings.Count(body, "<img"); n != want {
			t.Errorf("%s: %d img elements", path, n)
		}
	}
	body := site.page(t, "/image/evil/app:1", http.StatusOK)
	mustContain(t, body, "&lt;script&gt;alert(1)&lt;/script&gt;", "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;", `href="#ZgotmplZ"`)
}

func TestMarkedAllowsOnlyMark(t *testing.T) {
	for in, want := range map[string]string{
		"<mark>numpy</mark> stack":                  "<mark>numpy</mark> stack",
		"a &lt;b&gt; <mark>c</mark>":                "a &lt;b&gt; <mark>c</mark>",
		"<script>x</script><mark>y</mark>":          "&lt;script&gt;x&lt;/script&gt;<mark>y</mark>",
		"<mark onclick=1>y</mark><mark>open":        "&lt;mark onclick=1&gt;y<mark>open</mark>",
		"</mark>stray <mark><mark>twice</mark>":     "stray <mark>twice</mark>",
		"&quot;&gt;&lt;img src=x onerror=alert(1)>": "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;",
	} {
		if got := string(marked(in)); got != want {
			t.Errorf("marked(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUIFormat(t *testing.T) {
	now := time.Now()
	for d, want := range map[time.Duration]string{
		10 * time.Second: "just now", 90 * time.Second: "1 minute ago", 3 * time.Hour: "3 hours ago",
		50 * time.Hour: "2 days ago", 65 * 24 * time.Hour: "2 months ago", 800 * 24 * time.Hour: "2 years ago",
	} {
		if got := ago(now.Add(-d)); got != want {
			t.Errorf("ago(-%v) = %q, want %q", d, got, want)
		}
	}
	if ago(time.Time{}) != "unknown" || thousands(1234567) != "1,234,567" || thousands(999) != "999" || plural(1, "tag") != "1 tag" ||
		plural(2, "repository") != "2 repositories" || plural(2, "key") != "2 keys" {
		t.Error("ago, thousands or plural")
	}
	if got := argv([]string{"sh", "-c", "echo 'hi' $HOME"}); got != `sh -c 'echo '\''hi'\'' $HOME'` {
		t.Errorf("argv: %s", got)
	}
	if q, on := toggleTerm("numpy arch:amd64 cuda:12", "arch:amd64"); q != "numpy cuda:12" || !on {
		t.Errorf("toggleTerm removing: %q %v", q, on)
	}
	if q, on := toggleTerm("numpy arch:amd64x", "arch:amd64"); q != "numpy arch:amd64x arch:amd64" || on {
		t.Errorf("toggleTerm adding: %q %v", q, on)
	}
}
