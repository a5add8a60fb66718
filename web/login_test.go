package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/oyster-registry/oyster/api"
	"github.com/oyster-registry/oyster/auth"
	"github.com/oyster-registry/oyster/auth/authtest"
	"github.com/oyster-registry/oyster/catalog/catalogtest"
)

// The login tests run the web surface over real HTTP with the registry's
// real auth service, and browsers with cookie jars: alice and bob are
// users, admin is a site admin, namespace lab gives alice the read role.

var loginPasswords = map[string]string{"alice": "alice-secret-pw", "bob": "bob-secret-pw", "admin": "admin-secret-pw"}

type loginSite struct {
	url  string
	svc  *auth.Service
	logs *bytes.Buffer // the site's and auth's log
}

func newLoginSite(t *testing.T) *loginSite {
	t.Helper()
	dir := t.TempDir()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc, err := auth.New(auth.Options{
		DataDir: dir, HtpasswdPath: authtest.WriteHtpasswd(t, dir, loginPasswords), Admins: []string{"admin"}, Service: "oyster",
		TokenTTL: time.Minute, KeyRotation: time.Hour, MaxFailedLogins: 5, FailedLoginWindow: time.Minute,
		Sessions: auth.SessionOptions{Max: 100, Idle: time.Hour, Lifetime: time.Hour},
		Robots:   auth.RobotLimits{PerOwner: 3, MaxLifetime: 90 * 24 * time.Hour},
		Policy:   auth.Policy{Namespaces: map[string]auth.NamespaceRules{"lab": {Users: map[string]auth.Role{"alice": auth.RoleRead}}}},
		Log:      log,
	})
	if err != nil {
		t.Fatal(err)
	}
	c := catalogtest.New(t)
	c.Put(t, uiFixtures()...)
	srv := httptest.NewServer(New(Options{Store: c.Store, Search: c.Search, Log: log, Accounts: svc}))
	t.Cleanup(srv.Close)
	return &loginSite{url: srv.URL, svc: svc, logs: &logs}
}

// browser is one cookie jar; it does not follow redirects, so that tests
// see them.
type browser struct {
	site   *loginSite
	client *http.Client
}

