package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/oyster-registry/oyster/api"
	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/catalogtest"
	"github.com/oyster-registry/oyster/catalog/search"
)

// memHubCatalog is a HubCatalog over records in memory; like any
// HubCatalog it is given only startable records, each once.
type memHubCatalog struct {
	recs   []*catalog.Record
	err    error
	lastQ  string
	called int
}

func (m *memHubCatalog) HubImages(_ context.Context, q string, visible func(string) bool) ([]*catalog.Record, error) {
	m.lastQ = q
	m.called++
	if visible == nil {
		return m.recs, m.err
	}
	var out []*catalog.Record
	for _, rec := range m.recs {
		if visible(rec.Repository) {
			out = append(out, rec)
		}
	}
	return out, m.err
}

func hubRecord(repo, title string, updated time.Time, tags ...string) *catalog.Record {
	return &catalog.Record{
		Repository: repo, Digest: digest.FromString(repo + title + updated.String()), Kind: catalog.KindImage,
		Tags: tags, Updated: updated, Size: 1_234_567_890, OCI: catalog.OCIInfo{Title: title},
		Runtimes: map[string]string{"python": "3.11.7"}, CUDA: "12.2",
		Packages: []catalog.Package{
			{Name: "libc6", Version: "2.36", Ecosystem: "deb"},
			{Name: "numpy", Version: "1.26.4", Ecosystem: "python"},
			{Name: "pymatgen", Version: "2024.2.8", Ecosystem: "python"},
			{Name: "Scikit_Learn", Version: "1.4.0", Ecosystem: "python"},
		},
	}
}

func hubFixtures() []*catalog.Record {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	sci := hubRecord("lab/scipy", "SciPy notebook", t0.Add(2*time.Hour), "2026.03", "latest")
	sciOld := hubRecord("lab/scipy", "SciPy notebook", t0, "2026.02")
	plain := hubRecord("tools/python", "", t0, "3.11")
	evil := hubRecord("x/evil", `<script>alert("&")</script>`, t0, "v1")
	evil.OCI.Description = "line one\nline two <b>bold</b>"
	untagged := hubRecord("lab/child", "Child", t0)
	index := hubRecord("lab/multi", "Multi-arch", t0, "v2")
	index.Kind = catalog.KindIndex
	return []*catalog.Record{sci, sciOld, plain, evil, untagged, index}
}

func serveHub(t testing.TB, hub *Hub, target string) *httptest.ResponseRecorder {
	t.Helper()
	mux := http.NewServeMux()
	hub.Register(mux)
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.Host = "registry.example:5000"
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, req)
	return w
}

func newTestHub(recs []*catalog.Record) (*Hub, *memHubCatalog) {
	cat := &memHubCatalog{recs: recs}
	return &Hub{Catalog: cat, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, cat
}

// pinnedImage is what every image a hub receives must look like.
var pinnedImage = regexp.MustCompile(`^registry\.example:5000/[a-z0-9/._-]+@sha256:[a-f0-9]{64}$`)

// slugPattern is a slug KubeSpawner can use in form field names.
var slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

func TestHubProfilesMatchKubeSpawnerSchema(t *testing.T) {
	hub, _ := newTestHub(hubFixtures())
	for _, mode := range []string{"", "1", "only"} {
		t.Run("options="+mode, func(t *testing.T) {
			w := serveHub(t, hub, "/api/v1/hub/profiles?options="+mode)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			var profiles []map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &profiles); err != nil {
				t.Fatal(err)
			}
			checkProfileList(t, profiles)
			want := map[string]int{"": 6, "1": 7, "only": 1}[mode]
			if len(profiles) != want {
				t.Fatalf("%d profiles, want %d: %s", len(profiles), want, w.Body)
			}
		})
	}
}

