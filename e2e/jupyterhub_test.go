package e2e

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/oyster-registry/oyster/auth/authtest"
	"github.com/oyster-registry/oyster/auth/oidctest"
)

// TestJupyterHubSpawnsCatalogImages runs Debian's JupyterHub with
// hub/testdata/jupyterhub_config.py (oyster_hub's options_form,
// options_from_form and pre_spawn_hook, and a spawner that records what it
// would start), and drives its spawn page in headless Chromium: the
// catalog's hub images are in the dropdown, the search box asks Oyster
// across origins, the spawner receives exactly the chosen image pinned by
// digest, a foreign image is refused, and an image pushed while the hub
// runs is offered on the next spawn page.
func TestJupyterHubSpawnsCatalogImages(t *testing.T) {
	for _, tool := range []string{"jupyterhub", "configurable-http-proxy", "crane", "python3"} {
		requireTool(t, tool)
	}
	reg := startRegistry(t, "")
	scipy := hubPushImage(t, reg.Host, "hubtest/scipy", "2026.03", "SciPy lab", "org.example.stack=scipy")
	torch := hubPushImage(t, reg.Host, "hubtest/torch", "2.5", "Torch lab", "org.example.stack=torch")
	private := pushImage(t, reg.Host+"/hubtest/private:1", "linux/amd64") // no hub label
	hubWaitForImages(t, reg, scipy, torch)

	t.Run("python callables against the registry", func(t *testing.T) {
		hubCheckCallables(t, reg.Host, []string{"SciPy lab", "Torch lab"}, []string{scipy, torch})
	})

	hub := startHub(t, "http://"+reg.Host)
	browser := uiBrowser(t, true)
	hubLogin(t, browser, hub, "alice")

	offered := hubSpawnOptions(t, browser, hub)
	if !slices.Equal(hubValues(offered), []string{scipy, torch}) {
		t.Fatalf("spawn page offers %v, want the two hub images %s and %s (not hubtest/private@%s)", offered, scipy, torch, private)
	}
	t.Logf("spawn page offers %v", offered)

	// Only Oyster can answer a label query: "found" means the browser's
	// cross-origin request succeeded (the fallback says the search failed).
	status, found := hubSearch(t, browser, hub, "label:org.example.stack=torch")
	if status != "1 image found" || !slices.Equal(hubValues(found), []string{torch}) {
		t.Fatalf("searching the catalog from the spawn page: status %q, options %v; want only %s", status, found, torch)
	}
	t.Logf("search through Oyster: %q, %v", status, found)

	hubSubmit(t, browser, hub, torch)
	hubExpectRecord(t, hub, 1, torch)

	hubSpawnOptions(t, browser, hub)
	foreign := "docker.io/library/python@sha256:" + strings.Repeat("ab", 32)
	if page := hubSubmitForged(t, browser, hub, foreign); !strings.Contains(page, "is not an image this hub offers") {
		t.Fatalf("a forged image was not refused; page says:\n%s", page)
	}
	hubExpectRecord(t, hub, 1, torch)

	fresh := hubPushImage(t, reg.Host, "hubtest/fresh", "1", "Fresh lab")
	hubWaitForImages(t, reg, fresh)
	hubWaitForOption(t, browser, hub, fresh)
	hubSubmit(t, browser, hub, fresh)
	hubExpectRecord(t, hub, 2, fresh)
}

