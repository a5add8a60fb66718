package e2e

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oyster-registry/oyster/api"
	"github.com/oyster-registry/oyster/oci"
	"github.com/oyster-registry/oyster/oci/sif"
)

const gitsyncSecret = "hook-secret"

// postReceiveHook posts a GitHub-format push payload, signed with
// HMAC-SHA256 over the raw body, for every ref a push updates.
const postReceiveHook = `#!/bin/sh
while read old new ref; do
  body=$(printf '{"ref":"%s","before":"%s","after":"%s","deleted":false,"repository":{"clone_url":"%s"},"head_commit":{"id":"%s"}}' "$ref" "$old" "$new" "$REPO_URL" "$new")
  sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$SECRET" | sed 's/^.*= //')
  curl -sS -o /dev/null -w 'webhook: %{http_code}\n' -X POST \
    -H 'Content-Type: application/json' -H 'X-GitHub-Event: push' \
    -H "X-Hub-Signature-256: sha256=$sig" --data-binary "$body" "$HOOK_URL"
done
`

// TestGitSync: recipes in bare repositories, pushed to with the real git
// binary, build with buildah (and docker), rebuild only what changed,
// cascade to the images built on a rebuilt base, and ignore forged hooks.
func TestGitSync(t *testing.T) {
	requireTool(t, "buildah")
	requireTool(t, "git")
	requireTool(t, "openssl")
	requireTool(t, "curl")
	requireTool(t, "docker")
	oras := requireTool(t, "oras")
	busybox := "/bin/busybox" // Debian's busybox-static: the only base image there is
	if _, err := os.Stat(busybox); err != nil {
		t.Fatalf("busybox-static is not installed: %v", err)
	}
	root := t.TempDir()
	hooked := gsBareRepo(t, filepath.Join(root, "hooked.git"))
	polled := gsBareRepo(t, filepath.Join(root, "polled.git"))
	hpc := gsBareRepo(t, filepath.Join(root, "hpc.git"))
	sources := fmt.Sprintf("[{name: lab, url: %s, branch: main, webhook_secret: %s}, {name: polled, url: %s, branch: main, poll_interval: 1s, builder: docker}, {name: hpc, url: %s, poll_interval: 1s}]",
		hooked, gitsyncSecret, polled, hpc)
	reg := startRegistry(t, "", "OYSTER_SOURCES="+sources, "OYSTER_GITSYNC_ALLOW_LOCAL=true", "OYSTER_GITSYNC_BUILDER=buildah")
	gsInstallHook(t, hooked, "http://"+reg.Host+"/api/v1/webhooks/github")

	work := gsCloneRepo(t, hooked, filepath.Join(root, "work"))
	gsCopyFile(t, busybox, filepath.Join(work, "base/busybox"))
	gsWriteFiles(t, work, map[string]string{
		"base/Dockerfile":  "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\nLABEL org.opencontainers.image.title=\"lab base\"\n",
		"app/Dockerfile":   fmt.Sprintf("FROM %s/lab/base:latest\nRUN echo app > /app.txt\nLABEL org.opencontainers.image.title=\"lab app\"\n", reg.Host),
		"tools/Dockerfile": fmt.Sprintf("FROM %s/lab/base:latest\nRUN echo tools > /tools.txt\n", reg.Host),
		"oyster.yaml":      "recipes:\n  app/Dockerfile:\n    hub: true\n",
	})
	first := gsCommitAndPush(t, work, "three recipes")

	// base builds on the push; app and tools are built on it, so the
	// cascade builds them after it, once.
	builds := gsWaitBuilds(t, reg, 3)
	byRecipe := map[string]api.Build{}
	for _, b := range builds {
		if b.Status != api.BuildSucceeded || b.Commit != first {
			t.Fatalf("build %+v did not succeed at %s; log:\n%s", b, first, gsBuildLog(t, reg, b.ID))
		}
		byRecipe[b.Recipe] = b
	}
	if byRecipe["base/Dockerfile"].Trigger != "push" || byRecipe["app/Dockerfile"].Trigger != "base lab/base" {
		t.Errorf("triggers: base %q, app %q; want push and the cascade", byRecipe["base/Dockerfile"].Trigger, byRecipe["app/Dockerfile"].Trigger)
	}
	app := byRecipe["app/Dockerfile"]
	for _, tag := range []string{first[:12], "main", "latest"} {
		m := gsFetchManifest(t, reg.Host, "lab/app", tag)
		if m.digest != app.Digest {
			t.Errorf("lab/app:%s is %s, the build says %s", tag, m.digest, app.Digest)
		}
		if m.Annotations["org.opencontainers.image.revision"] != first || m.Annotations["org.oyster.recipe"] != "app/Dockerfile" {
			t.Errorf("lab/app:%s annotations %v: want revision %s and the recipe path", tag, m.Annotations, first)
		}
	}

	t.Run("catalog finds the built image with its recipe metadata", func(t *testing.T) {
		reg.gsWaitSearch(t, `label:org.oyster.recipe=app/Dockerfile`, "lab/app")
		reg.gsWaitSearch(t, `label:"org.oyster.recipe.base=`+reg.Host+`/lab/base:latest"`, "lab/app")
		resp, err := http.Get("http://" + reg.Host + "/image/lab/app:main")
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(page), `id="recipe"`) || !strings.Contains(string(page), "echo app &gt; /app.txt") {
			t.Errorf("the image page shows no recipe:\n%s", page)
		}
	})
	t.Run("hub: true is offered to JupyterHub", func(t *testing.T) {
		var profiles api.Profiles
		gsGetJSON(t, "http://"+reg.Host+"/api/v1/hub/profiles", &profiles)
		raw, _ := json.Marshal(profiles)
		if !strings.Contains(string(raw), "lab/app") || strings.Contains(string(raw), "lab/tools") {
			t.Errorf("hub profiles %s: want lab/app and not lab/tools", raw)
		}
	})

	t.Run("a second push rebuilds only the recipe it changed", func(t *testing.T) {
		gsWriteFiles(t, work, map[string]string{
			"tools/Dockerfile": fmt.Sprintf("FROM %s/lab/base:latest\nRUN echo tools v2 > /tools.txt\n", reg.Host),
			"bad/Dockerfile":   "FROM scratch\nFOO bar\n",
		})
		second := gsCommitAndPush(t, work, "change tools, add a broken recipe")
		builds := gsWaitBuilds(t, reg, 5)
		got := map[string]string{}
		for _, b := range builds[:2] {
			got[b.Recipe] = b.Status
			if b.Commit != second {
				t.Errorf("build %s is of %s, want %s", b.ID, b.Commit, second)
			}
		}
		if got["tools/Dockerfile"] != api.BuildSucceeded || got["bad/Dockerfile"] != api.BuildFailed {
			t.Fatalf("second push built %v; want tools succeeded and bad failed, nothing else", got)
		}
		bad := builds[0]
		if bad.Recipe != "bad/Dockerfile" {
			bad = builds[1]
		}
		if !strings.Contains(bad.Error, "bad/Dockerfile:2: unknown instruction FOO") {
			t.Errorf("the malformed recipe failed with %q, want its line", bad.Error)
		}
		if m := gsFetchManifest(t, reg.Host, "lab/app", "main"); m.digest != app.Digest {
			t.Errorf("lab/app:main moved to %s without a change", m.digest)
		}
	})

	t.Run("rebuilding the base rebuilds its dependents", func(t *testing.T) {
		resp := gsPost(t, "http://"+reg.Host+"/api/v1/sources/lab/rebuild?recipe=base/Dockerfile", nil, nil)
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("rebuild: %s", resp.Status)
		}
		builds := gsWaitBuilds(t, reg, 8)
		got := map[string]string{}
		for _, b := range builds[:3] {
			got[b.Recipe] = b.Status + " " + b.Trigger
		}
		want := map[string]string{"base/Dockerfile": "succeeded rebuild", "app/Dockerfile": "succeeded base lab/base", "tools/Dockerfile": "succeeded base lab/base"}
		if !gsSameMap(got, want) {
			t.Errorf("rebuild of base built %v, want %v", got, want)
		}
	})

	t.Run("a forged webhook changes nothing", func(t *testing.T) {
		before := gsListBuilds(t, reg)
		body := []byte(fmt.Sprintf(`{"ref":"refs/heads/main","before":"%s","after":"%s","repository":{"clone_url":"%s"}}`, strings.Repeat("0", 40), first, hooked))
		for name, sig := range map[string]string{"wrong": "sha256=" + gsSign("not-the-secret", body), "missing": ""} {
			h := http.Header{"X-GitHub-Event": {"push"}}
			if sig != "" {
				h.Set("X-Hub-Signature-256", sig)
			}
			if resp := gsPost(t, "http://"+reg.Host+"/api/v1/webhooks/github", h, body); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s signature: %s, want 401", name, resp.Status)
			}
		}
		if after := gsListBuilds(t, reg); len(after) != len(before) {
			t.Errorf("a forged webhook queued %d builds", len(after)-len(before))
		}
		h := http.Header{"X-GitHub-Event": {"ping"}, "X-Hub-Signature-256": {"sha256=" + gsSign(gitsyncSecret, []byte(`{"zen":"x"}`))}}
		if resp := gsPost(t, "http://"+reg.Host+"/api/v1/webhooks/github?source=lab", h, []byte(`{"zen":"x"}`)); resp.StatusCode != http.StatusOK {
			t.Errorf("signed ping: %s", resp.Status)
		}
	})

	t.Run("a polled repository builds with docker", func(t *testing.T) {
		pw := gsCloneRepo(t, polled, filepath.Join(root, "polled-work"))
		gsWriteFiles(t, pw, map[string]string{"hello/Dockerfile": "FROM scratch\nCOPY greeting /greeting\n", "hello/greeting": "hi\n"})
		commit := gsCommitAndPush(t, pw, "a polled recipe")
		var built api.Build
		gsWaitFor(t, "the polled build", func() bool {
			for _, b := range gsListBuilds(t, reg) {
				if b.Source == "polled" && b.Status != api.BuildQueued && b.Status != api.BuildRunning {
					built = b
					return true
				}
			}
			return false
		})
		if built.Status != api.BuildSucceeded || built.Builder != "docker" || built.Commit != commit {
			t.Fatalf("polled build %+v; log:\n%s", built, gsBuildLog(t, reg, built.ID))
		}
		m := gsFetchManifest(t, reg.Host, "polled/hello", commit[:12])
		if m.digest != built.Digest {
			t.Errorf("polled/hello:%s is %s, the build says %s", commit[:12], m.digest, built.Digest)
		}
	})

	t.Run("a definition file builds to a SIF", func(t *testing.T) {
		hw := gsCloneRepo(t, hpc, filepath.Join(root, "hpc-work"))
		def := fmt.Sprintf(gitsyncDefFile, reg.Host)
		gsWriteFiles(t, hw, map[string]string{"mpi/Singularity": def, "mpi/greeting": "hello from %files\n"})
		commit := gsCommitAndPush(t, hw, "a definition file")
		built := gsWaitSource(t, reg, "hpc")
		if built.Status != api.BuildSucceeded || built.Builder != "buildah-sif" || built.Commit != commit {
			t.Fatalf("SIF build %+v; log:\n%s", built, gsBuildLog(t, reg, built.ID))
		}
		out := t.TempDir()
		run(t, oras, "pull", "--plain-http", "-o", out, reg.Host+"/hpc/mpi:"+commit[:12])
		f, err := os.Open(filepath.Join(out, "image.sif"))
		if err != nil {
			t.Fatalf("oras pull fetched no image.sif: %v", err)
		}
		defer f.Close()
		fi, _ := f.Stat()
		info, err := sif.Read(f, fi.Size(), oci.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if info.DefFile != def {
			t.Errorf("the SIF's definition file is %q, want the recipe", info.DefFile)
		}
		for k, v := range map[string]string{"Author": "lab@example.org", "org.opencontainers.image.revision": commit, "org.oyster.recipe.packages": "apt:hello"} {
			if info.Labels[k] != v {
				t.Errorf("SIF label %s = %q, want %q (labels %v)", k, info.Labels[k], v, info.Labels)
			}
		}
		for p, want := range map[string]string{"opt/greeting": "hello from %files\n", "opt/post.txt": "built\n"} {
			got, err := fs.ReadFile(info.Root, p)
			if err != nil || string(got) != want {
				t.Errorf("%s in the SIF: %q %v, want %q", p, got, err, want)
			}
		}
		if !strings.Contains(info.Runscript, "echo running") {
			t.Errorf("runscript %q", info.Runscript)
		}
		reg.gsWaitSearch(t, "pkg:hello", "hpc/mpi")
	})
}