func (s *loginSite) browser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{site: s, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(t *testing.T, req *http.Request) (int, string, http.Header) {
	t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

func (b *browser) get(t *testing.T, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.site.url+path, nil)
	code, body, _ := b.do(t, req)
	return code, body
}

// post sends a form as a page at origin would ("" sends no Origin).
func (b *browser) post(t *testing.T, path, origin string, form url.Values) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.site.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return b.do(t, req)
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// csrfOf is the form token on the page at path.
func (b *browser) csrfOf(t *testing.T, path string) string {
	t.Helper()
	code, body := b.get(t, path)
	m := csrfInput.FindStringSubmatch(body)
	if code != http.StatusOK || m == nil {
		t.Fatalf("GET %s: %d, no CSRF token in\n%s", path, code, body)
	}
	return m[1]
}

// login logs the browser in as user through the form.
func (b *browser) login(t *testing.T, user string) {
	t.Helper()
	form := url.Values{"csrf": {b.csrfOf(t, "/login")}, "username": {user}, "password": {loginPasswords[user]}, "next": {"/tokens"}}
	code, body, h := b.post(t, "/login", b.site.url, form)
	if code != http.StatusSeeOther || h.Get("Location") != "/tokens" {
		t.Fatalf("login as %s: %d to %q\n%s", user, code, h.Get("Location"), body)
	}
}

// TestLoginLogout: the header offers a login; a wrong password is told
// and sets no session; a right one goes on to next with the user's name
// in the header; logout ends the session.
func TestLoginLogout(t *testing.T) {
	s := newLoginSite(t)
	b := s.browser(t)
	if _, body := b.get(t, "/"); !strings.Contains(body, `href="/login">Log in</a>`) {
		t.Errorf("the anonymous header has no login link:\n%s", body)
	}
	form := url.Values{"csrf": {b.csrfOf(t, "/login")}, "username": {"alice"}, "password": {"not-alices-pw"}}
	code, body, _ := b.post(t, "/login", s.url, form)
	if code != http.StatusUnauthorized || !strings.Contains(body, "Wrong username or password") {
		t.Errorf("wrong password: %d\n%s", code, body)
	}
	if code, _ := b.get(t, "/tokens"); code != http.StatusSeeOther {
		t.Errorf("after a failed login /tokens answers %d, want a redirect to the login", code)
	}
	b.login(t, "alice")
	_, home := b.get(t, "/")
	if !strings.Contains(home, `<span class="who">alice</span>`) || !strings.Contains(home, "Log out") {
		t.Errorf("the header does not show alice logged in:\n%s", home)
	}
	logout := url.Values{"csrf": {csrfInput.FindStringSubmatch(home)[1]}}
	if code, _, h := b.post(t, "/logout", s.url, logout); code != http.StatusSeeOther || h.Get("Location") != "/" {
		t.Errorf("logout: %d to %q", code, h.Get("Location"))
	}
	if _, home := b.get(t, "/"); strings.Contains(home, "alice") || !strings.Contains(home, "Log in") {
		t.Errorf("after logout the header still shows alice")
	}
	for _, secret := range []string{loginPasswords["alice"], "not-alices-pw"} {
		if strings.Contains(s.logs.String(), secret) {
			t.Errorf("the log holds a password")
		}
	}
}

// TestLoginTooManyFailures: the form shares the realm's per-source budget.
func TestLoginTooManyFailures(t *testing.T) {
	s := newLoginSite(t)
	b := s.browser(t)
	token := b.csrfOf(t, "/login")
	for range 5 {
		b.post(t, "/login", s.url, url.Values{"csrf": {token}, "username": {"bob"}, "password": {"guess"}})
	}
	code, body, _ := b.post(t, "/login", s.url, url.Values{"csrf": {token}, "username": {"bob"}, "password": {loginPasswords["bob"]}})
	if code != http.StatusTooManyRequests || !strings.Contains(body, "Too many failed logins") {
		t.Errorf("after 5 failures the right password got %d\n%s", code, body)
	}
}

func TestLocalPath(t *testing.T) {
	for next, want := range map[string]string{
		"/tokens": "/tokens", "/search?q=x": "/search?q=x", "": "/", "//evil.example/": "/", "/\\evil.example": "/",
		"https://evil.example/": "/", "tokens": "/", "javascript:alert(1)": "/",
	} {
		if got := localPath(next); got != want {
			t.Errorf("localPath(%q) = %q, want %q", next, got, want)
		}
	}
}

// TestFormsRefuseForgery: a form post without the token, with another
// session's token, from another origin or from no stated origin is
// refused with 403 and changes nothing.
func TestFormsRefuseForgery(t *testing.T) {
	s := newLoginSite(t)
	alice, bob := s.browser(t), s.browser(t)
	alice.login(t, "alice")
	bob.login(t, "bob")
	aliceToken, bobToken := alice.csrfOf(t, "/tokens"), bob.csrfOf(t, "/tokens")
	make := func(token string) url.Values {
		return url.Values{"csrf": {token}, "name": {"ci"}, "scopes": {"alice:pull"}, "days": {"7"}}
	}
	cases := []struct {
		name, path, origin string
		form               url.Values
	}{
		{"no token", "/tokens", s.url, url.Values{"name": {"ci"}, "scopes": {"alice:pull"}, "days": {"7"}}},
		{"another session's token", "/tokens", s.url, make(bobToken)},
		{"another origin", "/tokens", "http://evil.example", make(aliceToken)},
		{"no origin", "/tokens", "", make(aliceToken)},
		{"logout without token", "/logout", s.url, url.Values{}},
	}
	for _, c := range cases {
		code, body, _ := alice.post(t, c.path, c.origin, c.form)
		if code != http.StatusForbidden || !strings.Contains(body, "did not come from this registry") {
			t.Errorf("%s: %d, want 403\n%s", c.name, code, body)
		}
	}
	if list, _ := s.svc.RobotsOf(auth.Identity{Name: "alice"}); len(list) != 0 {
		t.Errorf("forged posts made tokens: %v", list)
	}
	if _, home := alice.get(t, "/"); !strings.Contains(home, `<span class="who">alice</span>`) {
		t.Error("a forged logout ended the session")
	}
	// The login form: its token is in a cookie of the browser that loaded it.
	forger := s.browser(t)
	code, _, _ := forger.post(t, "/login", s.url, url.Values{"csrf": {alice.csrfOf(t, "/login")}, "username": {"bob"}, "password": {loginPasswords["bob"]}})
	if code != http.StatusForbidden {
		t.Errorf("a login with another browser's form token: %d, want 403", code)
	}
	// The control: the same post with the right token and origin works.
	if code, body, _ := alice.post(t, "/tokens", s.url, make(aliceToken)); code != http.StatusCreated {
		t.Errorf("the genuine form: %d\n%s", code, body)
	}
}

var secretOnPage = regexp.MustCompile(`<code id="secret" class="secret">(oyster_[0-9a-f_]+)</code>`)

// TestTokensPage: a user makes a token (its secret shown once, then
// never), may not grant beyond their own rights, and revokes it.
func TestTokensPage(t *testing.T) {
	s := newLoginSite(t)
	b := s.browser(t)
	b.login(t, "alice")
	token := b.csrfOf(t, "/tokens")
	code, body, h := b.post(t, "/tokens", s.url, url.Values{"csrf": {token}, "name": {"ci"}, "scopes": {"alice:pull,push lab:pull"}, "days": {"30"}})
	m := secretOnPage.FindStringSubmatch(body)
	if code != http.StatusCreated || m == nil || h.Get("Cache-Control") != "no-store" {
		t.Fatalf("make a token: %d, cache %q\n%s", code, h.Get("Cache-Control"), body)
	}
	secret := m[1]
	req := httptest.NewRequest(http.MethodGet, "/api/v1/search", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	if id, err := s.svc.Identify(req); err != nil || id.Name != "robot:ci" {
		t.Fatalf("the shown secret does not log in: %q %v", id.Name, err)
	}
	if _, page := b.get(t, "/tokens"); strings.Contains(page, secret) || !strings.Contains(page, "alice:pull,push") {
		t.Errorf("the list shows the secret again, or not the token:\n%s", page)
	}
	for scopes, want := range map[string]string{"lab:push": "may not push", "bob:pull": "may not pull", "lab": "is not NAMESPACE:ACTIONS"} {
		code, body, _ := b.post(t, "/tokens", s.url, url.Values{"csrf": {token}, "name": {"more"}, "scopes": {scopes}, "days": {"1"}})
		if code < 400 || !strings.Contains(body, want) {
			t.Errorf("scopes %q: %d, want a refusal saying %q\n%s", scopes, code, want, body)
		}
	}
	if code, body, _ := b.post(t, "/tokens", s.url, url.Values{"csrf": {token}, "name": {"long"}, "scopes": {"alice:pull"}, "days": {"91"}}); code != http.StatusBadRequest || !strings.Contains(body, "at most") {
		t.Errorf("a token beyond the cap: %d\n%s", code, body)
	}
	list, _ := s.svc.RobotsOf(auth.Identity{Name: "alice"})
	if len(list) != 1 {
		t.Fatalf("alice has %d tokens, want 1", len(list))
	}
	if code, _, h := b.post(t, "/tokens/"+list[0].ID+"/revoke", s.url, url.Values{"csrf": {token}}); code != http.StatusSeeOther || h.Get("Location") != "/tokens" {
		t.Errorf("revoke: %d to %q", code, h.Get("Location"))
	}
	if _, err := s.svc.Identify(req); err == nil {
		t.Error("a revoked token still logs in")
	}
	if strings.Contains(s.logs.String(), secret) || strings.Contains(s.logs.String(), secret[len(secret)-16:]) {
		t.Error("the log holds a token's secret")
	}
}

// apiCall sends a JSON API request with Basic credentials for user ("" none).
func (b *browser) apiCall(t *testing.T, method, path, user string, body any) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, b.site.url+path, rd)
	if user != "" {
		req.SetBasicAuth(user, loginPasswords[user])
	}
	code, out, _ := b.do(t, req)
	return code, out
}