// checkProfileList validates a profile_list against KubeSpawner's documented
// schema (REFERENCE.md, JupyterHub): documented keys only, their types,
// valid unique slugs, exactly one default and it first, pinned images.
func checkProfileList(t *testing.T, profiles []map[string]any) {
	t.Helper()
	slugs := map[string]bool{}
	for i, p := range profiles {
		checkKeys(t, p, []string{"display_name", "slug", "default"}, "description", "kubespawner_override", "profile_options")
		name := mustString(t, p, "display_name")
		slug := mustString(t, p, "slug")
		if name == "" || !slugPattern.MatchString(slug) || slugs[slug] {
			t.Errorf("profile %d: display name %q, slug %q (empty, invalid or repeated)", i, name, slug)
		}
		slugs[slug] = true
		checkHTMLSafe(t, name, mustString(t, p, "description"))
		if isDefault := p["default"].(bool); isDefault != (i == 0) {
			t.Errorf("profile %d (%s): default=%v; only the first is the default", i, slug, isDefault)
		}
		if o, ok := p["kubespawner_override"]; ok {
			checkOverride(t, o, pinnedImage)
		}
		if opts, ok := p["profile_options"]; ok {
			checkProfileOptions(t, opts)
		}
		if _, a := p["kubespawner_override"]; a == (p["profile_options"] != nil) {
			t.Errorf("profile %s: want either an image override or image options", slug)
		}
	}
}

func checkProfileOptions(t *testing.T, raw any) {
	t.Helper()
	opts, ok := raw.(map[string]any)
	if !ok || len(opts) != 1 || opts["image"] == nil {
		t.Fatalf("profile_options = %v, want one option named image", raw)
	}
	opt := opts["image"].(map[string]any)
	checkKeys(t, opt, []string{"display_name", "choices", "unlisted_choice"})
	choices := opt["choices"].(map[string]any)
	defaults := 0
	for key, c := range choices {
		choice := c.(map[string]any)
		checkKeys(t, choice, []string{"display_name", "kubespawner_override"}, "default")
		if !slugPattern.MatchString(key) || mustString(t, choice, "display_name") == "" {
			t.Errorf("choice %q: invalid key or empty display name", key)
		}
		checkOverride(t, choice["kubespawner_override"], pinnedImage)
		if choice["default"] == true {
			defaults++
		}
	}
	if defaults != 1 {
		t.Errorf("%d default choices, want 1", defaults)
	}
	un := opt["unlisted_choice"].(map[string]any)
	checkKeys(t, un, []string{"enabled"}, "display_name", "display_name_in_choices", "validation_regex", "validation_message", "kubespawner_override")
	if un["enabled"] != true || mustString(t, un, "validation_regex") == "" || mustString(t, un, "validation_message") == "" {
		t.Errorf("unlisted_choice = %v: want enabled with a validation regex and message", un)
	}
	checkOverride(t, un["kubespawner_override"], regexp.MustCompile(`^\{value\}$`))
}

func checkOverride(t *testing.T, raw any, image *regexp.Regexp) {
	t.Helper()
	o, ok := raw.(map[string]any)
	if !ok {
		t.Fatalf("kubespawner_override = %v, want an object", raw)
	}
	checkKeys(t, o, []string{"image"})
	if img := mustString(t, o, "image"); !image.MatchString(img) {
		t.Errorf("override image %q does not match %s", img, image)
	}
}

// checkKeys fails on a missing required key or any key not documented.
func checkKeys(t *testing.T, obj map[string]any, required []string, optional ...string) {
	t.Helper()
	for _, k := range required {
		if _, ok := obj[k]; !ok {
			t.Errorf("missing key %q in %v", k, obj)
		}
	}
	for k := range obj {
		if !slices.Contains(required, k) && !slices.Contains(optional, k) {
			t.Errorf("undocumented key %q in %v", k, obj)
		}
	}
}

func mustString(t *testing.T, obj map[string]any, key string) string {
	t.Helper()
	s, ok := obj[key].(string)
	if !ok {
		t.Errorf("%s = %#v, want a string", key, obj[key])
	}
	return s
}

// checkHTMLSafe: KubeSpawner and DockerSpawner put these texts into HTML
// unescaped.
func checkHTMLSafe(t *testing.T, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if strings.ContainsAny(s, "<>&\"\n") {
			t.Errorf("text %q holds HTML-significant characters or newlines", s)
		}
	}
}

