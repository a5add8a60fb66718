package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oyster-registry/oyster/internal/testlayers"
)

// TestPodman pushes an image podman imported, pulls it back, runs it
// (printing a file from its layer), runs an image whose layer is zstd,
// and searches: podman asks /v1/search first, so a
// catalog query (a label) finds the image.
func TestPodman(t *testing.T) {
	requireTool(t, "podman")
	requireTool(t, "crane")
	reg := startRegistry(t, "")
	h := reg.Host
	podman := newPodman(t)

	layer := writeLayer(t, t.TempDir(), "podman", busyboxEntry(t), testlayers.File("etc/marker", "from podman's layer\n"))
	podman.run(t, "import", "--change", "LABEL org.example.stack=podman-e2e", layer, "localhost/podman-e2e:1")
	ref := h + "/podman/tool:1"
	digestFile := filepath.Join(t.TempDir(), "digest")
	podman.run(t, "push", "--tls-verify=false", "--digestfile", digestFile, "localhost/podman-e2e:1", ref)
	pushed, _ := os.ReadFile(digestFile)
	if got := digestOf(t, ref); got != string(pushed) {
		t.Fatalf("podman pushed %q, the registry serves %s", pushed, got)
	}

	podman.run(t, "rmi", "localhost/podman-e2e:1")
	podman.run(t, "pull", "--tls-verify=false", ref)
	if got := strings.TrimSpace(podman.run(t, "image", "inspect", "--format", "{{.Digest}}", ref)); got != string(pushed) {
		t.Fatalf("podman pulled %s, pushed %s", got, pushed)
	}
	if got := podman.runImage(t, ref, "cat", "/etc/marker"); got != "from podman's layer" {
		t.Fatalf("podman run printed %q", got)
	}

	zstd := h + "/podman/zstd:1"
	pushZstdImage(t, zstd, writeLayer(t, t.TempDir(), "zstd", busyboxEntry(t), testlayers.File("etc/marker", "from a zstd layer\n")))
	run(t, "crane", "mutate", "--insecure", zstd, "-l", "org.example.stack=podman-e2e", "-t", zstd)
	podman.run(t, "pull", "--tls-verify=false", zstd)
	if got := podman.runImage(t, zstd, "cat", "/etc/marker"); got != "from a zstd layer" {
		t.Fatalf("podman run of the zstd image printed %q", got)
	}

	eventually(t, h, "label:org.example.stack=podman-e2e", "podman/tool:1", "podman/zstd:1")
	out := podman.run(t, "search", "--tls-verify=false", h+"/label:org.example.stack=podman-e2e")
	if !strings.Contains(out, h+"/podman/tool") || !strings.Contains(out, h+"/podman/zstd") {
		t.Fatalf("podman search by label found:\n%s", out)
	}
}

// podmanEnv is podman with storage of the test's own and the settings this
// machine's kernel needs (see MACHINE-NOTES: runc, cgroupfs, lower limits).
type podmanEnv struct{ args, env []string }

func newPodman(t *testing.T) *podmanEnv {
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, "containers.conf")
	if err := os.WriteFile(conf, []byte(`[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
`), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &podmanEnv{
		args: []string{"--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "run"), "--storage-driver", "vfs"},
		env:  []string{"CONTAINERS_CONF=" + conf},
	}
	return p
}

func (p *podmanEnv) run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := p.runErr(args...)
	if err != nil {
		t.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (p *podmanEnv) runErr(args ...string) (string, error) {
	return runEnv(p.env, "podman", append(append([]string{}, p.args...), args...)...)
}

// runImage runs busybox's applet cmd in image and returns its output.
func (p *podmanEnv) runImage(t *testing.T, image string, cmd ...string) string {
	t.Helper()
	return strings.TrimSpace(p.run(t, append([]string{"run", "--rm", "--network", "none", image, "/bin/busybox"}, cmd...)...))
}
