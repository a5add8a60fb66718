package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/oyster-registry/oyster/internal/testlayers"
)

// TestDocker drives Docker Engine against the registry the way docker users
// do, telling docker nothing special (127.0.0.0/8 registries are plain HTTP
// to docker by default): push, tag, manifest inspect, pull by tag and by
// digest, image rm and pull again, search, login; images pushed by other
// clients (a multi-platform index, gzip and zstd layers); a SIF it cannot
// run; and what the catalog makes of docker's pushes and pulls.
func TestDocker(t *testing.T) {
	requireDocker(t)
	for _, tool := range []string{"crane", "skopeo", "oras"} {
		requireTool(t, tool)
	}
	reg := startRegistry(t, "")
	h := reg.Host
	tool := h + "/docker/tool"

	// An image only docker has: imported from a layer with a dpkg database,
	// so that the catalog has packages to find.
	layer := writeLayer(t, t.TempDir(), "tool", busyboxEntry(t), debianRelease,
		dpkgStatus("oyster-docker-tool=1.2.3-1", "libc6=2.36-9"), testlayers.File("etc/marker", "docker tool\n"))
	local := dockerImport(t, layer, "LABEL org.example.stack=docker-e2e", `LABEL org.opencontainers.image.title="Docker e2e tool"`)
	dockerTag(t, local, tool+":1")
	dockerTag(t, local, tool+":latest")

	pushed := dockerPush(t, tool+":1")
	if got := digestOf(t, tool+":1"); got != pushed {
		t.Fatalf("docker push reported %s, the registry serves %s", pushed, got)
	}
	dockerPush(t, tool+":latest")

	t.Run("manifest inspect", func(t *testing.T) {
		var m manifestJSON
		dockerJSON(t, &m, "manifest", "inspect", "--insecure", tool+":1")
		if m.MediaType != "application/vnd.docker.distribution.manifest.v2+json" || len(m.Layers) != 1 ||
			m.Layers[0].MediaType != "application/vnd.docker.image.rootfs.diff.tar.gzip" {
			t.Fatalf("docker manifest inspect: %+v, want one gzip layer in a docker schema 2 manifest", m)
		}
		if id := dockerInspect(t, local, "{{.Id}}"); m.Config.Digest != id {
			t.Fatalf("pushed config %s, local image %s", m.Config.Digest, id)
		}
	})

	t.Run("catalog finds what docker pushed", func(t *testing.T) {
		eventually(t, h, "pkg:oyster-docker-tool>=1.2 label:org.example.stack=docker-e2e", "docker/tool:1", "docker/tool:latest")
		rec := getImage(t, h, "docker/tool:1")
		if rec["digest"] != pushed || !strings.Contains(fmt.Sprint(rec["packages"]), "oyster-docker-tool") {
			t.Fatalf("catalog record of docker/tool:1: %v", rec)
		}
	})

	t.Run("image rm, pull by tag and by digest; pull counts move", func(t *testing.T) {
		before := imagePulls(t, h, "docker/tool:1")
		dockerRemove(t, local, tool+":1", tool+":latest")
		if _, err := runErr("docker", "image", "inspect", tool+":1"); err == nil {
			t.Fatal("the image is still there after docker image rm")
		}
		out := run(t, "docker", "pull", tool+":1")
		if !strings.Contains(out, "Pull complete") || !strings.Contains(out, "Digest: "+pushed) {
			t.Fatalf("docker pull did not download %s again:\n%s", pushed, out)
		}
		dockerForget(t, tool+":1", tool+"@"+pushed)
		run(t, "docker", "pull", tool+"@"+pushed)
		if digests := dockerInspect(t, tool+":1", "{{json .RepoDigests}}"); !strings.Contains(digests, tool+"@"+pushed) {
			t.Fatalf("RepoDigests %s lack %s", digests, pushed)
		}
		if got := dockerRunImage(t, tool+"@"+pushed, "cat", "/etc/marker"); got != "docker tool" {
			t.Fatalf("the pulled image holds %q in /etc/marker", got)
		}
		waitPulls(t, h, "docker/tool:1", before+2)
	})

	t.Run("search", func(t *testing.T) {
		out := run(t, "docker", "search", h+"/pkg:oyster-docker-tool")
		if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[1], "docker/tool ") ||
			!strings.Contains(lines[1], "Docker e2e tool") {
			t.Fatalf("docker search by package found:\n%s", out)
		}
		if out := run(t, "docker", "search", h+"/pkg:no-such-package"); strings.Count(strings.TrimSpace(out), "\n") != 0 {
			t.Fatalf("docker search for nothing found:\n%s", out)
		}
	})

	t.Run("login to the open registry", func(t *testing.T) { dockerLogin(t, h) })

	t.Run("multi-platform index pushed by skopeo", func(t *testing.T) {
		index := pushMultiArch(t, h, "src/multi", "1")
		run(t, "skopeo", "copy", "--all", "--preserve-digests", "--src-tls-verify=false", "--dest-tls-verify=false",
			"docker://"+h+"/src/multi:1", "docker://"+h+"/docker/multi:1")
		var idx struct {
			MediaType string `json:"mediaType"`
			Manifests []struct {
				Platform struct{ Architecture string } `json:"platform"`
			} `json:"manifests"`
		}
		dockerJSON(t, &idx, "manifest", "inspect", "--insecure", h+"/docker/multi:1")
		if idx.MediaType != "application/vnd.oci.image.index.v1+json" || len(idx.Manifests) != 2 {
			t.Fatalf("docker manifest inspect of the index: %+v", idx)
		}
		dockerForget(t, h+"/docker/multi:1")
		if out := run(t, "docker", "pull", h+"/docker/multi:1"); !strings.Contains(out, "Digest: "+index) {
			t.Fatalf("docker pulled something other than index %s:\n%s", index, out)
		}
		if arch := dockerInspect(t, h+"/docker/multi:1", "{{.Architecture}}"); arch != "amd64" {
			t.Fatalf("docker chose the %s image", arch)
		}
		if got := dockerRunImage(t, h+"/docker/multi:1", "cat", "/etc/marker"); got != "linux-amd64" {
			t.Fatalf("the amd64 child holds %q", got)
		}
	})

	t.Run("gzip layers from another client", func(t *testing.T) {
		ref := h + "/docker/crane-gzip:1"
		dgst := pushImage(t, ref, "linux/amd64")
		if mt := layerMediaType(t, ref); mt != "application/vnd.oci.image.layer.v1.tar+gzip" {
			t.Fatalf("crane pushed a %s layer", mt)
		}
		dockerForget(t, ref)
		if out := run(t, "docker", "pull", ref); !strings.Contains(out, "Digest: "+dgst) {
			t.Fatalf("docker pull %s:\n%s", ref, out)
		}
		if got := dockerRunImage(t, ref, "cat", "/etc/marker"); got != "linux-amd64" {
			t.Fatalf("the gzip image holds %q", got)
		}
	})

	t.Run("zstd layers", func(t *testing.T) { dockerZstd(t, h) })

	t.Run("a SIF is refused clearly", func(t *testing.T) {
		ref := h + "/docker/sif:1"
		pushSIFWithOras(t, ref)
		dockerForget(t, ref)
		out, err := runErr("docker", "pull", ref)
		if err == nil || !strings.Contains(out, "unsupported media type application/vnd.sylabs.sif.config.v1+json") {
			t.Fatalf("docker pull of a SIF (err=%v):\n%s", err, out)
		}
		if _, err := runErr("docker", "image", "inspect", ref); err == nil {
			t.Fatal("a failed pull left an image behind")
		}
		run(t, "docker", "info", "--format", "{{.ServerVersion}}") // the daemon is still there
	})
}

