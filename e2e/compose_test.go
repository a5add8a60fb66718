package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/oyster-registry/oyster/internal/testlayers"
)

// composeHealthyWithin bounds the time from `up -d` returning to the
// service being healthy (the compose file probes every 5 s).
const composeHealthyWithin = 60 * time.Second

// TestCompose brings Oyster up with the repository's docker-compose.yml and
// Dockerfile, as a user would on a machine that cannot pull a Go image
// (`make image-files`, OYSTER_BUILD_TARGET=prebuilt): it becomes healthy,
// runs as a non-root user on a read-only root filesystem with one volume,
// takes a docker push and serves a pull, and keeps every image and the
// catalog across `down` and `up`.
func TestCompose(t *testing.T) {
	c := newComposeProject(t)

	c.up(t)
	h := c.host
	id := c.containerID(t)
	var ctr struct {
		Config     struct{ User string }
		HostConfig struct{ ReadonlyRootfs bool }
		Mounts     []struct{ Type, Name, Destination string }
	}
	dockerJSONObject(t, &ctr, "container", "inspect", id)
	if ctr.Config.User != "65532:65532" || !ctr.HostConfig.ReadonlyRootfs || len(ctr.Mounts) != 1 ||
		ctr.Mounts[0].Type != "volume" || ctr.Mounts[0].Destination != "/data" || ctr.Mounts[0].Name != c.project+"_oyster-data" {
		t.Fatalf("the registry container runs as %+v, want user 65532:65532, a read-only root and one volume on /data", ctr)
	}

	layer := writeLayer(t, t.TempDir(), "compose", busyboxEntry(t), debianRelease,
		dpkgStatus("oyster-compose-tool=2.0-1"), testlayers.File("etc/marker", "composed\n"))
	local := dockerImport(t, layer, "LABEL org.example.stack=compose-e2e")
	ref := h + "/compose/tool:1"
	dockerTag(t, local, ref)
	pushed := dockerPush(t, ref)
	eventually(t, h, "pkg:oyster-compose-tool label:org.example.stack=compose-e2e", "compose/tool:1")
	dockerRemove(t, ref)
	dockerForget(t, ref+"@"+pushed)
	run(t, "docker", "pull", h+"/compose/tool@"+pushed)

	c.compose(t, "down")
	if out, err := runErr("docker", "container", "inspect", id); err == nil {
		t.Fatalf("the container outlived compose down: %s", out)
	}
	c.up(t)
	if got := digestOf(t, ref); got != pushed {
		t.Fatalf("after down and up compose/tool:1 is %q, pushed %s", got, pushed)
	}
	eventually(t, h, "pkg:oyster-compose-tool label:org.example.stack=compose-e2e", "compose/tool:1")
	if rec := getImage(t, h, "compose/tool:1"); rec["digest"] != pushed {
		t.Fatalf("catalog after down and up: %v", rec)
	}
}

// composeProject is one `compose -p NAME` run of the repository's compose
// file on a free port, with an image name of its own, made from the
// repository's image files (`make image-files`); the test's end runs
// `down -v` and removes that image.
type composeProject struct {
	project, image, host string
	cmd                  []string
	env                  []string
}

func newComposeProject(t *testing.T) *composeProject {
	t.Helper()
	requireDocker(t)
	requireTool(t, "make")
	requireTool(t, "crane")
	run(t, "make", "-C", repoRoot(), "image-files")
	project := uniqueName()
	port := hubFreePorts(t, 1)[0]
	c := &composeProject{
		project: project, image: project + "/registry:test", host: fmt.Sprintf("127.0.0.1:%d", port),
		cmd: composeCommand(t),
		env: []string{"OYSTER_BUILD_TARGET=prebuilt", fmt.Sprintf("OYSTER_PORT=%d", port), "OYSTER_IMAGE=" + project + "/registry:test"},
	}
	t.Cleanup(func() {
		if out, err := c.composeErr("down", "-v"); err != nil {
			t.Errorf("compose down -v: %v\n%s", err, out)
		}
		runErr("docker", "image", "rm", c.image)
	})
	return c
}

// up runs `up -d --build` and waits for the service to be healthy.
func (c *composeProject) up(t *testing.T) {
	t.Helper()
	c.compose(t, "up", "-d", "--build")
	id := c.containerID(t)
	start := time.Now()
	var status string
	for time.Since(start) < composeHealthyWithin {
		if status = strings.TrimSpace(run(t, "docker", "inspect", "--format", "{{.State.Health.Status}}", id)); status == "healthy" {
			t.Logf("compose service healthy %.1f s after up -d returned", time.Since(start).Seconds())
			waitHealthy(t, c.host) // and reachable through the published port
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	logs, _ := runErr("docker", "logs", id)
	t.Fatalf("compose service not healthy within %s (status %q); logs:\n%s", composeHealthyWithin, status, logs)
}

func (c *composeProject) containerID(t *testing.T) string {
	t.Helper()
	id := strings.TrimSpace(c.compose(t, "ps", "-q", "registry"))
	if id == "" {
		t.Fatal("compose ps shows no registry container")
	}
	return id
}

func (c *composeProject) compose(t *testing.T, args ...string) string {
	t.Helper()
	out, err := c.composeErr(args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", strings.Join(c.cmd, " "), strings.Join(args, " "), err, out)
	}
	return out
}

func (c *composeProject) composeErr(args ...string) (string, error) {
	full := append(append(c.cmd[1:len(c.cmd):len(c.cmd)], "-p", c.project, "-f", filepath.Join(repoRoot(), "docker-compose.yml")), args...)
	cmd := exec.Command(c.cmd[0], full...)
	cmd.Dir = repoRoot()
	cmd.Env = append(os.Environ(), c.env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// composeCommand is `docker compose` where the Compose plugin is
// installed, else `docker-compose` (Debian 12 packages Compose 1.29).
func composeCommand(t *testing.T) []string {
	t.Helper()
	if _, err := runErr("docker", "compose", "version"); err == nil {
		return []string{"docker", "compose"}
	}
	if _, err := exec.LookPath("docker-compose"); err == nil {
		return []string{"docker-compose"}
	}
	t.Fatal("neither `docker compose` nor docker-compose is installed: run scripts/install-test-deps.sh")
	return nil
}

// dockerJSONObject decodes the one object a docker inspect prints.
func dockerJSONObject(t *testing.T, v any, args ...string) {
	t.Helper()
	var list []json.RawMessage
	dockerJSON(t, &list, args...)
	if len(list) != 1 || json.Unmarshal(list[0], v) != nil {
		t.Fatalf("docker %s printed %d objects", strings.Join(args, " "), len(list))
	}
}

// repoRoot is the repository's top directory.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..")
}