// TestJupyterHubDropdownPerUser runs the registry with auth on and JupyterHub
// with an authenticator that keeps each user's Oyster token in auth_state,
// as OAuthenticator keeps an access token, twice: with robot tokens made
// by `registry token create` (alice's namespace private), and with opaque
// OIDC access tokens of an in-process provider, as Globus Auth issues them
// (group namespace lab private, alice in its readers' group). In Chromium,
// alice's dropdown holds the private image and the public one, bob's only
// the public one, bob forging the private image in the form is refused,
// and alice's choice reaches the spawner.
func TestJupyterHubDropdownPerUser(t *testing.T) {
	for _, tool := range []string{"jupyterhub", "configurable-http-proxy", "crane", "python3"} {
		requireTool(t, tool)
	}
	htpasswd := "OYSTER_AUTH_HTPASSWD_PATH=" + authtest.WriteHtpasswd(t, t.TempDir(), authUsers) // admin pushes
	t.Run("robot tokens", func(t *testing.T) {
		reg := startRegistry(t, "", htpasswd, "OYSTER_AUTH_PRIVATE_NAMESPACES=alice")
		hubDropdownsDiffer(t, reg, "alice/secret", func(user string) string {
			return robotToken(t, reg, user+"-hub", user+":pull")
		})
	})
	t.Run("OIDC access tokens", func(t *testing.T) {
		p := oidctest.Start(t, oidctest.Options{})
		p.AddUser(oidctest.User{Username: "alice", Groups: []string{"lab-readers"}})
		p.AddUser(oidctest.User{Username: "bob"})
		reg := startRegistry(t, "", htpasswd,
			"OYSTER_AUTH_OIDC_ISSUER="+p.Issuer, "OYSTER_AUTH_OIDC_AUDIENCE=oyster",
			"OYSTER_AUTH_OIDC_INTROSPECTION_CLIENT_ID="+p.IntrospectionClientID,
			"OYSTER_AUTH_OIDC_INTROSPECTION_CLIENT_SECRET="+p.IntrospectionSecret,
			"OYSTER_AUTH_NAMESPACES={lab: {private: true, groups: {lab-readers: read}}}")
		hubDropdownsDiffer(t, reg, "lab/secret", func(user string) string {
			return p.Token(t, oidctest.Mint{User: user, Opaque: true, Lifetime: time.Hour})
		})
	})
}

// hubDropdownsDiffer pushes a public hub image and a private one (to
// privateRepo, which alice may pull and bob may not) as the site admin,
// starts JupyterHub with each user's token from tokenOf, and checks both
// users' spawn pages in Chromium.
func hubDropdownsDiffer(t *testing.T, reg *registryProc, privateRepo string, tokenOf func(user string) string) {
	t.Helper()
	admin := []string{"DOCKER_CONFIG=" + t.TempDir()}
	mustEnv(t, admin, "crane", "auth", "login", reg.Host, "-u", "admin", "-p", authUsers["admin"])
	public := hubPushImageAs(t, admin, reg.Host, "hubtest/scipy", "1", "SciPy lab")
	secret := hubPushImageAs(t, admin, reg.Host, privateRepo, "1", "Alice's secret lab")
	tokens := map[string]string{"alice": tokenOf("alice"), "bob": tokenOf("bob")}
	hubWaitForImagesAs(t, reg, tokens["alice"], public, secret)

	tokensJSON, _ := json.Marshal(tokens)
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	hub := startHub(t, "http://"+reg.Host, "HUB_TOKENS="+string(tokensJSON), "JUPYTERHUB_CRYPT_KEY="+hex.EncodeToString(key))

	aliceBrowser := uiBrowser(t, true)
	hubLogin(t, aliceBrowser, hub, "alice")
	if offered := hubValues(hubSpawnOptions(t, aliceBrowser, hub)); !slices.Equal(offered, []string{secret, public}) && !slices.Equal(offered, []string{public, secret}) {
		t.Fatalf("alice's spawn page offers %v, want the private %s and the public %s", offered, secret, public)
	}

	bobBrowser := uiBrowser(t, true)
	hubLogin(t, bobBrowser, hub, "bob")
	if offered := hubValues(hubSpawnOptions(t, bobBrowser, hub)); !slices.Equal(offered, []string{public}) {
		t.Fatalf("bob's spawn page offers %v, want only the public %s", offered, public)
	}
	if page := hubSubmitForged(t, bobBrowser, hub, secret); !strings.Contains(page, "is not an image this hub offers you") {
		t.Fatalf("bob's forged choice of the private image was not refused; page says:\n%s", page)
	}
	if recs := hubRecords(t, hub); len(recs) != 0 {
		t.Fatalf("the spawner was asked to start %+v", recs)
	}

	hubSpawnOptions(t, aliceBrowser, hub)
	hubSubmit(t, aliceBrowser, hub, secret)
	hubExpectRecord(t, hub, 1, secret)
	checkNoSecrets(t, reg, tokens["alice"], tokens["bob"])
	for who, token := range tokens {
		if strings.Contains(hub.Log(), token) {
			t.Errorf("JupyterHub's log holds %s's token", who)
		}
	}
}