// dockerZstd pulls an image whose layer is zstd. Docker Engine reads zstd
// layers from 23.0 on; older engines (Debian 12's docker.io is 20.10)
// download and verify the layer and then fail to unpack it, which is
// docker's limit, not the registry's: the test checks the behaviour of the
// engine it has (podman runs the same kind of image in TestPodman).
func dockerZstd(t *testing.T, h string) {
	ref := h + "/docker/zstd:1"
	layer := writeLayer(t, t.TempDir(), "zstd", busyboxEntry(t), testlayers.File("etc/marker", "zstd layer\n"))
	pushZstdImage(t, ref, layer)
	dockerForget(t, ref)
	out, err := runErr("docker", "pull", ref)
	if major := dockerEngineMajor(t); major >= 23 {
		if err != nil {
			t.Fatalf("docker %d pulling zstd layers: %v\n%s", major, err, out)
		}
		if got := dockerRunImage(t, ref, "cat", "/etc/marker"); got != "zstd layer" {
			t.Fatalf("the zstd image holds %q", got)
		}
		return
	}
	if err == nil || !strings.Contains(out, "Download complete") || !strings.Contains(out, "failed to register layer") {
		t.Fatalf("docker engine %d (before 23 it cannot unpack zstd) pulling zstd layers (err=%v):\n%s", dockerEngineMajor(t), err, out)
	}
	t.Logf("docker engine %d downloads the zstd layer but cannot unpack it (zstd needs docker 23+)", dockerEngineMajor(t))
}