// TestTokensAPI: the same operations over /api/v1/tokens with Basic
// credentials; a session cookie alone may list but not write; robots
// manage nothing; one user cannot see or revoke another's tokens.
func TestTokensAPI(t *testing.T) {
	s := newLoginSite(t)
	b := s.browser(t)
	expires := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	code, body := b.apiCall(t, "POST", "/api/v1/tokens", "alice", api.TokenRequest{Name: "ci", Scopes: []string{"alice:push"}, Expires: expires})
	var created api.CreatedToken
	if code != http.StatusCreated || json.Unmarshal([]byte(body), &created) != nil || !strings.HasPrefix(created.Secret, auth.RobotTokenPrefix) {
		t.Fatalf("create: %d %s", code, body)
	}
	if created.Token.Owner != "alice" || created.Token.Expires == nil || !created.Token.Expires.Equal(expires) || created.Token.Revoked || created.Token.Expired {
		t.Errorf("created %+v", created.Token)
	}
	var list api.TokenList
	code, body = b.apiCall(t, "GET", "/api/v1/tokens", "alice", nil)
	if code != http.StatusOK || json.Unmarshal([]byte(body), &list) != nil || len(list.Tokens) != 1 || strings.Contains(body, created.Secret) {
		t.Errorf("alice's list: %d %s", code, body)
	}
	code, body = b.apiCall(t, "GET", "/api/v1/tokens", "bob", nil)
	if code != http.StatusOK || !strings.Contains(body, `"tokens":[]`) {
		t.Errorf("bob's list: %d %s", code, body)
	}
	robot := func(method, path string, v any) int {
		raw, _ := json.Marshal(v)
		req, _ := http.NewRequest(method, s.url+path, bytes.NewReader(raw))
		req.Header.Set("Authorization", "Bearer "+created.Secret)
		code, _, _ := b.do(t, req)
		return code
	}
	req := api.TokenRequest{Name: "x", Scopes: []string{"alice:pull"}, Expires: expires}
	for name, got := range map[string][2]int{
		"anonymous list":          {http.StatusUnauthorized, first(b.apiCall(t, "GET", "/api/v1/tokens", "", nil))},
		"robot list":              {http.StatusForbidden, robot("GET", "/api/v1/tokens", nil)},
		"robot create":            {http.StatusForbidden, robot("POST", "/api/v1/tokens", req)},
		"grant beyond role":       {http.StatusForbidden, first(b.apiCall(t, "POST", "/api/v1/tokens", "alice", api.TokenRequest{Name: "x", Scopes: []string{"lab:push"}, Expires: expires}))},
		"no expiry":               {http.StatusBadRequest, first(b.apiCall(t, "POST", "/api/v1/tokens", "alice", api.TokenRequest{Name: "x", Scopes: []string{"alice:pull"}}))},
		"unknown field":           {http.StatusBadRequest, first(b.apiCall(t, "POST", "/api/v1/tokens", "alice", map[string]any{"name": "x", "admin": true}))},
		"bad name":                {http.StatusBadRequest, first(b.apiCall(t, "POST", "/api/v1/tokens", "alice", api.TokenRequest{Name: "X Y", Scopes: []string{"alice:pull"}, Expires: expires}))},
		"bob revokes alice's":     {http.StatusNotFound, first(b.apiCall(t, "DELETE", "/api/v1/tokens/"+created.Token.ID, "bob", nil))},
		"admin sees alice's":      {http.StatusOK, first(b.apiCall(t, "GET", "/api/v1/tokens", "admin", nil))},
		"alice revokes her token": {http.StatusNoContent, first(b.apiCall(t, "DELETE", "/api/v1/tokens/"+created.Token.ID, "alice", nil))},
		"revoked token logs in":   {http.StatusUnauthorized, robot("GET", "/api/v1/tokens", nil)},
	} {
		if got[0] != got[1] {
			t.Errorf("%s: %d, want %d", name, got[1], got[0])
		}
	}
	// A session cookie reads, but a cookie-borne write could be forged.
	b.login(t, "alice")
	if code, body := b.apiCall(t, "GET", "/api/v1/tokens", "", nil); code != http.StatusOK || !strings.Contains(body, created.Token.ID) {
		t.Errorf("list with the session: %d %s", code, body)
	}
	if code, _ := b.apiCall(t, "POST", "/api/v1/tokens", "", req); code != http.StatusUnauthorized {
		t.Errorf("create with only the session cookie: %d, want 401", code)
	}
	if list, _ := s.svc.RobotsOf(auth.Identity{Name: "alice"}); len(list) != 1 {
		t.Errorf("alice has %d tokens, want the 1 made", len(list))
	}
}

