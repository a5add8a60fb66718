package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCrane pushes, pulls, copies, tags and deletes with crane.
func TestCrane(t *testing.T) {
	requireTool(t, "crane")
	reg := startRegistry(t, "")
	h := reg.Host
	dgst := pushImage(t, h+"/crane/busybox:1", "linux/amd64")

	out := filepath.Join(t.TempDir(), "image.tar")
	run(t, "crane", "pull", "--insecure", h+"/crane/busybox:1", out)
	if fi, err := os.Stat(out); err != nil || fi.Size() < 500_000 {
		t.Fatalf("pulled tarball missing or too small: %v %v", fi, err)
	}

	run(t, "crane", "copy", "--insecure", h+"/crane/busybox:1", h+"/crane/copied:1")
	if got := digestOf(t, h+"/crane/copied:1"); got != dgst {
		t.Fatalf("copy changed the digest: %s != %s", got, dgst)
	}
	run(t, "crane", "tag", "--insecure", h+"/crane/copied:1", "stable")
	tags := run(t, "crane", "ls", "--insecure", h+"/crane/copied")
	if strings.Fields(tags)[0] != "1" || !strings.Contains(tags, "stable") {
		t.Fatalf("tags after crane tag: %q", tags)
	}
	if got := digestOf(t, h+"/crane/copied:stable"); got != dgst {
		t.Fatalf("tag points at %s, want %s", got, dgst)
	}
	catalog := run(t, "crane", "catalog", "--insecure", h)
	if !strings.Contains(catalog, "crane/busybox") || !strings.Contains(catalog, "crane/copied") {
		t.Fatalf("catalog lacks pushed repositories: %q", catalog)
	}

	run(t, "crane", "delete", "--insecure", h+"/crane/copied@"+dgst)
	if out, err := runErr("crane", "manifest", "--insecure", h+"/crane/copied@"+dgst); err == nil || !strings.Contains(out, "MANIFEST_UNKNOWN") {
		t.Fatalf("deleted manifest still served (err=%v): %s", err, out)
	}
	if got := digestOf(t, h+"/crane/busybox:1"); got != dgst {
		t.Fatalf("deleting from one repository changed another: %s", got)
	}
}

func digestOf(t *testing.T, ref string) string {
	t.Helper()
	return strings.TrimSpace(run(t, "crane", "digest", "--insecure", ref))
}

// TestSkopeo copies Docker schema 2, OCI and multi-arch images through the
// registry with skopeo, which verifies every blob digest as it copies.
func TestSkopeo(t *testing.T) {
	requireTool(t, "skopeo")
	requireTool(t, "crane")
	reg := startRegistry(t, "")
	h := reg.Host
	tls := []string{"--src-tls-verify=false", "--dest-tls-verify=false"}
	indexDigest := pushMultiArch(t, h, "src/multi", "1")

	run(t, "skopeo", append([]string{"copy", "--all", "--preserve-digests"}, append(tls, "docker://"+h+"/src/multi:1", "docker://"+h+"/skopeo/multi:1")...)...)
	if got := digestOf(t, h+"/skopeo/multi:1"); got != indexDigest {
		t.Fatalf("multi-arch round trip changed the index digest: %s != %s", got, indexDigest)
	}
	var index struct {
		Manifests []struct {
			Platform struct{ Architecture string } `json:"platform"`
		} `json:"manifests"`
	}
	raw := run(t, "skopeo", "inspect", "--raw", "--tls-verify=false", "docker://"+h+"/skopeo/multi:1")
	if err := json.Unmarshal([]byte(raw), &index); err != nil || len(index.Manifests) != 2 {
		t.Fatalf("index after round trip: %v %s", err, raw)
	}

	for _, format := range []struct{ flag, mediaType string }{
		{"v2s2", "application/vnd.docker.distribution.manifest.v2+json"},
		{"oci", "application/vnd.oci.image.manifest.v1+json"},
	} {
		dest := h + "/skopeo/" + format.flag + ":1"
		run(t, "skopeo", append([]string{"copy", "--format", format.flag}, append(tls, "docker://"+h+"/src/multi:1-linux-amd64", "docker://"+dest)...)...)
		raw := run(t, "skopeo", "inspect", "--raw", "--tls-verify=false", "docker://"+dest)
		if !strings.Contains(raw, format.mediaType) {
			t.Fatalf("%s copy stored %s", format.flag, raw)
		}
		if sha256Digest([]byte(raw)) != digestOf(t, dest) {
			t.Fatalf("%s: served manifest does not hash to its digest", format.flag)
		}
		dir := t.TempDir()
		run(t, "skopeo", "copy", "--src-tls-verify=false", "docker://"+dest, "dir:"+dir)
		checkDirDigests(t, dir)
	}
}

