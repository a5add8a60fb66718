package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestJupyterHubStartsNotebook starts a notebook server from the catalog
// for real. A Debian rootfs with Debian's jupyterhub package (built by
// scripts/notebook-rootfs.sh, cached in .cache/rootfs) is imported into
// docker, labelled for the hub, pushed to Oyster and removed locally. In
// headless Chromium alice logs in to JupyterHub, picks it from the spawn
// page's dropdown and starts it; the hub's spawner (a small DockerSpawner
// stand-in, hub/testdata/docker_run_spawner.py) pulls exactly the pinned
// repo@sha256 from Oyster and runs its jupyterhub-singleuser, and the
// browser reaches the notebook server's page through the hub's proxy.
func TestJupyterHubStartsNotebook(t *testing.T) {
	requireDocker(t)
	for _, tool := range []string{"jupyterhub", "configurable-http-proxy"} {
		requireTool(t, tool)
	}
	began := time.Now()
	rootfs := notebookRootfs(t)
	t.Logf("notebook rootfs ready in %.0f s: %s", time.Since(began).Seconds(), rootfs)

	reg := startRegistry(t, "")
	began = time.Now()
	local := dockerImport(t, rootfs, "LABEL org.oyster.hub=true",
		`LABEL org.opencontainers.image.title="Debian notebook"`, `CMD ["jupyterhub-singleuser"]`)
	ref := reg.Host + "/hubtest/notebook:bookworm"
	dockerTag(t, local, ref)
	pinned := reg.Host + "/hubtest/notebook@" + dockerPush(t, ref)
	dockerRemove(t, local, ref) // the spawner must pull it from Oyster
	dockerForget(t, pinned)
	t.Logf("imported and pushed with docker in %.0f s", time.Since(began).Seconds())
	began = time.Now()
	hubWaitForImagesWithin(t, reg, 5*time.Minute, pinned)
	t.Logf("indexed and offered to the hub in %.0f s", time.Since(began).Seconds())
	// The catalog read Debian's package database in docker's layer.
	eventually(t, reg.Host, "pkg:deb/jupyterhub>=3 pkg:deb/python3-notebook", "hubtest/notebook:bookworm")

	prefix := uniqueName()
	container := prefix + "-alice"
	t.Cleanup(func() { runErr("docker", "rm", "-f", container) })
	hub := startHub(t, "http://"+reg.Host, "HUB_SPAWNER=docker", "HUB_CONTAINER_PREFIX="+prefix)
	browser := uiBrowser(t, true)
	hubLogin(t, browser, hub, "alice")
	if offered := hubValues(hubSpawnOptions(t, browser, hub)); !slices.Contains(offered, pinned) {
		t.Fatalf("the spawn page offers %v, not %s", offered, pinned)
	}

	began = time.Now()
	hubSubmit(t, browser, hub, pinned)
	page := hubWaitForNotebook(t, browser, hub, "alice")
	t.Logf("from Start to the notebook page in %.0f s: %s", time.Since(began).Seconds(), page)

	recs := hubRecords(t, hub)
	if len(recs) != 1 || recs[0].Image != pinned || recs[0].UserOptions["image"] != pinned ||
		"/hubtest/notebook@"+recs[0].Pulled != strings.TrimPrefix(pinned, reg.Host) ||
		!strings.Contains(recs[0].PullOutput, "Downloaded newer image for "+pinned) {
		t.Fatalf("the spawner pulled %+v, want exactly %s downloaded from Oyster", recs, pinned)
	}
	if image := strings.TrimSpace(run(t, "docker", "inspect", "--format", "{{.Config.Image}} {{.State.Running}}", container)); image != pinned+" true" {
		t.Fatalf("container %s runs %q, want %s running", container, image, pinned)
	}
	waitPulls(t, reg.Host, "hubtest/notebook:bookworm", 1) // Oyster counted the spawner's pull
}

// notebookRootfs returns the cached notebook rootfs tar, building it first
// when this machine has none (several minutes: see the script).
func notebookRootfs(t *testing.T) string {
	t.Helper()
	requireTool(t, "debootstrap")
	out, err := exec.Command(repoRoot() + "/scripts/notebook-rootfs.sh").Output()
	if err != nil {
		t.Fatalf("scripts/notebook-rootfs.sh: %v\n%s", err, hubStderr(err))
	}
	return strings.TrimSpace(string(out))
}

// hubWaitForNotebook follows the spawn-pending page until the browser shows
// the user's notebook server (its file list) through the hub's proxy, and
// returns that page's address. It asks the page every second: the page
// navigates on its own (pending, then the server, then its login round
// trip), and a question asked mid-navigation gets no answer, only an error.
func hubWaitForNotebook(t *testing.T, browser context.Context, hub *hubProc, user string) string {
	t.Helper()
	ready := chromedp.Evaluate[string](fmt.Sprintf(
		`(location.href.startsWith(%q) && document.querySelector("#notebook_list") !== null) ? location.href : ""`,
		hub.URL+"/user/"+user+"/"))
	var err error
	for deadline := time.Now().Add(10 * time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
		ctx, cancel := context.WithTimeout(browser, 10*time.Second)
		var url string
		url, err = chromedp.Run(ctx, ready)
		cancel()
		if err == nil && url != "" {
			return url
		}
	}
	dump, cancelDump := context.WithTimeout(browser, 5*time.Second)
	defer cancelDump()
	page, _ := chromedp.Run(dump, chromedp.Evaluate[string](`location.href + "\n" + (document.body ? document.body.innerText : "")`))
	t.Fatalf("the notebook server's page never showed within 10 minutes (last error: %v); the browser is at %s\nJupyterHub log:\n%s", err, page, hub.Log())
	return ""
}