func first(code int, _ string) int { return code }

// TestOpenAPIDocumentsTokenRoutes: every token route is in openapi.json
// with the status a request from alice gets.
func TestOpenAPIDocumentsTokenRoutes(t *testing.T) {
	s := newLoginSite(t)
	b := s.browser(t)
	var doc struct {
		Paths map[string]map[string]struct{ Responses map[string]any }
	}
	_, body := b.get(t, "/api/v1/openapi.json")
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	_, made := b.apiCall(t, "POST", "/api/v1/tokens", "alice", api.TokenRequest{Name: "a", Scopes: []string{"alice:pull"}, Expires: time.Now().Add(time.Hour)})
	var created api.CreatedToken
	_ = json.Unmarshal([]byte(made), &created)
	for _, rt := range tokenRoutes(nil) {
		op, ok := doc.Paths[rt.path][strings.ToLower(rt.method)]
		if !ok {
			t.Errorf("openapi.json does not document %s %s", rt.method, rt.path)
			continue
		}
		var reqBody any
		if rt.method == "POST" {
			reqBody = api.TokenRequest{Name: "b", Scopes: []string{"alice:pull"}, Expires: time.Now().Add(time.Hour)}
		}
		code, out := b.apiCall(t, rt.method, strings.Replace(rt.path, "{id}", created.Token.ID, 1), "alice", reqBody)
		if _, ok := op.Responses[fmt.Sprint(code)]; !ok || code >= 300 {
			t.Errorf("%s %s: %d, which openapi.json does not document as its success: %s", rt.method, rt.path, code, out)
		}
	}
}