// checkDirDigests verifies that every blob skopeo wrote to a dir: transport
// hashes to the digest the manifest names.
func checkDirDigests(t *testing.T, dir string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Config struct{ Digest string }   `json:"config"`
		Layers []struct{ Digest string } `json:"layers"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, d := range append([]string{m.Config.Digest}, layerDigests(m.Layers)...) {
		blob, err := os.ReadFile(filepath.Join(dir, strings.TrimPrefix(d, "sha256:")))
		if err != nil {
			t.Fatal(err)
		}
		if got := sha256Digest(blob); got != d {
			t.Fatalf("blob %s hashes to %s", d, got)
		}
	}
}

func layerDigests(layers []struct{ Digest string }) []string {
	var out []string
	for _, l := range layers {
		out = append(out, l.Digest)
	}
	return out
}

// TestOras pushes an artifact, a SIF the way apptainer does, and an SBOM
// attached as a referrer, then finds it with oras discover.
func TestOras(t *testing.T) {
	requireTool(t, "oras")
	reg := startRegistry(t, "")
	h := reg.Host
	work := t.TempDir()
	chdir(t, work)

	write(t, "notes.txt", "measured on 2 cores\n")
	write(t, "data.bin", strings.Repeat("\x00\x01oyster", 10000))
	run(t, "oras", "push", "--plain-http", h+"/oras/artifact:v1", "--artifact-type", "application/vnd.oyster.test",
		"notes.txt:text/plain", "data.bin")
	out := t.TempDir()
	run(t, "oras", "pull", "--plain-http", h+"/oras/artifact:v1", "-o", out)
	for _, f := range []string{"notes.txt", "data.bin"} {
		want, _ := os.ReadFile(f)
		got, err := os.ReadFile(filepath.Join(out, f))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s pulled back differs (%v)", f, err)
		}
	}

	t.Run("sif", func(t *testing.T) { orasSIF(t, h) })
	t.Run("sbom referrer", func(t *testing.T) { orasSBOM(t, h) })
}

func orasSIF(t *testing.T, h string) {
	sifBytes := writeSIF(t, "tool.sif")
	write(t, "sif-config.json", "{}")
	run(t, "oras", "push", "--plain-http", h+"/oras/sif/tool:1.0",
		"--config", "sif-config.json:application/vnd.sylabs.sif.config.v1+json",
		"tool.sif:application/vnd.sylabs.sif.layer.v1.sif")
	var m struct {
		MediaType string `json:"mediaType"`
		Config    struct {
			MediaType, Digest string
		} `json:"config"`
		Layers []struct {
			MediaType, Digest string
			Annotations       map[string]string `json:"annotations"`
		} `json:"layers"`
	}
	raw := run(t, "oras", "manifest", "fetch", "--plain-http", h+"/oras/sif/tool:1.0")
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatal(err)
	}
	if m.MediaType != "application/vnd.oci.image.manifest.v1+json" || m.Config.MediaType != "application/vnd.sylabs.sif.config.v1+json" ||
		m.Config.Digest != "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a" ||
		len(m.Layers) != 1 || m.Layers[0].MediaType != "application/vnd.sylabs.sif.layer.v1.sif" ||
		m.Layers[0].Annotations["org.opencontainers.image.title"] != "tool.sif" {
		t.Fatalf("SIF manifest is not what apptainer pushes: %s", raw)
	}
	if m.Layers[0].Digest != sha256Digest(sifBytes) {
		t.Fatalf("SIF layer digest %s, file %s", m.Layers[0].Digest, sha256Digest(sifBytes))
	}
	// SIF readers seek: a range request returns exactly those bytes.
	got, code := getRange(t, fmt.Sprintf("http://%s/v2/oras/sif/tool/blobs/%s", h, m.Layers[0].Digest), "bytes=0-127")
	if code != http.StatusPartialContent || !bytes.Equal(got, sifBytes[:128]) {
		t.Fatalf("range request: status %d, %d bytes, want the first 128 bytes of the SIF", code, len(got))
	}
	tail := fmt.Sprintf("bytes=%d-", len(sifBytes)-10)
	if got, code := getRange(t, fmt.Sprintf("http://%s/v2/oras/sif/tool/blobs/%s", h, m.Layers[0].Digest), tail); code != http.StatusPartialContent || !bytes.Equal(got, sifBytes[len(sifBytes)-10:]) {
		t.Fatalf("tail range: status %d", code)
	}
}

func orasSBOM(t *testing.T, h string) {
	write(t, "sbom.spdx.json", `{"spdxVersion":"SPDX-2.3","name":"artifact","packages":[{"name":"numpy","versionInfo":"1.26.4"}]}`)
	run(t, "oras", "attach", "--plain-http", h+"/oras/artifact:v1", "--artifact-type", "application/spdx+json", "sbom.spdx.json:application/spdx+json")
	raw := run(t, "oras", "discover", "--plain-http", "--format", "json", h+"/oras/artifact:v1")
	var found struct {
		Referrers []struct {
			ArtifactType string `json:"artifactType"`
			Digest       string `json:"digest"`
		} `json:"referrers"`
	}
	if err := json.Unmarshal([]byte(raw), &found); err != nil {
		t.Fatalf("oras discover output: %v\n%s", err, raw)
	}
	if len(found.Referrers) != 1 || found.Referrers[0].ArtifactType != "application/spdx+json" {
		t.Fatalf("oras discover found %s", raw)
	}
	// The registry served it from the referrers API, not the tag fallback.
	tags := run(t, "oras", "repo", "tags", "--plain-http", h+"/oras/artifact")
	if strings.Contains(tags, "sha256-") {
		t.Fatalf("oras fell back to referrers tags: %s", tags)
	}
}

func getRange(t *testing.T, url, rng string) ([]byte, int) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Range", rng)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return body, resp.StatusCode
}

func chdir(t *testing.T, dir string) {
	t.Helper()
	t.Chdir(dir)
}

func write(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