// hubPushImageAs is hubPushImage for a registry with auth on: crane runs
// with env (a DOCKER_CONFIG logged in).
func hubPushImageAs(t *testing.T, env []string, host, repo, tag, title string) string {
	t.Helper()
	ref := host + "/" + repo + ":" + tag
	mustEnv(t, env, "crane", "append", "--insecure", "--oci-empty-base", "-f", busyboxLayer(t, t.TempDir(), strings.ReplaceAll(repo, "/", "-")), "-t", ref)
	mustEnv(t, env, "crane", "mutate", "--insecure", ref, "--set-platform", "linux/amd64",
		"-l", "org.oyster.hub=true", "-l", "org.opencontainers.image.title="+title, "-t", ref)
	out := strings.Fields(mustEnv(t, env, "crane", "digest", "--insecure", ref))
	return host + "/" + repo + "@" + out[len(out)-1]
}

// hubWaitForImagesAs polls /api/v1/hub/images with a bearer token until it
// offers every image.
func hubWaitForImagesAs(t *testing.T, reg *registryProc, token string, images ...string) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+reg.Host+"/api/v1/hub/images", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		last = fmt.Sprintf("%d %s", resp.StatusCode, body)
		offered := map[string]string{}
		_ = json.Unmarshal(body, &offered)
		values := make([]string, 0, len(offered))
		for _, v := range offered {
			values = append(values, v)
		}
		if hubContainsAll(values, images) {
			return
		}
	}
	t.Fatalf("/api/v1/hub/images never offered %v within 30 s; last answer: %s\nregistry log:\n%s", images, last, reg.Log())
}

// hubPushImage pushes a hub-flagged image as host/repo:tag with a title and
// extra labels, and returns it pinned: host/repo@digest.
func hubPushImage(t *testing.T, host, repo, tag, title string, labels ...string) string {
	t.Helper()
	ref := host + "/" + repo + ":" + tag
	pushImage(t, ref, "linux/amd64")
	args := []string{"mutate", "--insecure", ref, "-l", "org.oyster.hub=true", "-l", "org.opencontainers.image.title=" + title}
	for _, l := range labels {
		args = append(args, "-l", l)
	}
	run(t, "crane", append(args, "-t", ref)...)
	return host + "/" + repo + "@" + strings.TrimSpace(run(t, "crane", "digest", "--insecure", ref))
}

// hubWaitForImages polls /api/v1/hub/images until it offers every image:
// the catalog indexes pushes asynchronously.
func hubWaitForImages(t *testing.T, reg *registryProc, images ...string) {
	t.Helper()
	hubWaitForImagesWithin(t, reg, 30*time.Second, images...)
}

// hubWaitForImagesWithin is hubWaitForImages with a bound of its own, for
// images whose indexing takes longer (a whole Debian system).
func hubWaitForImagesWithin(t *testing.T, reg *registryProc, bound time.Duration, images ...string) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(bound); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		offered := map[string]string{}
		last = hubGetJSON(t, "http://"+reg.Host+"/api/v1/hub/images", &offered)
		values := make([]string, 0, len(offered))
		for _, v := range offered {
			values = append(values, v)
		}
		if hubContainsAll(values, images) {
			return
		}
	}
	t.Fatalf("/api/v1/hub/images never offered %v within %s; last answer: %s\nregistry log:\n%s", images, bound, last, reg.Log())
}

