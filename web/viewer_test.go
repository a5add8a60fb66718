package web

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oyster-registry/oyster/api"
	"github.com/oyster-registry/oyster/auth"
	"github.com/oyster-registry/oyster/auth/authtest"
	"github.com/oyster-registry/oyster/auth/oidctest"
	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/catalogtest"
)

// The visibility tests run the web surface with the registry's real auth
// service: namespace lab is private, user lab owns it, eve is another
// user and admin is a site admin.

const pubToolDigest = "sha256:9999999999999999999999999999999999999999999999999999999999999999"

// authSite is the web surface over uiFixtures plus pub/tool, a public
// image built on the private lab/base.
type authSite struct {
	*uiSite
	passwords map[string]string
}

func newAuthSite(t *testing.T) *authSite { return newAuthSiteWith(t, nil, nil) }

// newAuthSiteWith is newAuthSite with the build queue builds and OIDC
// (nil: none).
func newAuthSiteWith(t *testing.T, builds Builds, oidc *auth.OIDCOptions) *authSite {
	t.Helper()
	dir := t.TempDir()
	passwords := map[string]string{"lab": "lab-pw", "eve": "eve-pw", "admin": "admin-pw"}
	svc, err := auth.New(auth.Options{
		DataDir: dir, HtpasswdPath: authtest.WriteHtpasswd(t, dir, passwords), Admins: []string{"admin"}, Service: "oyster",
		TokenTTL: time.Minute, KeyRotation: time.Hour, MaxFailedLogins: 100, FailedLoginWindow: time.Minute,
		Sessions: auth.SessionOptions{Max: 4, Idle: time.Hour, Lifetime: time.Hour}, Robots: auth.RobotLimits{PerOwner: 2, MaxLifetime: time.Hour},
		Policy: auth.Policy{Private: []string{"lab"}}, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), OIDC: oidc,
	})
	if err != nil {
		t.Fatal(err)
	}
	recs := uiFixtures()
	pub := &catalog.Record{
		Repository: "pub/tool", Digest: pubToolDigest, Kind: catalog.KindImage, Tags: []string{"1"},
		MediaType: "application/vnd.oci.image.manifest.v1+json", Updated: time.Now().Add(-time.Minute), Size: 40 << 20,
		Layers: []catalog.Layer{layerBase, {Digest: "sha256:dddd000000000000", Size: 9 << 20}}, OCI: catalog.OCIInfo{Title: "Public tool"},
		BaseImages: []catalog.ImageRef{{Repository: "lab/base", Digest: baseDigest, Tag: "12", Via: "layers"}},
	}
	c := catalogtest.New(t)
	c.Put(t, append(recs, pub)...)
	var logged bytes.Buffer
	h := New(Options{Store: c.Store, Search: c.Search, Log: slog.New(slog.NewTextHandler(&logged, nil)), Accounts: svc, Builds: builds})
	return &authSite{uiSite: &uiSite{Handler: h, store: c.Store, log: &logged}, passwords: passwords}
}

// getAs requests path as user ("" is anonymous; "bad" sends a wrong
// password for lab).
func (s *authSite) getAs(t *testing.T, user, path string) (int, string, http.Header) {
	t.Helper()
	return s.requestAs(t, http.MethodGet, user, path)
}