func TestHubProfilesPinByDigest(t *testing.T) {
	recs := hubFixtures()
	hub, _ := newTestHub(recs)
	var profiles []api.Profile
	decodeBody(t, serveHub(t, hub, "/api/v1/hub/profiles"), &profiles)
	byDesc := map[string]string{}
	for _, p := range profiles {
		byDesc[strings.Split(p.Description, " · ")[0]] = p.KubespawnerOverride.Image
		if p.DisplayName == "SciPy notebook (lab/scipy:latest)" && !strings.Contains(p.Description, "lab/scipy:latest") {
			t.Errorf("description %q does not name the tag", p.Description)
		}
	}
	want := map[string]string{
		"lab/scipy:latest":  "registry.example:5000/lab/scipy@" + recs[0].Digest.String(),
		"lab/scipy:2026.03": "registry.example:5000/lab/scipy@" + recs[0].Digest.String(),
		"lab/scipy:2026.02": "registry.example:5000/lab/scipy@" + recs[1].Digest.String(),
		"tools/python:3.11": "registry.example:5000/tools/python@" + recs[2].Digest.String(),
		"lab/multi:v2":      "registry.example:5000/lab/multi@" + recs[5].Digest.String(),
	}
	for tag, img := range want {
		if byDesc[tag] != img {
			t.Errorf("%s pinned to %q, want %q", tag, byDesc[tag], img)
		}
	}
	if got := profiles[0].DisplayName; got != "Multi-arch" {
		t.Errorf("first profile %q, want Multi-arch (sorted by display name)", got)
	}
}

func TestHubProfilesDescribeTheImage(t *testing.T) {
	hub, _ := newTestHub(hubFixtures()[:1])
	var profiles []api.Profile
	decodeBody(t, serveHub(t, hub, "/api/v1/hub/profiles"), &profiles)
	want := "lab/scipy:2026.03 · Python 3.11.7 · CUDA 12.2 · pymatgen 2024.2.8, numpy 1.26.4, Scikit_Learn 1.4.0 · 1.2 GB"
	if profiles[0].Description != want {
		t.Errorf("description\n%q, want\n%q", profiles[0].Description, want)
	}
}

func TestHubSlugsAreStable(t *testing.T) {
	recs := hubFixtures()
	hub, _ := newTestHub(recs)
	var all, one []api.Profile
	decodeBody(t, serveHub(t, hub, "/api/v1/hub/profiles"), &all)
	hub.Catalog = &memHubCatalog{recs: recs[2:3]}
	decodeBody(t, serveHub(t, hub, "/api/v1/hub/profiles"), &one)
	idx := slices.IndexFunc(all, func(p api.Profile) bool { return p.DisplayName == "tools/python:3.11" })
	if idx < 0 || all[idx].Slug != one[0].Slug {
		t.Errorf("slug of tools/python:3.11 changed with the other images: %q vs %q", all[idx].Slug, one[0].Slug)
	}
	if slugFor("a/b", "c") == slugFor("a-b", "c") {
		t.Error(`"a/b:c" and "a-b:c" share a slug`)
	}
	if s := slugFor("ns/"+strings.Repeat("x", 200), "__"); len(s) > 64 || !slugPattern.MatchString(s) {
		t.Errorf("slug %q is too long or invalid", s)
	}
}

func TestHubImagesForDockerSpawner(t *testing.T) {
	recs := hubFixtures()
	hub, cat := newTestHub(recs)
	w := serveHub(t, hub, "/api/v1/hub/images?q=python:3.11")
	if cat.lastQ != "python:3.11" {
		t.Errorf("catalog asked %q, want the caller's q", cat.lastQ)
	}
	if w.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Error("no Access-Control-Allow-Origin: spawn pages could not search from the browser")
	}
	keys := objectKeys(t, w.Body.Bytes())
	var images map[string]string
	decodeBody(t, w, &images)
	if len(keys) != 6 || len(images) != 6 {
		t.Fatalf("%d keys, %d names, want 6 unique: %s", len(keys), len(images), w.Body)
	}
	want := []string{"Multi-arch", "SciPy notebook (lab/scipy:2026.03)", "SciPy notebook (lab/scipy:latest)",
		"SciPy notebook (lab/scipy:2026.02)", "scriptalert('+')/script", "tools/python:3.11"}
	if !slices.Equal(keys, want) {
		t.Errorf("names\n%q, want (by title, newest first)\n%q", keys, want)
	}
	for name, img := range images {
		checkHTMLSafe(t, name)
		if !pinnedImage.MatchString(img) {
			t.Errorf("%s → %q is not pinned by digest", name, img)
		}
	}
	if images["tools/python:3.11"] != "registry.example:5000/tools/python@"+recs[2].Digest.String() {
		t.Errorf("tools/python:3.11 → %q", images["tools/python:3.11"])
	}
}

