package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/oyster-registry/oyster/internal/testlayers"
)

// uiChromium is Debian's chromium, which scripts/install-test-deps.sh
// installs; no browser is downloaded (there is no network for it).
const uiChromium = "/usr/bin/chromium"

// uiFixtures are what the browser tests search and open.
type uiFixtures struct {
	host      string
	sciDigest string
	sifDigest string
}

// uiPushFixtures pushes a Debian-like base, a scientific Python image on
// it, a conda image with a different Python and a SIF, and waits until
// the catalog has indexed them.
func uiPushFixtures(t *testing.T) uiFixtures {
	t.Helper()
	requireTool(t, "crane")
	requireTool(t, "oras")
	reg := startRegistry(t, "")
	h, dir := reg.Host, t.TempDir()
	base := writeLayer(t, dir, "base", debianRelease, dpkgStatus("libc6=2.36-9+deb12u4", "python3.11=3.11.2-6", "openssl=3.0.11-1~deb12u2"))
	sci := writeLayer(t, dir, "sci", testlayers.DistInfo("numpy", "1.26.4"), testlayers.DistInfo("scipy", "1.11.4"), testlayers.DistInfo("pandas", "2.1.4"))
	conda := writeLayer(t, dir, "conda", testlayers.CondaMeta("python", "3.12.1"), testlayers.CondaMeta("pymatgen", "2024.2.8"), testlayers.CondaMeta("numpy", "2.0.1"))

	pushLayers(t, h+"/lab/base:12", "", map[string]string{"org.opencontainers.image.title": "Lab base"}, base)
	f := uiFixtures{host: h}
	f.sciDigest = pushLayers(t, h+"/lab/sci:1", h+"/lab/base:12", map[string]string{
		"org.opencontainers.image.title":       "Scientific Python",
		"org.opencontainers.image.description": "NumPy, SciPy and pandas on Debian 12",
		"org.opencontainers.image.source":      "https://git.example/lab/recipes",
	}, sci)
	pushLayers(t, h+"/materials/pymatgen:2024", "", map[string]string{
		"org.opencontainers.image.title": "pymatgen", "org.opencontainers.image.description": "Materials analysis with numpy 2",
	}, conda)

	work := t.TempDir()
	sifPath, cfgPath := filepath.Join(work, "blast.sif"), filepath.Join(work, "config.json")
	writeSIF(t, sifPath)
	if err := os.WriteFile(cfgPath, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("oras", "push", "--plain-http", h+"/tools/blast:2.15",
		"--config", "config.json:application/vnd.sylabs.sif.config.v1+json", "blast.sif:application/vnd.sylabs.sif.layer.v1.sif")
	cmd.Dir = work
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("oras push: %v\n%s", err, out)
	}
	f.sifDigest = digestOf(t, h+"/tools/blast:2.15")
	eventually(t, h, "pkg:numpy", "lab/sci:1", "materials/pymatgen:2024")
	eventually(t, h, "type:sif", "tools/blast:2.15")
	return f
}

// uiBrowser starts a headless Chromium with a fresh profile and returns a
// tab on it; javascript=false runs the tab with scripts disabled.
func uiBrowser(t *testing.T, javascript bool) context.Context {
	t.Helper()
	if _, err := os.Stat(uiChromium); err != nil {
		t.Fatalf("chromium is not installed at %s: run scripts/install-test-deps.sh (the README's test command does): %v", uiChromium, err)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(uiChromium), chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900))
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	if !javascript {
		if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
			return err
		})); err != nil {
			t.Fatal(err)
		}
	}
	return ctx
}