// requestAs is getAs with another method.
func (s *authSite) requestAs(t *testing.T, method, user, path string) (int, string, http.Header) {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	req.Host = "registry.example:5000"
	switch user {
	case "":
	case "bad":
		req.SetBasicAuth("lab", "wrong")
	default:
		req.SetBasicAuth(user, s.passwords[user])
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	return w.Code, w.Body.String(), w.Header()
}

func (s *authSite) jsonAs(t *testing.T, user, path string, status int, v any) {
	t.Helper()
	code, body, _ := s.getAs(t, user, path)
	if code != status {
		t.Fatalf("%s: GET %s: %d, want %d\n%s", user, path, code, status, body)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("%s: GET %s: %v", user, path, err)
	}
}

// seesLab says who may pull the private namespace.
var seesLab = map[string]bool{"": false, "eve": false, "lab": true, "admin": true}

func TestSearchShowsWhatTheCallerMayPull(t *testing.T) {
	s := newAuthSite(t)
	for user, sees := range seesLab {
		var all api.SearchResults
		s.jsonAs(t, user, "/api/v1/search?per_page=100", http.StatusOK, &all)
		// Six searchable images (the untagged SBOM is not), of which lab
		// holds lab/base and lab/sci.
		want := 4
		if sees {
			want = 6
		}
		if all.Total != want || len(all.Results) != want {
			t.Errorf("%q: %d results (%d listed), want %d", user, all.Total, len(all.Results), want)
		}
		for _, h := range all.Results {
			if h.Private != (h.Repository == "lab/sci" || h.Repository == "lab/base") {
				t.Errorf("%q: %s marked private=%v", user, h.Repository, h.Private)
			}
		}
		labFacet := slices.ContainsFunc(all.Facets["namespace"], func(f api.FacetCount) bool { return f.Value == "lab" })
		if labFacet != sees {
			t.Errorf("%q: namespace facet lists lab: %v", user, labFacet)
		}
		var docker api.DockerSearchResults
		s.jsonAs(t, user, "/v1/search?q=scientific", http.StatusOK, &docker)
		if got := docker.NumResults == 1; got != sees {
			t.Errorf("%q: docker search for scientific: %+v", user, docker)
		}
	}
}

func TestPagesOfPrivateImagesAreNotFound(t *testing.T) {
	s := newAuthSite(t)
	paths := []string{
		"/api/v1/repositories/lab/sci", "/api/v1/images/lab/sci:latest", "/api/v1/images/lab/sci@" + sciDigest,
		"/api/v1/images/lab/sci:1/packages", "/repo/lab/sci", "/image/lab/sci:latest",
	}
	for user, sees := range seesLab {
		for _, p := range paths {
			code, body, _ := s.getAs(t, user, p)
			want := http.StatusNotFound
			if sees {
				want = http.StatusOK
			}
			if code != want {
				t.Errorf("%q: GET %s: %d, want %d", user, p, code, want)
			}
			if !sees && strings.Contains(body, "Scientific") {
				t.Errorf("%q: GET %s tells of the private image: %s", user, p, body)
			}
		}
		// A name that was never pushed answers the same as a private one.
		_, missing, _ := s.getAs(t, user, "/api/v1/repositories/lab/none")
		_, private, _ := s.getAs(t, user, "/api/v1/repositories/lab/sci")
		if !sees && strings.ReplaceAll(private, "sci", "none") != missing {
			t.Errorf("%q: a private repository answers %s, a missing one %s", user, private, missing)
		}
	}
	var img api.Image
	s.jsonAs(t, "lab", "/api/v1/images/lab/sci:latest", http.StatusOK, &img)
	if !img.Private || len(img.Referrers) != 1 {
		t.Errorf("lab's own image: private %v, referrers %v", img.Private, img.Referrers)
	}
	var public api.Image
	s.jsonAs(t, "", "/api/v1/images/tools/blast:2.15", http.StatusOK, &public)
	if public.Private {
		t.Error("a public image is marked private")
	}
	body := s.pageAs(t, "lab", "/image/lab/sci:latest")
	mustContain(t, body, `<span class="badge private"`)
	body = s.pageAs(t, "lab", "/repo/lab/sci")
	mustContain(t, body, `<span class="badge private"`)
	mustNotContain(t, s.pageAs(t, "", "/image/tools/blast:2.15"), `badge private`)
}

func (s *authSite) pageAs(t *testing.T, user, path string) string {
	t.Helper()
	code, body, _ := s.getAs(t, user, path)
	if code != http.StatusOK {
		t.Fatalf("%q: GET %s: %d\n%s", user, path, code, body)
	}
	return body
}

func TestRelatedImagesShowWhatTheCallerMayPull(t *testing.T) {
	s := newAuthSite(t)
	for user, sees := range seesLab {
		var tool api.Image
		s.jsonAs(t, user, "/api/v1/images/pub/tool:1", http.StatusOK, &tool)
		if got := len(tool.Base) == 1; got != sees {
			t.Errorf("%q: pub/tool's bases %v", user, tool.Base)
		}
		body := s.pageAs(t, user, "/image/pub/tool:1")
		if got := strings.Contains(body, `href="/image/lab/base@`); got != sees {
			t.Errorf("%q: pub/tool's page names lab/base: %v", user, got)
		}
	}
	var base api.Image
	s.jsonAs(t, "lab", "/api/v1/images/lab/base:12", http.StatusOK, &base)
	if len(base.Derived) != 2 {
		t.Errorf("lab/base derived for its owner: %v", base.Derived)
	}
}

func TestRepositoryListShowsWhatTheCallerMayPull(t *testing.T) {
	s := newAuthSite(t)
	for user, sees := range seesLab {
		var list api.RepositoryList
		s.jsonAs(t, user, "/api/v1/repositories?per_page=100", http.StatusOK, &list)
		var names []string
		for _, r := range list.Repositories {
			names = append(names, r.Name)
			if r.Private != strings.HasPrefix(r.Name, "lab/") {
				t.Errorf("%q: %s private=%v", user, r.Name, r.Private)
			}
		}
		want := []string{"bad/bomb", "multi/app", "pub/tool", "tools/blast"}
		if sees {
			want = []string{"bad/bomb", "lab/base", "lab/sci", "multi/app", "pub/tool", "tools/blast"}
		}
		if list.Total != len(want) || !slices.Equal(names, want) {
			t.Errorf("%q: %d repositories %v, want %v", user, list.Total, names, want)
		}
	}
}

func TestHomeAndSearchPagesShowWhatTheCallerMayPull(t *testing.T) {
	s := newAuthSite(t)
	if err := s.store.AddPulls(map[catalog.Ref]uint64{{Repo: "lab/sci", Digest: sciDigest}: 11, {Repo: "tools/blast", Digest: sifDigest}: 7}); err != nil {
		t.Fatal(err)
	}
	anon := s.pageAs(t, "", "/")
	// The filter help names lab/base as an example, so look for links.
	mustContain(t, anon, "4 images", "4 repositories", "7 pulls")
	mustNotContain(t, anon, "/image/lab/", "11 pulls")
	own := s.pageAs(t, "lab", "/")
	mustContain(t, own, "6 images", "6 repositories", "11 pulls", "/image/lab/sci@", `badge private`)

	mustNotContain(t, s.pageAs(t, "eve", "/search?q="), "/image/lab/", `badge private`)
	mustContain(t, s.pageAs(t, "admin", "/search?q="), "lab/sci", `badge private`)
}

func TestRefusedCredentialsAre401(t *testing.T) {
	s := newAuthSite(t)
	for _, p := range []string{"/api/v1/search", "/api/v1/hub/images", "/v1/search?q=x"} {
		code, body, hdr := s.getAs(t, "bad", p)
		var e api.ErrorBody
		if code != http.StatusUnauthorized || hdr.Get("WWW-Authenticate") != `Basic realm="oyster"` ||
			json.Unmarshal([]byte(body), &e) != nil || e.Error.Code != api.CodeUnauthorized {
			t.Errorf("GET %s with a wrong password: %d %q %s", p, code, hdr.Get("WWW-Authenticate"), body)
		}
		if strings.Contains(body, "wrong") && strings.Contains(body, "lab") {
			t.Errorf("GET %s echoes the credentials: %s", p, body)
		}
	}
	code, body, hdr := s.getAs(t, "bad", "/search?q=")
	if code != http.StatusUnauthorized || !strings.Contains(body, "Credentials refused") || hdr.Get("Content-Security-Policy") == "" {
		t.Errorf("UI with a wrong password: %d\n%s", code, body)
	}
}

func TestHubListsWhatTheCallerMayPull(t *testing.T) {
	s := newAuthSite(t)
	for user, sees := range seesLab {
		code, body, hdr := s.getAs(t, user, "/api/v1/hub/images")
		if code != http.StatusOK {
			t.Fatalf("%q: %d %s", user, code, body)
		}
		if hdr.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%q: Access-Control-Allow-Origin sent with auth on", user)
		}
		if got := strings.Contains(body, "/lab/sci@"); got != sees {
			t.Errorf("%q: hub images list lab/sci: %v\n%s", user, got, body)
		}
		if !strings.Contains(body, "/pub/tool@") {
			t.Errorf("%q: hub images lack the public pub/tool\n%s", user, body)
		}
		_, profiles, _ := s.getAs(t, user, "/api/v1/hub/profiles")
		if got := strings.Contains(profiles, "/lab/sci@"); got != sees {
			t.Errorf("%q: hub profiles list lab/sci: %v", user, got)
		}
	}
}

