package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	sylabs "github.com/sylabs/sif/v2/pkg/sif"

	"github.com/oyster-registry/oyster/internal/testlayers"
)

// busyboxLayer writes a tar layer holding the static busybox from Debian's
// busybox-static package plus a marker file, so that pushed images are real
// runnable images rather than random bytes.
func busyboxLayer(t *testing.T, dir, marker string) string {
	t.Helper()
	return writeLayer(t, dir, marker, busyboxEntry(t), testlayers.File("etc/marker", marker+"\n"))
}

// busyboxEntry is Debian's static busybox as bin/busybox.
func busyboxEntry(t *testing.T) testlayers.Entry {
	t.Helper()
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatalf("busybox-static is not installed: run scripts/install-test-deps.sh: %v", err)
	}
	busybox := testlayers.File("bin/busybox", string(bb))
	busybox.Mode = 0o755
	return busybox
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
// object) as apptainer would push it.
func writeSIF(t *testing.T, path string) []byte {
	t.Helper()
	file := testlayers.SIF(t, time.Now(), testlayers.DefFile("Bootstrap: docker\nFrom: busybox\n"),
		testlayers.SIFObject{Type: sylabs.DataGeneric, Data: bytes.Repeat([]byte("oyster"), 4096)})
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

func sha256Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