func hubGetJSON(t *testing.T, url string, v any) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		_ = json.Unmarshal(body, v)
	}
	return fmt.Sprintf("%d %s", resp.StatusCode, body)
}

func hubContainsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// hubCallablesScript exercises the KubeSpawner and DockerSpawner callables
// against a real registry and prints what they returned.
const hubCallablesScript = `
import asyncio, json, re, sys
from oyster_hub import Oyster
oyster = Oyster(sys.argv[1], options="1")
profiles = asyncio.run(oyster.profile_list(None))
regex = profiles[-1]["profile_options"]["image"]["unlisted_choice"]["validation_regex"]
print(json.dumps({
    "profiles": [p["kubespawner_override"]["image"] for p in profiles[:-1]],
    "choices": [c["kubespawner_override"]["image"] for c in profiles[-1]["profile_options"]["image"]["choices"].values()],
    "allowed": oyster.allowed_images(None),
    "regex_admits": [bool(re.match(regex, image)) for image in sys.argv[2:]],
    "regex_admits_foreign": bool(re.match(regex, "docker.io/library/python@sha256:" + "0" * 64)),
}))
`

// hubCheckCallables runs hubCallablesScript; names are the images' display
// names, in order.
func hubCheckCallables(t *testing.T, host string, names, images []string) {
	t.Helper()
	cmd := exec.Command("python3", append([]string{"-c", hubCallablesScript, "http://" + host}, images...)...)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+hubDir())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("oyster_hub against the registry: %v\n%s", err, hubStderr(err))
	}
	var got struct {
		Profiles, Choices  []string
		Allowed            map[string]string
		RegexAdmits        []bool `json:"regex_admits"`
		RegexAdmitsForeign bool   `json:"regex_admits_foreign"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !slices.Equal(got.Profiles, images) || !slices.Equal(got.Choices, images) {
		t.Errorf("profile_list offers %v and choices %v, want %v", got.Profiles, got.Choices, images)
	}
	for i, img := range images {
		if got.Allowed[names[i]] != img || got.Allowed[img] != img || len(got.Allowed) != 2*len(images) {
			t.Errorf("allowed_images = %v, want %q and %s itself mapped to %s", got.Allowed, names[i], img, img)
		}
	}
	if slices.Contains(got.RegexAdmits, false) || got.RegexAdmitsForeign {
		t.Errorf("validation_regex admits ours: %v, a foreign image: %v", got.RegexAdmits, got.RegexAdmitsForeign)
	}
}

func hubStderr(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

// hubDir is the repository's hub/ directory.
func hubDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "hub")
}

// hubProc is one running JupyterHub.
type hubProc struct {
	URL     string // where the browser reaches it
	records string // the recording spawner's JSON lines
	logPath string
}

// Log returns what JupyterHub and its proxy logged so far.
func (h *hubProc) Log() string {
	raw, _ := os.ReadFile(h.logPath)
	return string(raw)
}

// startHub runs Debian's jupyterhub with hub/testdata/jupyterhub_config.py
// against Oyster at oysterURL (extraEnv: HUB_SPAWNER and its settings), and
// waits until it serves.
func startHub(t *testing.T, oysterURL string, extraEnv ...string) *hubProc {
	t.Helper()
	dir := t.TempDir()
	ports := hubFreePorts(t, 3)
	h := &hubProc{URL: fmt.Sprintf("http://127.0.0.1:%d", ports[0]), records: filepath.Join(dir, "records.jsonl"), logPath: filepath.Join(dir, "jupyterhub.log")}
	logFile, err := os.Create(h.logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(requireTool(t, "jupyterhub"), "-f", filepath.Join(hubDir(), "testdata", "jupyterhub_config.py"))
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, logFile, logFile
	cmd.Env = append(os.Environ(),
		"PYTHONPATH="+hubDir()+string(os.PathListSeparator)+filepath.Join(hubDir(), "testdata"),
		"OYSTER_URL="+oysterURL, "OYSTER_TTL=1", "HUB_RECORD_FILE="+h.records, "HUB_STATE_DIR="+dir,
		fmt.Sprintf("HUB_PORT=%d", ports[0]), fmt.Sprintf("HUB_API_PORT=%d", ports[1]), fmt.Sprintf("HUB_PROXY_API_PORT=%d", ports[2]),
		"HUB_PROXY_COMMAND="+hubProxyWrapper(t, dir))
	cmd.Env = append(cmd.Env, extraEnv...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // the proxy is its child: stop both
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hubStop(cmd) })
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		if resp, err := http.Get(h.URL + "/hub/api"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return h
			}
		}
	}
	t.Fatalf("JupyterHub did not serve %s/hub/api within 90 s; log:\n%s", h.URL, h.Log())
	return nil
}

// hubProxyWrapper writes a configurable-http-proxy that finds Debian's node
// modules: this machine's node does not search /usr/share/nodejs (see
// MACHINE-NOTES).
func hubProxyWrapper(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "configurable-http-proxy")
	script := fmt.Sprintf("#!/bin/sh\nNODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH} exec %s \"$@\"\n", requireTool(t, "configurable-http-proxy"))
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// hubStop stops JupyterHub and its proxy: SIGTERM to the process group,
// SIGKILL if it lingers.
func hubStop(cmd *exec.Cmd) {
	pgid := -cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(pgid, syscall.SIGKILL)
		<-done
	}
	_ = syscall.Kill(pgid, syscall.SIGKILL) // a proxy left behind
}

func hubFreePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var listeners []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range listeners {
		l.Close()
	}
	return ports
}

// hubDo runs a browser action with a bound, and fails the test with the
// page's text and the hub's log when it does not complete.
func hubDo[T any](t *testing.T, browser context.Context, hub *hubProc, what string, action chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(browser, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		dump, cancelDump := context.WithTimeout(browser, 5*time.Second)
		defer cancelDump()
		page, _ := chromedp.Run(dump, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		t.Fatalf("%s: %v\npage:\n%s\nJupyterHub log:\n%s", what, err, page, hub.Log())
	}
	return v
}

func hubLogin(t *testing.T, browser context.Context, hub *hubProc, user string) {
	t.Helper()
	hubDo(t, browser, hub, "logging in as "+user, chromedp.Steps(
		chromedp.Navigate(hub.URL+"/hub/login"),
		chromedp.WaitVisible(chromedp.ID("username_input")),
		chromedp.SendKeys(chromedp.ID("username_input"), user),
		chromedp.SendKeys(chromedp.ID("password_input"), "any password"),
		chromedp.Click(chromedp.ID("login_submit")),
		chromedp.WaitVisible(chromedp.ID("spawn_form")),
	))
}

// hubOption is one option of the spawn page's image select.
type hubOption struct {
	Value string `json:"value"`
	Text  string `json:"text"`
}

func hubValues(opts []hubOption) []string {
	var out []string
	for _, o := range opts {
		out = append(out, o.Value)
	}
	return out
}

var hubReadOptions = chromedp.Evaluate[[]hubOption](
	`Array.from(document.querySelectorAll("#oyster-image option")).map(o => ({value: o.value, text: o.text}))`)

// hubSpawnOptions opens the spawn page and lists the image select's options.
func hubSpawnOptions(t *testing.T, browser context.Context, hub *hubProc) []hubOption {
	t.Helper()
	hubDo(t, browser, hub, "opening the spawn page", chromedp.Steps(
		chromedp.Navigate(hub.URL+"/hub/spawn"),
		chromedp.WaitVisible(chromedp.ID("oyster-image")),
	))
	return hubDo(t, browser, hub, "reading the image options", hubReadOptions)
}

// hubSearch types query into the search box and returns the status line
// and the options left once the search has answered.
func hubSearch(t *testing.T, browser context.Context, hub *hubProc, query string) (string, []hubOption) {
	t.Helper()
	hubDo(t, browser, hub, "typing "+query, chromedp.SendKeys(chromedp.ID("oyster-image-search"), query))
	status := hubDo(t, browser, hub, "waiting for the search to answer", chromedp.Poll[string](
		`(s => /found|failed/.test(s) ? s : false)(document.getElementById("oyster-image-status").textContent)`,
		chromedp.WithPollingTimeout(20*time.Second)))
	return status, hubDo(t, browser, hub, "reading the image options", hubReadOptions)
}

// hubSubmit chooses image in the select and presses Start.
func hubSubmit(t *testing.T, browser context.Context, hub *hubProc, image string) {
	t.Helper()
	hubDo(t, browser, hub, "choosing "+image, chromedp.SetValue(chromedp.ID("oyster-image"), image))
	if chosen := hubDo(t, browser, hub, "reading the choice", chromedp.Value(chromedp.ID("oyster-image"))); chosen != image {
		t.Fatalf("the select has no option %s (it holds %q)", image, chosen)
	}
	hubDo(t, browser, hub, "submitting the spawn form", chromedp.Click(chromedp.CSS(`#spawn_form [type="submit"]`)))
}