func TestBuildsShowWhatTheCallerMayPull(t *testing.T) {
	builds := &fakeBuilds{builds: []api.Build{
		{ID: "00000001", Source: "lab", Recipe: "sci/Dockerfile", Status: api.BuildSucceeded, Repository: "lab/sci", Queued: time.Now()},
		{ID: "00000002", Source: "pub", Recipe: "tool/Dockerfile", Status: api.BuildSucceeded, Repository: "pub/tool", Queued: time.Now()},
	}, log: "STEP 1/1: FROM scratch\n"}
	s := newAuthSiteWith(t, builds, nil)
	for user, sees := range seesLab {
		var list api.Builds
		s.jsonAs(t, user, "/api/v1/builds", http.StatusOK, &list)
		if got := len(list.Builds) == 2; got != sees || list.Builds[len(list.Builds)-1].Repository != "pub/tool" {
			t.Errorf("%q: builds %+v", user, list.Builds)
		}
		want := http.StatusNotFound
		if sees {
			want = http.StatusOK
		}
		for _, p := range []string{"/api/v1/builds/00000001", "/api/v1/builds/00000001/log", "/builds/00000001"} {
			if code, body, _ := s.getAs(t, user, p); code != want || (!sees && strings.Contains(body, "lab/sci")) {
				t.Errorf("%q: GET %s: %d, want %d\n%s", user, p, code, want, body)
			}
		}
		if got := strings.Contains(s.pageAs(t, user, "/builds"), "lab/sci"); got != sees {
			t.Errorf("%q: the builds page names lab/sci: %v", user, got)
		}
	}
	_, missing, _ := s.getAs(t, "", "/api/v1/builds/00000009")
	_, hidden, _ := s.getAs(t, "", "/api/v1/builds/00000001")
	if strings.ReplaceAll(hidden, "00000001", "00000009") != missing {
		t.Errorf("a hidden build answers %s, a missing one %s", hidden, missing)
	}
}