// pushZstdImage pushes an OCI image for linux/amd64 whose one layer is the
// tar at tarPath compressed with zstd, and returns its digest.
func pushZstdImage(t *testing.T, ref, tarPath string) string {
	t.Helper()
	host, repoTag, _ := strings.Cut(ref, "/")
	repo, tag, _ := strings.Cut(repoTag, ":")
	raw, err := os.ReadFile(tarPath)
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := zstd.NewWriter(nil)
	layer := enc.EncodeAll(raw, nil)
	config, _ := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux",
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{sha256Digest(raw)}},
	})
	for _, blob := range [][]byte{layer, config} {
		if err := uploadStream(host, repo, sha256Digest(blob), bytes.NewReader(blob)); err != nil {
			t.Fatalf("uploading a blob of %s: %v", ref, err)
		}
	}
	manifest, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256Digest(config), "size": len(config)},
		"layers": []any{map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar+zstd", "digest": sha256Digest(layer), "size": len(layer)}},
	})
	putManifest(t, host, repo, tag, "application/vnd.oci.image.manifest.v1+json", manifest)
	return sha256Digest(manifest)
}

// dockerLogin logs in to the open registry as docker users do, with a
// config directory of the test's own: docker accepts any credentials
// because /v2/ asks for none, records them, and logs out again.
func dockerLogin(t *testing.T, h string) {
	cfg := t.TempDir()
	login := exec.Command("docker", "--config", cfg, "login", "--username", "someone", "--password-stdin", h)
	login.Stdin = strings.NewReader("any secret\n")
	out, err := login.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Login Succeeded") {
		t.Fatalf("docker login: %v\n%s", err, out)
	}
	var stored struct{ Auths map[string]any }
	raw, _ := os.ReadFile(filepath.Join(cfg, "config.json"))
	if err := json.Unmarshal(raw, &stored); err != nil || stored.Auths[h] == nil {
		t.Fatalf("docker login stored no credentials for %s: %s", h, raw)
	}
	dockerForget(t, h+"/docker/tool:1")
	run(t, "docker", "--config", cfg, "pull", h+"/docker/tool:1") // logged in, it still pulls
	if out := run(t, "docker", "--config", cfg, "logout", h); !strings.Contains(out, "Removing login credentials for "+h) {
		t.Fatalf("docker logout: %s", out)
	}
}

// pushSIFWithOras pushes a SIF as apptainer does (see TestOras).
func pushSIFWithOras(t *testing.T, ref string) {
	t.Helper()
	t.Chdir(t.TempDir())
	writeSIF(t, "tool.sif")
	write(t, "sif-config.json", "{}")
	run(t, "oras", "push", "--plain-http", ref,
		"--config", "sif-config.json:application/vnd.sylabs.sif.config.v1+json",
		"tool.sif:application/vnd.sylabs.sif.layer.v1.sif")
}

type manifestJSON struct {
	MediaType string `json:"mediaType"`
	Config    struct {
		MediaType, Digest string
	} `json:"config"`
	Layers []struct {
		MediaType, Digest string
	} `json:"layers"`
}

