package e2e

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/oyster-registry/oyster/internal/testlayers"
)

// writeLayer writes an uncompressed tar layer of entries into dir.
func writeLayer(t *testing.T, dir, name string, entries ...testlayers.Entry) string {
	t.Helper()
	p := filepath.Join(dir, name+".tar")
	if err := os.WriteFile(p, testlayers.Tar(t, entries...), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// dpkgStatus is var/lib/dpkg/status listing pkgs ("name=version").
func dpkgStatus(pkgs ...string) testlayers.Entry {
	return testlayers.File("var/lib/dpkg/status", testlayers.DpkgStatus(pkgs...))
}

var debianRelease = testlayers.File("etc/os-release", testlayers.DebianOSRelease)

// pushLayers pushes an image made of the given layer files (on base, when
// not empty) with labels, and returns its digest.
func pushLayers(t *testing.T, ref, base string, labels map[string]string, layers ...string) string {
	t.Helper()
	args := []string{"append", "--insecure", "-t", ref}
	if base != "" {
		args = append(args, "-b", base)
	} else {
		args = append(args, "--oci-empty-base")
	}
	for _, l := range layers {
		args = append(args, "-f", l)
	}
	run(t, "crane", args...)
	mut := []string{"mutate", "--insecure", ref, "--set-platform", "linux/amd64", "-t", ref}
	for k, v := range labels {
		mut = append(mut, "-l", k+"="+v)
	}
	run(t, "crane", mut...)
	return digestOf(t, ref)
}

type searchHit struct {
	Repository string   `json:"repository"`
	Digest     string   `json:"digest"`
	Tags       []string `json:"tags"`
	Kind       string   `json:"kind"`
}

// search runs a catalog query and returns "repo:tag" (or repo@digest) keys.
func search(t *testing.T, host, q string) []string {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://%s/api/v1/search?per_page=100&q=%s", host, url.QueryEscape(q)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("search %q: %d", q, resp.StatusCode)
	}
	var out struct{ Results []searchHit }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, h := range out.Results {
		for _, tag := range h.Tags {
			keys = append(keys, h.Repository+":"+tag)
		}
		if len(h.Tags) == 0 {
			keys = append(keys, h.Repository+"@"+h.Digest)
		}
	}
	sort.Strings(keys)
	return keys
}

// eventually polls until the query returns exactly want.
func eventually(t *testing.T, host, q string, want ...string) {
	t.Helper()
	sort.Strings(want)
	var got []string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if got = search(t, host, q); strings.Join(got, " ") == strings.Join(want, " ") {
			return
		}
	}
	t.Fatalf("search %q: got %v, want %v", q, got, want)
}

func getImage(t *testing.T, host, ref string) map[string]any {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://%s/api/v1/images/%s", host, ref))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rec map[string]any
	if resp.StatusCode != 200 {
		t.Fatalf("image %s: %d", ref, resp.StatusCode)
	}
	json.NewDecoder(resp.Body).Decode(&rec)
	return rec
}