func TestHubRegistryHostFromConfig(t *testing.T) {
	hub, _ := newTestHub(hubFixtures()[2:3])
	hub.RegistryHost = "oyster.example.org"
	var images map[string]string
	decodeBody(t, serveHub(t, hub, "/api/v1/hub/images"), &images)
	if img := images["tools/python:3.11"]; !strings.HasPrefix(img, "oyster.example.org/tools/python@sha256:") {
		t.Errorf("image %q does not use the configured registry host", img)
	}
}

func TestHubErrors(t *testing.T) {
	cases := []struct {
		name, target, host, config string
		err                        error
		status                     int
		code                       string
	}{
		{"bad query", "/api/v1/hub/images?q=pkg:", "", "", &search.QueryError{Pos: 0, Msg: "pkg: needs a name"}, 400, "INVALID_QUERY"},
		{"catalog down", "/api/v1/hub/profiles", "", "", errors.New("disk on fire"), 500, "INTERNAL"},
		{"bad options", "/api/v1/hub/profiles?options=2", "", "", nil, 400, "INVALID_OPTIONS"},
		{"bad host header", "/api/v1/hub/images", "evil\"host", "", nil, 400, "INVALID_HOST"},
		{"bad configured host", "/api/v1/hub/images", "", "a/b", nil, 500, "MISCONFIGURED"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hub, cat := newTestHub(hubFixtures())
			cat.err, hub.RegistryHost = tc.err, tc.config
			mux := http.NewServeMux()
			hub.Register(mux)
			req := httptest.NewRequest(http.MethodGet, tc.target, nil)
			if tc.host != "" {
				req.Host = tc.host
			}
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, req)
			var body api.ErrorBody
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != tc.status || string(body.Error.Code) != tc.code || body.Error.Message == "" {
				t.Errorf("got %d %s, want %d with code %s", w.Code, w.Body, tc.status, tc.code)
			}
			if w.Header().Get("Access-Control-Allow-Origin") != "*" {
				t.Error("errors must be readable by the spawn page's script too")
			}
		})
	}
}

func TestHubEmptyCatalog(t *testing.T) {
	hub, _ := newTestHub(nil)
	for _, target := range []string{"/api/v1/hub/profiles?options=1", "/api/v1/hub/images"} {
		w := serveHub(t, hub, target)
		if got := strings.TrimSpace(w.Body.String()); w.Code != 200 || (got != "[]" && got != "{}") {
			t.Errorf("%s: %d %s, want an empty list or object", target, w.Code, got)
		}
	}
}

func TestHubTextIsPlain(t *testing.T) {
	cases := map[string]string{
		`<script>alert("&")</script>`: "scriptalert('+')/script",
		"a\n\tb\x00c":                 "a b c",
		strings.Repeat("é", 100):      strings.Repeat("é", 79) + "…",
	}
	for in, want := range cases {
		if got := plainText(in, 80); got != want {
			t.Errorf("plainText(%q) = %q, want %q", in, got, want)
		}
	}
	if got := humanSize(999); got != "999 B" {
		t.Errorf("humanSize(999) = %q", got)
	}
	if got := humanSize(1_500_000); got != "1.5 MB" {
		t.Errorf("humanSize(1.5e6) = %q", got)
	}
}

// imageRegexCases are inputs for the unlisted choice's validation regex,
// with whether each must be admitted.
func imageRegexCases(host string) map[string]bool {
	hex := strings.Repeat("0123456789abcdef", 4)
	cases := map[string]bool{
		host + "/lab/scipy@sha256:" + hex:                  true,
		host + "/a/b-c/d__e.f@sha256:" + hex:               true,
		host + "/lab/scipy@sha256:" + hex + "\n":           false,
		host + "/lab/scipy@sha256:" + hex + "0":            false,
		host + "/lab/scipy@sha256:" + hex[:63]:             false,
		host + "/lab/scipy@sha256:" + strings.ToUpper(hex): false,
		host + "/lab/scipy:latest":                         false,
		host + "/Lab/scipy@sha256:" + hex:                  false,
		host + "/lab/-x@sha256:" + hex:                     false,
		host + "0/lab/scipy@sha256:" + hex:                 false,
		"evil.example/" + host + "/x@sha256:" + hex:        false,
		"docker.io/lab/scipy@sha256:" + hex:                false,
		" " + host + "/lab/scipy@sha256:" + hex:            false,
	}
	if strings.Contains(host, ".") {
		cases[strings.ReplaceAll(host, ".", "x")+"/lab/scipy@sha256:"+hex] = false
	}
	return cases
}

