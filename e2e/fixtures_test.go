package e2e

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sylabs/sif/v2/pkg/sif"
)

// busyboxLayer writes a tar layer holding the static busybox from Debian's
// busybox-static package plus a marker file, so that pushed images are real
// runnable images rather than random bytes.
func busyboxLayer(t *testing.T, dir, marker string) string {
	t.Helper()
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatalf("busybox-static is not installed: run scripts/install-test-deps.sh: %v", err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, mode int64, body []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	add("bin/busybox", 0o755, bb)
	add("etc/marker", 0o644, []byte(marker+"\n"))
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, marker+".tar")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// pushImage pushes a one-layer OCI image for platform (os/arch) with crane and
// returns its digest.
func pushImage(t *testing.T, ref, platform string) string {
	t.Helper()
	dir := t.TempDir()
	layer := busyboxLayer(t, dir, strings.ReplaceAll(platform, "/", "-"))
	run(t, "crane", "append", "--insecure", "--oci-empty-base", "-f", layer, "-t", ref)
	run(t, "crane", "mutate", "--insecure", ref, "--set-platform", platform,
		"-l", "org.opencontainers.image.title=busybox test image", "-t", ref)
	return strings.TrimSpace(run(t, "crane", "digest", "--insecure", ref))
}

// pushMultiArch pushes linux/amd64 and linux/arm64 images and a plain OCI
// index of both as host/repo:tag; it returns the index digest. (crane's
// index append adds fields skopeo 1.9 refuses to copy unchanged.)
func pushMultiArch(t *testing.T, host, repo, tag string) string {
	t.Helper()
	var manifests []map[string]any
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		ref := fmt.Sprintf("%s/%s:%s-%s", host, repo, tag, strings.ReplaceAll(p, "/", "-"))
		pushImage(t, ref, p)
		raw := run(t, "crane", "manifest", "--insecure", ref)
		os, arch, _ := strings.Cut(p, "/")
		manifests = append(manifests, map[string]any{
			"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha256Digest([]byte(raw)),
			"size": len(raw), "platform": map[string]string{"os": os, "architecture": arch},
		})
	}
	index, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests,
	})
	putManifest(t, host, repo, tag, "application/vnd.oci.image.index.v1+json", index)
	return sha256Digest(index)
}

func putManifest(t *testing.T, host, repo, ref, mediaType string, body []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, fmt.Sprintf("http://%s/v2/%s/manifests/%s", host, repo, ref), bytes.NewReader(body))
	req.Header.Set("Content-Type", mediaType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		msg, _ := io.ReadAll(resp.Body)
		t.Fatalf("PUT manifest %s:%s: %d %s", repo, ref, resp.StatusCode, msg)
	}
}

// writeSIF writes a small but genuine SIF file (definition file and a data
// partition) as apptainer would push it.
func writeSIF(t *testing.T, path string) []byte {
	t.Helper()
	def, err := sif.NewDescriptorInput(sif.DataDeffile, strings.NewReader("Bootstrap: docker\nFrom: busybox\n"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := sif.NewDescriptorInput(sif.DataGeneric, bytes.NewReader(bytes.Repeat([]byte("oyster"), 4096)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := sif.CreateContainerAtPath(path, sif.OptCreateWithDescriptors(def, data))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.UnloadContainer(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func sha256Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