// TestBuildsStartedBySiteAdmins: with auth on, a rebuild or a cancel
// needs a site admin (a build pushes with the registry's rights); anyone
// else is refused with 403 and the queue is not touched.
func TestBuildsStartedBySiteAdmins(t *testing.T) {
	builds := &fakeBuilds{builds: []api.Build{
		{ID: "00000002", Source: "pub", Recipe: "tool/Dockerfile", Status: api.BuildRunning, Repository: "pub/tool", Queued: time.Now()},
	}}
	s := newAuthSiteWith(t, builds, nil)
	for _, user := range []string{"", "eve", "lab", "admin"} {
		before := builds.rebuilds + builds.cancels
		rebuild, body1, _ := s.requestAs(t, http.MethodPost, user, "/api/v1/sources/lab/rebuild")
		cancel, body2, _ := s.requestAs(t, http.MethodPost, user, "/api/v1/builds/00000002/cancel")
		changed := builds.rebuilds + builds.cancels - before
		if user == "admin" {
			if rebuild != http.StatusAccepted || cancel != http.StatusOK || changed != 2 {
				t.Errorf("admin: rebuild %d, cancel %d, %d queue changes\n%s\n%s", rebuild, cancel, changed, body1, body2)
			}
			continue
		}
		if rebuild != http.StatusForbidden || cancel != http.StatusForbidden || changed != 0 || !strings.Contains(body1, "FORBIDDEN") {
			t.Errorf("%q: rebuild %d, cancel %d, %d queue changes\n%s\n%s", user, rebuild, cancel, changed, body1, body2)
		}
	}
}

// TestProviderDownIs503: credentials the identity provider cannot check
// are not the caller's fault: 503, not 401, and no listing.
func TestProviderDownIs503(t *testing.T) {
	p := oidctest.Start(t, oidctest.Options{})
	p.AddUser(oidctest.User{Username: "walt"})
	s := newAuthSiteWith(t, nil, &auth.OIDCOptions{
		Issuer: p.Issuer, Audience: "oyster", UsernameClaim: "preferred_username", GroupsClaim: "groups",
		ClientID: p.IntrospectionClientID, ClientSecret: p.IntrospectionSecret,
		CacheTTL: time.Minute, CacheSize: 10, DiscoveryTimeout: 5 * time.Second,
	})
	token := p.Token(t, oidctest.Mint{User: "walt", Opaque: true})
	p.Close()
	get := func(path string) (int, string, http.Header) {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		return w.Code, w.Body.String(), w.Header()
	}
	code, body, hdr := get("/api/v1/search")
	var e api.ErrorBody
	if code != http.StatusServiceUnavailable || json.Unmarshal([]byte(body), &e) != nil || e.Error.Code != api.CodeUnavailable || hdr.Get("WWW-Authenticate") != "" {
		t.Errorf("API with the provider down: %d %q %s", code, hdr.Get("WWW-Authenticate"), body)
	}
	if code, body, _ := get("/search?q="); code != http.StatusServiceUnavailable || strings.Contains(body, "/image/") {
		t.Errorf("UI with the provider down: %d\n%s", code, body)
	}
}