// TestHubValidationRegex checks the unlisted choice's regex where it is
// used: KubeSpawner's re.match in Python, and the browser's pattern
// attribute (JavaScript with the v flag, here in node).
func TestHubValidationRegex(t *testing.T) {
	type regexCases struct {
		Regex string          `json:"regex"`
		Cases map[string]bool `json:"cases"`
	}
	var all []regexCases
	for _, host := range []string{"registry.example:5000", "127.0.0.1:5000", "[::1]:5000", "oyster"} {
		all = append(all, regexCases{imageRegex(host), imageRegexCases(host)})
	}
	in, _ := json.Marshal(all)
	checkRegexEngine(t, "python3", `
import json, re, sys
for d in json.load(sys.stdin):
    rx = re.compile(d["regex"])
    for s, want in d["cases"].items():
        if bool(rx.match(s)) != want:
            print("re.match(%r, %r) = %s, want %s" % (d["regex"], s, not want, want))
`, in)
	checkRegexEngine(t, "node", `
for (const d of JSON.parse(require("fs").readFileSync(0, "utf8"))) {
  const rx = new RegExp("^(?:" + d.regex + ")$", "v");
  for (const [s, want] of Object.entries(d.cases)) {
    if (rx.test(s) !== want) console.log(rx + ".test(" + JSON.stringify(s) + ") = " + !want + ", want " + want);
  }
}
`, in)
}

func checkRegexEngine(t *testing.T, engine, script string, input []byte) {
	t.Helper()
	if _, err := exec.LookPath(engine); err != nil {
		t.Fatalf("%s is not installed: run scripts/install-test-deps.sh", engine)
	}
	flag := map[string]string{"python3": "-c", "node": "-e"}[engine]
	cmd := exec.Command(engine, flag, script)
	cmd.Stdin = bytes.NewReader(input)
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("%s: %v\n%s", engine, err, out)
	}
}

// objectKeys lists a JSON object's keys in document order.
func objectKeys(t *testing.T, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	var keys []string
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %s", raw)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func decodeBody(t *testing.T, w *httptest.ResponseRecorder, v any) {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if err := json.Unmarshal(w.Body.Bytes(), v); err != nil {
		t.Fatal(err)
	}
}

// benchPythonNames are common Python distributions of a notebook image.
var benchPythonNames = []string{
	"requests", "urllib3", "certifi", "idna", "six", "attrs", "packaging", "setuptools", "pip", "wheel",
	"PyYAML", "Jinja2", "MarkupSafe", "click", "tornado", "traitlets", "ipython", "jedi", "parso", "pexpect",
	"ipykernel", "jupyter_client", "jupyter_core", "pyzmq", "nbformat", "nbconvert", "jsonschema", "Pygments",
	"python-dateutil", "pytz", "tzdata", "typing_extensions", "platformdirs", "psutil", "debugpy", "comm",
	"decorator", "executing", "asttokens", "pure-eval", "stack-data", "wcwidth", "prompt-toolkit", "matplotlib-inline",
	"fonttools", "kiwisolver", "cycler", "contourpy", "pillow", "pyparsing", "threadpoolctl", "joblib", "sympy",
	"mpmath", "networkx", "h5py", "tqdm", "numpy", "scipy", "pandas",
}