// uiDo runs browser steps with a deadline, failing the test on error.
func uiDo(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// uiEval evaluates a JavaScript expression in the page through DevTools
// (which works with the page's own scripts disabled too).
func uiEval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.EvaluateAsDevTools[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// uiWaitFor polls a JavaScript condition from DevTools until it holds.
func uiWaitFor(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !uiEval[bool](t, ctx, "!!("+cond+")") {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s (%s); page at %s:\n%s", what, cond,
				uiEval[string](t, ctx, "location.href"), uiEval[string](t, ctx, "document.body ? document.body.innerText : ''"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// uiTexts returns the trimmed text of every element matching a CSS selector.
func uiTexts(t *testing.T, ctx context.Context, selector string) []string {
	t.Helper()
	return uiEval[[]string](t, ctx, fmt.Sprintf(
		`Array.from(document.querySelectorAll(%q)).filter(e => !e.closest('[hidden]')).map(e => e.textContent.trim())`, selector))
}

// uiArtifacts is where screenshots go: $OYSTER_TEST_ARTIFACTS, or
// e2e/artifacts (ignored by git).
func uiArtifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("OYSTER_TEST_ARTIFACTS")
	if dir == "" {
		dir = "artifacts"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// uiScreenshot saves the whole page as name.png at desktop and phone width.
func uiScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	for _, v := range []struct {
		suffix string
		w, h   int64
		mobile bool
	}{{"desktop", 1280, 900, false}, {"phone", 390, 844, true}} {
		opts := []chromedp.EmulateViewportOption{}
		if v.mobile {
			opts = append(opts, chromedp.EmulateMobile)
		}
		uiDo(t, ctx, "resizing to "+v.suffix, chromedp.EmulateViewport(v.w, v.h, opts...))
		time.Sleep(150 * time.Millisecond) // let layout settle at the new width
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		path := filepath.Join(uiArtifacts(t), name+"-"+v.suffix+".png")
		if err := os.WriteFile(path, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", path)
	}
	uiDo(t, ctx, "back to desktop width", chromedp.EmulateViewport(1280, 900))
}

func uiWant(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s: got %q, want %q", what, got, want)
	}
}

// TestUIBrowser drives the catalog UI in a real headless Chromium against
// a registry with pushed images: with JavaScript (as-you-type search,
// facets, image page, package filter, base link) and without (the form).
func TestUIBrowser(t *testing.T) {
	t.Run("empty catalog", uiEmptyCatalog)
	f := uiPushFixtures(t)
	t.Run("javascript", func(t *testing.T) { uiWithJavaScript(t, f) })
	t.Run("no javascript", func(t *testing.T) { uiWithoutJavaScript(t, f) })
}

// uiEmptyCatalog checks that a new registry's home page says how to push
// the first image, with this registry's address in the commands.
func uiEmptyCatalog(t *testing.T) {
	reg := startRegistry(t, "")
	ctx := uiBrowser(t, true)
	uiDo(t, ctx, "opening home", chromedp.Navigate("http://"+reg.Host+"/"), chromedp.WaitVisible(chromedp.CSS(".empty")))
	cmds := uiTexts(t, ctx, ".empty .cmd code")
	if len(cmds) == 0 || !strings.Contains(cmds[0], "docker://"+reg.Host+"/") {
		t.Fatalf("first-push commands: %q", cmds)
	}
	uiScreenshot(t, ctx, "empty")
}

func uiWithJavaScript(t *testing.T, f uiFixtures) {
	ctx := uiBrowser(t, true)
	base := "http://" + f.host
	uiDo(t, ctx, "opening home", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#q")))
	if got := uiTexts(t, ctx, ".lead"); len(got) != 1 || !strings.Contains(got[0], "4 images in 4 repositories") {
		t.Fatalf("home counts: %q", got)
	}
	uiScreenshot(t, ctx, "home")

	// As-you-type: the results appear without leaving the page.
	uiDo(t, ctx, "typing a query", chromedp.Click(chromedp.CSS("#q")), chromedp.SendKeys(chromedp.CSS("#q"), "numpy"))
	uiWaitFor(t, ctx, "results as you type", `document.querySelector('#results:not([hidden]) .hit') && location.search === '?q=numpy'`)
	if uiEval[string](t, ctx, "document.body.className") != "page-home" {
		t.Fatal("typing submitted the form instead of searching in place")
	}
	hits := uiTexts(t, ctx, "#results .hit-name")
	sort.Strings(hits) // ranked by relevance; either may come first
	uiWant(t, "results for numpy", hits, "lab/sci", "materials/pymatgen")
	uiScreenshot(t, ctx, "results")

	// A facet narrows the query, and says so in the URL and the box.
	uiDo(t, ctx, "clicking the python 3.12 facet", chromedp.Click(chromedp.CSS(`#results .facet a[href*="python%3A3.12"]`)))
	uiWaitFor(t, ctx, "the narrowed results", `document.querySelector('.facet a.active')`)
	uiWant(t, "results for numpy python:3.12", uiTexts(t, ctx, ".hit-name"), "materials/pymatgen")
	if q := uiEval[string](t, ctx, "document.querySelector('#q').value"); q != "numpy python:3.12" {
		t.Fatalf("search box after the facet: %q", q)
	}

	uiImagePage(t, ctx, f)
}

// uiImagePage opens lab/sci from the results, checks its packages and pull
// commands, filters the packages, and follows the base-image link.
func uiImagePage(t *testing.T, ctx context.Context, f uiFixtures) {
	uiDo(t, ctx, "searching for scipy", chromedp.Navigate("http://"+f.host+"/search?q=scipy"))
	uiDo(t, ctx, "opening the result", chromedp.Click(chromedp.CSS(`.hit a[href*="/image/lab/sci@"]`)))
	uiWaitFor(t, ctx, "the image page", `document.querySelector('#pkg-table')`)
	if h1 := uiTexts(t, ctx, "h1"); len(h1) != 1 || h1[0] != "Scientific Python" {
		t.Fatalf("image page heading: %q", h1)
	}
	pkgs := uiTexts(t, ctx, "#pkg-table tbody th")
	for _, want := range []string{"numpy", "scipy", "pandas", "libc6", "python3.11", "openssl"} {
		if !strings.Contains(strings.Join(pkgs, " "), want) {
			t.Errorf("packages table lacks %s: %q", want, pkgs)
		}
	}
	ref := f.host + "/lab/sci"
	uiWant(t, "pull commands", uiTexts(t, ctx, "#pull .cmd code"),
		"docker pull "+ref+"@"+f.sciDigest, "docker pull "+ref+":1",
		"podman pull --tls-verify=false "+ref+"@"+f.sciDigest, "podman pull --tls-verify=false "+ref+":1",
		"apptainer pull --no-https docker://"+ref+"@"+f.sciDigest, "apptainer pull --no-https docker://"+ref+":1")
	if n := uiEval[int](t, ctx, `document.querySelectorAll('#pull button.copy:not([hidden])').length`); n != 6 {
		t.Errorf("%d visible copy buttons, want 6", n)
	}
	uiScreenshot(t, ctx, "image")

	uiDo(t, ctx, "filtering packages", chromedp.SendKeys(chromedp.CSS("#pkg"), "sci"))
	uiWaitFor(t, ctx, "the filtered table", `document.querySelectorAll('#pkg-table tbody tr:not([hidden])').length === 1`)
	uiWant(t, "filtered packages", uiTexts(t, ctx, "#pkg-table tbody th"), "scipy")
	if !strings.HasSuffix(uiEval[string](t, ctx, "location.search"), "pkg=sci") {
		t.Error("the package filter is not in the URL")
	}

	uiDo(t, ctx, "following the base image", chromedp.Click(chromedp.CSS(`#lineage a[href*="/image/lab/base@"]`)))
	uiWaitFor(t, ctx, "the base image page", `document.querySelector('h1') && document.querySelector('h1').textContent === 'Lab base'`)
	// crane mutate leaves the unmutated manifest behind, untagged; it is
	// built on the base too, so it is listed by digest.
	if derived := uiTexts(t, ctx, "#lineage ul:last-of-type a"); !slices.Contains(derived, "lab/sci:1") {
		t.Fatalf("images built on the base: %q", derived)
	}

	uiDo(t, ctx, "opening the SIF", chromedp.Navigate("http://"+f.host+"/image/tools/blast:2.15"))
	uiWant(t, "SIF pull commands", uiTexts(t, ctx, "#pull .cmd code"),
		"apptainer pull --no-https oras://"+f.host+"/tools/blast@"+f.sifDigest, "apptainer pull --no-https oras://"+f.host+"/tools/blast:2.15",
		"oras pull --plain-http "+f.host+"/tools/blast@"+f.sifDigest, "oras pull --plain-http "+f.host+"/tools/blast:2.15")
	if def := uiTexts(t, ctx, "#sif pre"); len(def) == 0 || !strings.Contains(def[0], "Bootstrap: docker") {
		t.Errorf("SIF definition file: %q", def)
	}
	uiScreenshot(t, ctx, "sif")
}

// uiWithoutJavaScript searches by submitting the form and filters packages
// with the server, with the page's scripts disabled.
func uiWithoutJavaScript(t *testing.T, f uiFixtures) {
	ctx := uiBrowser(t, false)
	uiDo(t, ctx, "opening home", chromedp.Navigate("http://"+f.host+"/"))
	if !uiEval[bool](t, ctx, `document.querySelector('#q') !== null`) {
		t.Fatal("no search box")
	}
	uiDo(t, ctx, "typing and submitting", chromedp.SendKeys(chromedp.CSS("#q"), "pymatgen"), chromedp.Submit(chromedp.CSS("#q")))
	uiWaitFor(t, ctx, "the results page", `location.pathname === '/search' && document.querySelector('.hit')`)
	uiWant(t, "results for pymatgen", uiTexts(t, ctx, ".hit-name"), "materials/pymatgen")
	if n := uiEval[int](t, ctx, `document.querySelectorAll('button.copy:not([hidden])').length`); n != 0 {
		t.Errorf("copy buttons shown without JavaScript: %d", n)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err == nil {
		err = os.WriteFile(filepath.Join(uiArtifacts(t), "results-nojs-desktop.png"), shot, 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}

	uiDo(t, ctx, "opening lab/sci", chromedp.Navigate("http://"+f.host+"/image/lab/sci:1"))
	uiDo(t, ctx, "filtering packages by form", chromedp.SendKeys(chromedp.CSS("#pkg"), "pandas"), chromedp.Submit(chromedp.CSS("#pkg")))
	uiWaitFor(t, ctx, "the server-filtered table", `location.search === '?pkg=pandas' && document.readyState === 'complete'`)
	uiWant(t, "packages filtered by the server", uiTexts(t, ctx, "#pkg-table tbody th"), "pandas")
}