// TestCatalogSearch pushes images whose layers hold genuine package
// databases and checks that searches return exactly the images that match.
func TestCatalogSearch(t *testing.T) {
	requireTool(t, "crane")
	reg := startRegistry(t, "")
	h, dir := reg.Host, t.TempDir()

	base := writeLayer(t, dir, "base", debianRelease, dpkgStatus("libc6=2.36-9+deb12u4", "python3.11=3.11.2-6", "openssl=3.0.11-1~deb12u2"))
	sci := writeLayer(t, dir, "sci", testlayers.DistInfo("numpy", "1.26.4"), testlayers.DistInfo("scipy", "1.11.4"))
	old := writeLayer(t, dir, "old", testlayers.DistInfo("numpy", "1.24.0"))
	rc := writeLayer(t, dir, "rc", testlayers.DistInfo("numpy", "1.26.0rc1"))
	noScipy := writeLayer(t, dir, "noscipy", testlayers.Whiteout("usr/lib/python3/dist-packages/scipy-1.11.4.dist-info"))
	conda := writeLayer(t, dir, "conda", testlayers.CondaMeta("python", "3.12.1"), testlayers.CondaMeta("pymatgen", "2024.2.8"), testlayers.CondaMeta("numpy", "2.0.1"))
	// apt rewrites the whole status file: the upper layer holds every package.
	rlang := writeLayer(t, dir, "r", dpkgStatus("libc6=2.36-9+deb12u4", "python3.11=3.11.2-6", "openssl=3.0.11-1~deb12u2", "r-base-core=4.3.2-1"), testlayers.RDescription("ggplot2", "3.4.4"))

	pushLayers(t, h+"/lab/base:12", "", map[string]string{"org.opencontainers.image.title": "Lab base"}, base)
	pushLayers(t, h+"/lab/sci:1", h+"/lab/base:12", map[string]string{"org.opencontainers.image.description": "scientific python", "org.oyster.hub": "true"}, sci)
	pushLayers(t, h+"/lab/old:1", h+"/lab/base:12", nil, old)
	pushLayers(t, h+"/lab/rc:1", h+"/lab/base:12", nil, rc)
	pushLayers(t, h+"/lab/slim:1", h+"/lab/sci:1", nil, noScipy)
	pushLayers(t, h+"/materials/pymatgen:2024", "", map[string]string{"CUDA_VERSION": "12.2.0"}, conda)
	pushLayers(t, h+"/stats/r:4.3", h+"/lab/base:12", nil, rlang)

	eventually(t, h, "pkg:numpy>=1.26", "lab/sci:1", "lab/slim:1", "materials/pymatgen:2024")
	eventually(t, h, "pkg:numpy<1.26", "lab/old:1", "lab/rc:1")
	eventually(t, h, "pkg:scipy", "lab/sci:1") // the whiteout removed it from slim
	eventually(t, h, "pkg:deb/openssl>=3.0.11-1~deb12u1", "lab/base:12", "lab/old:1", "lab/rc:1", "lab/sci:1", "lab/slim:1", "stats/r:4.3")
	eventually(t, h, "pkg:deb/openssl>3.0.11-1~deb12u2")       // Debian ordering: nothing newer
	eventually(t, h, "python:3.12", "materials/pymatgen:2024") // conda's python
	eventually(t, h, "pymatgen -python:3.11", "materials/pymatgen:2024")
	eventually(t, h, "pkg:ggplot2 r:4.3", "stats/r:4.3")
	eventually(t, h, "os:debian:12 -pkg:numpy", "lab/base:12", "stats/r:4.3")
	eventually(t, h, "label:org.oyster.hub=true", "lab/sci:1", "lab/slim:1") // labels are inherited from the base config
	eventually(t, h, "base:lab/sci", "lab/slim:1")
	eventually(t, h, "scientific", "lab/sci:1", "lab/slim:1")
	eventually(t, h, "scientific -base:lab/sci", "lab/sci:1")

	rec := getImage(t, h, "lab/sci:1")
	derived, _ := rec["derived"].([]any)
	if len(derived) != 1 || derived[0].(map[string]any)["repository"] != "lab/slim" {
		t.Fatalf("derived images of lab/sci: %v", rec["derived"])
	}

	// Deleting a manifest removes it from the catalog.
	run(t, "crane", "delete", "--insecure", h+"/lab/old@"+digestOf(t, h+"/lab/old:1"))
	eventually(t, h, "pkg:numpy<1.26", "lab/rc:1")

	resp, err := http.Get("http://" + h + "/api/v1/search?q=" + url.QueryEscape("pkg:numpy>>1"))
	if err != nil || resp.StatusCode != 400 {
		t.Fatalf("malformed constraint: %v %v", resp, err)
	}
}

// gzipBomb is a small gzip stream of n zero bytes inside a tar entry.
func gzipBomb(t *testing.T, dir string, n int64) string {
	t.Helper()
	p := filepath.Join(dir, "bomb.tar.gz")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw, _ := gzip.NewWriterLevel(f, gzip.BestCompression)
	tarStream := testlayers.Stream(func(tw *tar.Writer) error {
		if err := tw.WriteHeader(&tar.Header{Name: "var/lib/dpkg/status", Mode: 0o644, Size: n, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := io.CopyN(tw, testlayers.Zeros{}, n)
		return err
	})
	if _, err := io.Copy(zw, tarStream); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCatalogBadLayers pushes a gzip bomb: the push succeeds, the record
// says what failed, and other images keep indexing.
func TestCatalogBadLayers(t *testing.T) {
	requireTool(t, "crane")
	reg := startRegistry(t, "", "OYSTER_CATALOG_MAX_LAYER_BYTES=16777216", "OYSTER_CATALOG_MAX_FILE_BYTES=1048576")
	h, dir := reg.Host, t.TempDir()
	bomb := gzipBomb(t, dir, 64<<20)
	if fi, _ := os.Stat(bomb); fi.Size() > 1<<20 {
		t.Fatalf("bomb is %d bytes compressed", fi.Size())
	}
	pushLayers(t, h+"/bad/bomb:1", "", nil, bomb)
	pushLayers(t, h+"/good/app:1", "", nil, writeLayer(t, dir, "ok", testlayers.DistInfo("requests", "2.31.0")))
	eventually(t, h, "pkg:requests", "good/app:1")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		rec := getImage(t, h, "bad/bomb:1")
		if errs, _ := rec["index_errors"].([]any); len(errs) > 0 {
			if !strings.Contains(fmt.Sprint(errs), "limit") {
				t.Fatalf("index_errors do not name the limit: %v", errs)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("bomb record has no index_errors: %v", rec)
		}
	}
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