// gitsyncDefFile is built on the lab base (%s: the registry's host).
const gitsyncDefFile = `Bootstrap: docker
From: %s/lab/base:latest

%%files
    greeting /opt/greeting

%%post
    apt-get install -y hello 2>/dev/null || true
    echo built > /opt/post.txt
    mkdir -p /var/lib/dpkg
    printf 'Package: hello
Status: install ok installed
Version: 2.10-3
Architecture: amd64

' > /var/lib/dpkg/status

%%labels
    Author lab@example.org

%%runscript
    echo running "$@"
`

// gsWaitSource waits for a finished build of source and returns the newest.
func gsWaitSource(t *testing.T, reg *registryProc, source string) api.Build {
	var built api.Build
	gsWaitFor(t, "a build of "+source, func() bool {
		for _, b := range gsListBuilds(t, reg) {
			if b.Source == source && b.Status != api.BuildQueued && b.Status != api.BuildRunning {
				built = b
				return true
			}
		}
		return false
	})
	return built
}

func gsSameMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func gsBareRepo(t *testing.T, dir string) string {
	run(t, "git", "init", "-q", "--bare", "-b", "main", dir)
	return dir
}

func gsInstallHook(t *testing.T, bare, hookURL string) {
	script := fmt.Sprintf("#!/bin/sh\nexport HOOK_URL=%q SECRET=%q REPO_URL=%q\n", hookURL, gitsyncSecret, bare) +
		strings.TrimPrefix(postReceiveHook, "#!/bin/sh\n")
	if err := os.WriteFile(filepath.Join(bare, "hooks", "post-receive"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
}

func gsCloneRepo(t *testing.T, bare, dir string) string {
	run(t, "git", "clone", "-q", bare, dir)
	run(t, "git", "-C", dir, "checkout", "-q", "-B", "main")
	return dir
}

func gsCommitAndPush(t *testing.T, dir, msg string) string {
	run(t, "git", "-C", dir, "add", "-A")
	run(t, "git", "-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "-m", msg)
	out := run(t, "git", "-C", dir, "push", "origin", "main")
	if strings.Contains(out, "webhook:") && !strings.Contains(out, "webhook: 200") {
		t.Fatalf("the post-receive hook's delivery failed:\n%s", out)
	}
	return strings.TrimSpace(run(t, "git", "-C", dir, "rev-parse", "HEAD"))
}

func gsWriteFiles(t *testing.T, dir string, files map[string]string) {
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func gsCopyFile(t *testing.T, from, to string) {
	raw, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	gsWriteFiles(t, filepath.Dir(to), map[string]string{filepath.Base(to): string(raw)})
	os.Chmod(to, 0o755)
}

func gsSign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

func gsPost(t *testing.T, u string, h http.Header, body []byte) *http.Response {
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func gsGetJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %s", u, resp.Status, raw)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("GET %s: %v in %s", u, err, raw)
	}
}

func gsListBuilds(t *testing.T, reg *registryProc) []api.Build {
	var list api.Builds
	gsGetJSON(t, "http://"+reg.Host+"/api/v1/builds", &list)
	return list.Builds
}

// waitBuilds waits until n builds exist and none is queued or running,
// and returns them newest first.
func gsWaitBuilds(t *testing.T, reg *registryProc, n int) []api.Build {
	t.Helper()
	var builds []api.Build
	gsWaitFor(t, fmt.Sprintf("%d finished builds", n), func() bool {
		builds = gsListBuilds(t, reg)
		var lab []api.Build
		for _, b := range builds {
			if b.Source != "lab" {
				continue
			}
			if b.Status == api.BuildQueued || b.Status == api.BuildRunning {
				return false
			}
			lab = append(lab, b)
		}
		builds = lab
		return len(lab) >= n
	})
	if len(builds) != n {
		t.Fatalf("%d builds, want %d: %+v", len(builds), n, builds)
	}
	return builds
}

// waitFor polls cond until it holds; it fails after ten minutes, far
// beyond any build here, so that a hang fails instead of blocking.
func gsWaitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func gsBuildLog(t *testing.T, reg *registryProc, id string) string {
	resp, err := http.Get("http://" + reg.Host + "/api/v1/builds/" + url.PathEscape(id) + "/log")
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return string(raw)
}

type gsManifest struct {
	digest      string
	Annotations map[string]string `json:"annotations"`
}

func gsFetchManifest(t *testing.T, host, repo, ref string) gsManifest {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+host+"/v2/"+repo+"/manifests/"+ref, nil)
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET manifest %s:%s: %s %s", repo, ref, resp.Status, raw)
	}
	var m gsManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m.digest = resp.Header.Get("Docker-Content-Digest")
	return m
}

// waitSearch waits until the catalog search q lists repo.
func (p *registryProc) gsWaitSearch(t *testing.T, q, repo string) {
	t.Helper()
	gsWaitFor(t, "search "+q, func() bool {
		var res api.SearchResults
		gsGetJSON(t, "http://"+p.Host+"/api/v1/search?q="+url.QueryEscape(q), &res)
		return slices.ContainsFunc(res.Results, func(h api.SearchHit) bool { return h.Repository == repo })
	})
}

// TestGitSyncBuildSurvivesKill: a registry killed with SIGKILL during a
// build finds the build "running" when it starts again, runs it again, and
// the queue carries on; no record stays "running".
func TestGitSyncBuildSurvivesKill(t *testing.T) {
	requireTool(t, "buildah")
	requireTool(t, "git")
	root := t.TempDir()
	bare := gsBareRepo(t, filepath.Join(root, "slow.git"))
	env := []string{"OYSTER_SOURCES=[{name: slow, url: " + bare + ", poll_interval: 1s}]", "OYSTER_GITSYNC_ALLOW_LOCAL=true", "OYSTER_GITSYNC_BUILDER=buildah"}
	data := filepath.Join(root, "data")
	reg := startRegistry(t, data, env...)
	work := gsCloneRepo(t, bare, filepath.Join(root, "work"))
	gsCopyFile(t, "/bin/busybox", filepath.Join(work, "busybox"))
	gsWriteFiles(t, work, map[string]string{"Dockerfile": "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"sleep\", \"5\"]\n"})
	commit := gsCommitAndPush(t, work, "a slow recipe")
	var running api.Build
	gsWaitFor(t, "the build to run", func() bool {
		for _, b := range gsListBuilds(t, reg) {
			if b.Status == api.BuildRunning && strings.Contains(gsBuildLog(t, reg, b.ID), "STEP 3/") {
				running = b
				return true
			}
		}
		return false
	})
	reg.Kill()

	reg = startRegistry(t, data, env...)
	built := gsWaitSource(t, reg, "slow")
	if built.ID != running.ID || built.Status != api.BuildSucceeded || built.Attempt != 2 || built.Commit != commit {
		t.Fatalf("after the kill: %+v, want build %s run again and succeeded; log:\n%s", built, running.ID, gsBuildLog(t, reg, built.ID))
	}
	if log := gsBuildLog(t, reg, built.ID); !strings.Contains(log, "the registry stopped during this build; it runs again") {
		t.Errorf("the log does not say the build ran again:\n%s", log)
	}
	for _, b := range gsListBuilds(t, reg) {
		if b.Status == api.BuildRunning || b.Status == api.BuildQueued {
			t.Errorf("build %s is %s after the restart", b.ID, b.Status)
		}
	}
	if m := gsFetchManifest(t, reg.Host, "slow", commit[:12]); m.digest != built.Digest {
		t.Errorf("slow:%s is %s, the build says %s", commit[:12], m.digest, built.Digest)
	}
}