// TestNoLoginWhenAuthIsOff: without auth the header offers no login and
// the login and token pages do not exist.
func TestNoLoginWhenAuthIsOff(t *testing.T) {
	s := newUISite(t, uiFixtures()...)
	if body := s.page(t, "/", http.StatusOK); strings.Contains(body, `class="account"`) || strings.Contains(body, "Log in") {
		t.Errorf("the header offers a login with auth off")
	}
	for _, path := range []string{"/login", "/tokens", "/api/v1/tokens"} {
		if code, _, _ := s.get(t, path); code != http.StatusNotFound {
			t.Errorf("GET %s: %d with auth off, want 404", path, code)
		}
	}
}

func TestSameOrigin(t *testing.T) {
	const ext = "https://registry.example.org"
	for _, c := range []struct {
		origin, referer, external string
		want                      bool
	}{
		{"http://registry.example:5000", "", "", true},
		{"https://registry.example:5000", "", "", true},
		{"http://evil.example", "", "", false},
		{"http://registry.example:5001", "", "", false},
		{"", "http://registry.example:5000/login", "", true},
		{"null", "http://registry.example:5000/tokens", "", true},
		{"", "http://evil.example/registry.example:5000", "", false},
		{"", "", "", false},
		{"https://registry.example.org", "", ext, true}, // behind a proxy that rewrites Host
		{"http://registry.example.org", "", ext, false},
		{"ftp://registry.example:5000", "", "", false},
	} {
		r := httptest.NewRequest(http.MethodPost, "/tokens", nil)
		r.Host = "registry.example:5000"
		if c.origin != "" {
			r.Header.Set("Origin", c.origin)
		}
		if c.referer != "" {
			r.Header.Set("Referer", c.referer)
		}
		if got := sameOrigin(r, c.external); got != c.want {
			t.Errorf("Origin %q, Referer %q, external URL %q: %v, want %v", c.origin, c.referer, c.external, got, c.want)
		}
	}
}

// TestTokensAPIMethods: a method a token endpoint does not take is 405
// with the methods it does take.
func TestTokensAPIMethods(t *testing.T) {
	s := newLoginSite(t)
	b := s.browser(t)
	for target, allow := range map[string]string{
		"PUT /api/v1/tokens":                  "GET, HEAD, POST",
		"GET /api/v1/tokens/0011":             "DELETE",
		"POST /api/v1/tokens/0011":            "DELETE",
		"DELETE /api/v1/repositories/lab/sci": "GET, HEAD",
	} {
		method, path, _ := strings.Cut(target, " ")
		req, _ := http.NewRequest(method, s.url+path, nil)
		code, body, h := b.do(t, req)
		if code != http.StatusMethodNotAllowed || h.Get("Allow") != allow {
			t.Errorf("%s: %d, Allow %q; want 405 and %q\n%s", target, code, h.Get("Allow"), allow, body)
		}
	}
}