// benchRecords are n hub-eligible images shaped like scientific ones:
// two tags, a title and description, runtimes, and 300 packages of which
// a hundred are Python's (conda-based images often hold several times more).
func benchRecords(n int) []*catalog.Record {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	recs := make([]*catalog.Record, n)
	for i := range recs {
		rec := hubRecord(fmt.Sprintf("group%d/env%d", i%20, i), fmt.Sprintf("Environment %d", i), t0.Add(time.Duration(i)*time.Minute), "latest", fmt.Sprintf("2026.%d", i))
		rec.OCI.Description = "A notebook environment for materials science with the usual scientific Python stack"
		for j := range 200 {
			rec.Packages = append(rec.Packages, catalog.Package{Name: fmt.Sprintf("lib%d", j), Version: "1.0-1", Ecosystem: "deb", Source: "var/lib/dpkg/status"})
		}
		for j := range 100 {
			name := benchPythonNames[j%len(benchPythonNames)]
			rec.Packages = append(rec.Packages, catalog.Package{Name: name, Version: "2.0", Ecosystem: "python",
				Source: "opt/conda/lib/python3.11/site-packages/" + name + "-2.0.dist-info/METADATA"})
		}
		recs[i] = rec
	}
	return recs
}

// BenchmarkHubProfiles measures the hub endpoints over 1,000 hub-eligible
// images (2,000 tags) with the catalog in memory, against the goal p99 ≤
// 50 ms for /api/v1/hub/profiles.
func BenchmarkHubProfiles(b *testing.B) {
	recs := benchRecords(1000)
	for _, target := range []string{"/api/v1/hub/profiles", "/api/v1/hub/profiles?options=1", "/api/v1/hub/images"} {
		b.Run(strings.TrimPrefix(target, "/api/v1/hub/"), func(b *testing.B) {
			hub, _ := newTestHub(recs)
			benchLatency(b, hub, target)
		})
	}
}

// BenchmarkHubProfilesFromStore measures /api/v1/hub/profiles as the
// registry answers it: the hub query through the search index, then each
// record from the state store.
func BenchmarkHubProfilesFromStore(b *testing.B) {
	c := catalogtest.New(b)
	recs := benchRecords(1000)
	for _, rec := range recs {
		rec.Labels = map[string]string{"org.oyster.hub": "true"}
	}
	c.Put(b, recs...)
	hub, _ := newTestHub(nil)
	hub.Catalog = &search.HubSource{Index: c.Search, Store: c.Store, Query: "label:org.oyster.hub=true"}
	// One request first, as a running registry has served before: it
	// builds the search caches and fills the store's record cache.
	if w := serveHub(b, hub, "/api/v1/hub/profiles"); w.Code != http.StatusOK {
		b.Fatalf("warm-up: %d", w.Code)
	}
	benchLatency(b, hub, "/api/v1/hub/profiles")
}

// benchLatency serves target in a loop and reports p50 and p99 per
// request, p99 as a fraction of the 50 ms goal, and the process's CPU time
// per request, which tells this code's cost apart from waiting for a busy
// machine's cores.
func benchLatency(b *testing.B, hub *Hub, target string) {
	var took []time.Duration
	cpu0 := processCPU(b)
	for b.Loop() {
		start := time.Now()
		if w := serveHub(b, hub, target); w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
		took = append(took, time.Since(start))
	}
	cpu := processCPU(b) - cpu0
	slices.Sort(took)
	p99 := took[len(took)*99/100]
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(p99)/float64(50*time.Millisecond), "p99/goal")
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(len(took)), "cpu-ms/op")
}

// processCPU is the user and system time this process has used so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// While a moved tag is still listed by the record it left (its tags are
// refreshed after the push that moved it), the hub offers the tag once,
// with the image the store's tag index resolves it to.
func TestHubOffersAMovedTagOnce(t *testing.T) {
	c := catalogtest.New(t)
	old := hubRecord("lab/app", "App", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), "latest", "1")
	cur := hubRecord("lab/app", "App", time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), "latest")
	for _, rec := range []*catalog.Record{old, cur} {
		rec.Labels = map[string]string{"org.oyster.hub": "true"}
	}
	c.Put(t, old, cur) // cur takes latest
	hub := &search.HubSource{Index: c.Search, Store: c.Store, Query: "label:org.oyster.hub=true"}
	recs, err := hub.HubImages(context.Background(), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ch := range hubChoices(recs, "registry.example") {
		tag, _, _ := strings.Cut(strings.TrimPrefix(ch.Slug, "lab-app-"), "-") // slugs end in a hash
		got = append(got, tag+" "+ch.Image)
	}
	sort.Strings(got)
	want := []string{"1 registry.example/" + old.Ref().String(), "latest registry.example/" + cur.Ref().String()}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("choices %q, want %q", got, want)
	}
}