func layerMediaType(t *testing.T, ref string) string {
	t.Helper()
	var m manifestJSON
	if err := json.Unmarshal([]byte(run(t, "crane", "manifest", "--insecure", ref)), &m); err != nil || len(m.Layers) != 1 {
		t.Fatalf("manifest of %s: %v %+v", ref, err, m)
	}
	return m.Layers[0].MediaType
}

// imagePulls is the catalog's pull count of repo:tag.
func imagePulls(t *testing.T, host, ref string) float64 {
	t.Helper()
	n, _ := getImage(t, host, ref)["pulls"].(float64)
	return n
}

// waitPulls polls until the pull count of ref reaches want: the registry
// saves pull counts every ten seconds.
func waitPulls(t *testing.T, host, ref string, want float64) {
	t.Helper()
	var got float64
	for deadline := time.Now().Add(40 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if got = imagePulls(t, host, ref); got >= want {
			return
		}
	}
	t.Fatalf("pull count of %s is %v, want at least %v", ref, got, want)
}

// -- docker helpers, shared by the docker, compose and JupyterHub tests ----

// requireDocker fails the test unless the docker client and its daemon work.
func requireDocker(t *testing.T) {
	t.Helper()
	requireTool(t, "docker")
	if out, err := runErr("docker", "info", "--format", "{{.ServerVersion}}"); err != nil {
		t.Fatalf("the docker daemon does not answer: %v\n%s", err, out)
	}
}

var engineMajor = regexp.MustCompile(`^(\d+)\.`)

func dockerEngineMajor(t *testing.T) int {
	t.Helper()
	v := strings.TrimSpace(run(t, "docker", "version", "--format", "{{.Server.Version}}"))
	m := engineMajor.FindStringSubmatch(v)
	if m == nil {
		t.Fatalf("docker engine version %q", v)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// uniqueName is a name no other run uses, for docker objects a test
// creates and removes: oyster-e2e-<random>.
func uniqueName() string {
	b := make([]byte, 5)
	rand.Read(b)
	return "oyster-e2e-" + hex.EncodeToString(b)
}

// dockerImport imports a tar as a new local image with Dockerfile changes
// (LABEL, CMD, ...) and removes it when the test ends.
func dockerImport(t *testing.T, tarPath string, changes ...string) string {
	t.Helper()
	ref := uniqueName() + ":1"
	args := []string{"import"}
	for _, c := range changes {
		args = append(args, "--change", c)
	}
	run(t, "docker", append(args, tarPath, ref)...)
	dockerForget(t, ref)
	return ref
}

// dockerTag tags src as ref and removes the tag when the test ends.
func dockerTag(t *testing.T, src, ref string) {
	t.Helper()
	run(t, "docker", "tag", src, ref)
	dockerForget(t, ref)
}

// dockerForget removes local images by reference when the test ends.
func dockerForget(t *testing.T, refs ...string) {
	t.Cleanup(func() {
		for _, ref := range refs {
			runErr("docker", "image", "rm", ref)
		}
	})
}

func dockerRemove(t *testing.T, refs ...string) {
	t.Helper()
	run(t, "docker", append([]string{"image", "rm"}, refs...)...)
}

var pushedDigest = regexp.MustCompile(`digest: (sha256:[0-9a-f]{64}) size: \d+`)

// dockerPush pushes ref and returns the digest docker reported.
func dockerPush(t *testing.T, ref string) string {
	t.Helper()
	out := run(t, "docker", "push", ref)
	m := pushedDigest.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("docker push %s reported no digest:\n%s", ref, out)
	}
	return m[1]
}

func dockerInspect(t *testing.T, ref, format string) string {
	t.Helper()
	return strings.TrimSpace(run(t, "docker", "image", "inspect", "--format", format, ref))
}

func dockerJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	out := run(t, "docker", args...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// dockerRunImage runs busybox's applet cmd in image and returns its output.
func dockerRunImage(t *testing.T, image string, cmd ...string) string {
	t.Helper()
	name := uniqueName()
	t.Cleanup(func() { runErr("docker", "rm", "-f", name) })
	return strings.TrimSpace(run(t, "docker", append([]string{"run", "--rm", "--name", name, "--network", "none", image, "/bin/busybox"}, cmd...)...))
}