// hubSubmitForged submits the form with its first option's value replaced
// by image, as a user editing the page would, and returns the page text.
func hubSubmitForged(t *testing.T, browser context.Context, hub *hubProc, image string) string {
	t.Helper()
	forge := fmt.Sprintf(`(() => { const s = document.getElementById("oyster-image"); s.options[0].value = %q; s.selectedIndex = 0; return true; })()`, image)
	hubDo(t, browser, hub, "forging the image option", chromedp.Evaluate[bool](forge))
	hubDo(t, browser, hub, "submitting a forged image", chromedp.Steps(
		chromedp.Click(chromedp.CSS(`#spawn_form [type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(".spawn-error-msg")),
	))
	return hubDo(t, browser, hub, "reading the page", chromedp.Evaluate[string](`document.body.innerText`))
}

// hubWaitForOption reloads the spawn page until it offers image: the hub
// caches Oyster's answer for a second (OYSTER_TTL), and is not restarted.
func hubWaitForOption(t *testing.T, ctx context.Context, hub *hubProc, image string) {
	t.Helper()
	var offered []hubOption
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if offered = hubSpawnOptions(t, ctx, hub); slices.Contains(hubValues(offered), image) {
			return
		}
	}
	t.Fatalf("the spawn page never offered %s within 30 s; it offers %v", image, offered)
}

// hubRecord is one start the recording spawner saw.
type hubRecord struct {
	User        string            `json:"user"`
	UserOptions map[string]string `json:"user_options"`
	Image       string            `json:"image"`
	// What docker_run_spawner pulled: the digest docker reported, its output.
	Pulled     string `json:"pulled"`
	PullOutput string `json:"pull_output"`
}

// hubExpectRecord waits for the spawner's n-th start and checks that it was
// asked for exactly image, in user_options and as the image to start.
func hubExpectRecord(t *testing.T, hub *hubProc, n int, image string) {
	t.Helper()
	var recs []hubRecord
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if recs = hubRecords(t, hub); len(recs) >= n {
			break
		}
	}
	if len(recs) != n {
		t.Fatalf("the spawner recorded %d starts, want %d: %+v\nJupyterHub log:\n%s", len(recs), n, recs, hub.Log())
	}
	want := hubRecord{User: "alice", UserOptions: map[string]string{"image": image}, Image: image}
	if got := recs[n-1]; got.User != want.User || got.Image != want.Image || len(got.UserOptions) != 1 || got.UserOptions["image"] != image {
		t.Fatalf("the spawner was asked for %+v, want %+v", got, want)
	}
	t.Logf("spawner start %d: %+v", n, recs[n-1])
}

func hubRecords(t *testing.T, hub *hubProc) []hubRecord {
	t.Helper()
	f, err := os.Open(hub.records)
	if os.IsNotExist(err) {
		return nil
	} else if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []hubRecord
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r hubRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("record %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	return recs
}
