package auth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oyster-registry/oyster/auth/authtest"
)

// clock is a test clock the tests move by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

type fixture struct {
	svc   *Service
	clock *clock
	log   *bytes.Buffer
	data  string
}

var passwords = map[string]string{"admin": "admin-pw-1", "alice": "alice-pw-2", "bob": "bob-pw-3"}

func newFixture(t testing.TB, edit func(*Options)) *fixture {
	t.Helper()
	data := t.TempDir()
	f := &fixture{clock: &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, log: &bytes.Buffer{}, data: data}
	opts := Options{
		DataDir: data, HtpasswdPath: authtest.WriteHtpasswd(t, data, passwords), Admins: []string{"admin"}, Service: "oyster",
		TokenTTL: 5 * time.Minute, KeyRotation: time.Hour, Policy: Policy{Private: []string{"secret"}},
		MaxFailedLogins: 3, FailedLoginWindow: time.Minute,
		Sessions: SessionOptions{Max: 4, Idle: time.Hour, Lifetime: 8 * time.Hour},
		Robots:   RobotLimits{PerOwner: 2, MaxLifetime: 30 * 24 * time.Hour},
		Log:      slog.New(slog.NewTextHandler(f.log, &slog.HandlerOptions{Level: slog.LevelDebug})), Now: f.clock.now,
	}
	if edit != nil {
		edit(&opts)
	}
	svc, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	return f
}

// login asks the realm for a token; user "" is anonymous.
func (f *fixture) login(t testing.TB, user, password string, scopes ...string) (int, string) {
	t.Helper()
	q := url.Values{"service": {"oyster"}, "scope": scopes}
	r := httptest.NewRequest(http.MethodGet, RealmPath+"?"+q.Encode(), nil)
	r.RemoteAddr = "192.0.2.7:40000"
	if user != "" || password != "" {
		r.SetBasicAuth(user, password)
	}
	w := httptest.NewRecorder()
	f.svc.ServeToken(w, r)
	var body tokenResponse
	_ = json.Unmarshal(w.Body.Bytes(), &body)
	return w.Code, body.Token
}

func (f *fixture) authorize(token string, access ...Access) error {
	r := httptest.NewRequest(http.MethodGet, "/v2/", nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	_, err := f.svc.Authorize(r, access)
	return err
}

func pull(repo string) Access { return Access{Type: "repository", Name: repo, Action: ActionPull} }
func push(repo string) Access { return Access{Type: "repository", Name: repo, Action: ActionPush} }

func TestTokenFlow(t *testing.T) {
	f := newFixture(t, nil)
	code, token := f.login(t, "alice", passwords["alice"], "repository:alice/tools:pull,push", "repository:bob/x:push,pull")
	if code != http.StatusOK || token == "" {
		t.Fatalf("login: %d", code)
	}
	for _, a := range []Access{pull("alice/tools"), push("alice/tools"), pull("bob/x")} {
		if err := f.authorize(token, a); err != nil {
			t.Errorf("%v: %v", a, err)
		}
	}
	// Asked for, not granted: push to someone else's namespace.
	err := f.authorize(token, push("bob/x"))
	c, ok := err.(*Challenge)
	if !ok || c.Code != "insufficient_scope" || c.Scope != "repository:bob/x:push" {
		t.Fatalf("push to bob/x with alice's token: %v", err)
	}
	// Not asked for: the token carries only what was requested.
	if err := f.authorize(token, pull("alice/other")); err == nil {
		t.Error("a token granted access it was not asked for")
	}
}

func TestChallengeHeader(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.ExternalURL = "https://reg.example.org/" })
	err := f.authorize("", push("alice/tools"))
	c, ok := err.(*Challenge)
	if !ok {
		t.Fatalf("anonymous push: %v", err)
	}
	w := httptest.NewRecorder()
	c.SetHeaders(nil, w)
	want := `Bearer realm="https://reg.example.org/auth/token",service="oyster",scope="repository:alice/tools:push"`
	if got := w.Header().Get("WWW-Authenticate"); got != want {
		t.Errorf("WWW-Authenticate:\n got %s\nwant %s", got, want)
	}
	// The base route needs a token even from anonymous callers: that is
	// how clients learn the realm.
	if _, ok := f.authorize("").(*Challenge); !ok {
		t.Error("anonymous /v2/ was not challenged")
	}
}

// TestPermissionMatrix checks every identity × action × visibility.
func TestPermissionMatrix(t *testing.T) {
	f := newFixture(t, func(o *Options) {
		o.Policy.Namespaces = map[string]NamespaceRules{"lab": {Private: true, Users: map[string]Role{"bob": RoleWrite}}}
	})
	_, robotToken, err := f.svc.robots.Create("ci", []NamespaceGrant{{Namespace: "alice", Actions: []string{ActionPull, ActionPush}}}, time.Time{}, f.clock.t)
	if err != nil {
		t.Fatal(err)
	}
	// secret/* is private; alice/* and bob/* public; lab/* private, bob
	// has the write role in it. (TestPolicyMatrix covers groups.)
	type who struct{ user, password string }
	identities := map[string]who{
		"anonymous": {}, "admin": {"admin", passwords["admin"]}, "alice": {"alice", passwords["alice"]},
		"bob": {"bob", passwords["bob"]}, "robot": {"ci", robotToken},
	}
	repos := []string{"alice/tools", "secret/data", "lab/env"}
	actions := []string{ActionPull, ActionPush, ActionDelete}
	want := map[string]string{ // identity → allowed "repo:action" set, written out
		"anonymous": "alice/tools:pull",
		"admin":     "alice/tools:pull alice/tools:push alice/tools:delete secret/data:pull secret/data:push secret/data:delete lab/env:pull lab/env:push lab/env:delete",
		"alice":     "alice/tools:pull alice/tools:push alice/tools:delete",
		"bob":       "alice/tools:pull lab/env:pull lab/env:push",
		"robot":     "alice/tools:pull alice/tools:push",
	}
	for name, id := range identities {
		var scopes []string
		for _, repo := range repos {
			scopes = append(scopes, "repository:"+repo+":pull,push,delete")
		}
		code, token := f.login(t, id.user, id.password, scopes...)
		if code != http.StatusOK {
			t.Fatalf("%s: login %d", name, code)
		}
		var got []string
		for _, repo := range repos {
			for _, action := range actions {
				if f.authorize(token, Access{Type: "repository", Name: repo, Action: action}) == nil {
					got = append(got, repo+":"+action)
				}
			}
		}
		if strings.Join(got, " ") != want[name] {
			t.Errorf("%s may:\n got %s\nwant %s", name, strings.Join(got, " "), want[name])
		}
	}
	// Anonymous pulls of public repositories need no token at all.
	if err := f.authorize("", pull("alice/tools")); err != nil {
		t.Errorf("anonymous pull of a public repository: %v", err)
	}
	if err := f.authorize("", pull("secret/data")); err == nil {
		t.Error("anonymous pull of a private repository allowed")
	}
	// Only admins list the registry.
	catalog := Access{Type: "registry", Name: "catalog", Action: "*"}
	for _, name := range []string{"alice", "admin"} {
		_, token := f.login(t, name, passwords[name], "registry:catalog:*")
		if err := f.authorize(token, catalog); (err == nil) != (name == "admin") {
			t.Errorf("%s listing the catalog: %v", name, err)
		}
	}
}

// forge signs claims with a key of its own choosing.
func forge(t *testing.T, header string, claims Claims, key *signingKey) string {
	t.Helper()
	body, _ := json.Marshal(claims)
	if key == nil {
		return b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString(body) + "."
	}
	tok, err := sign(key, claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestBadTokensRefused(t *testing.T) {
	f := newFixture(t, nil)
	_, good := f.login(t, "alice", passwords["alice"], "repository:alice/tools:pull")
	if err := f.authorize(good, pull("alice/tools")); err != nil {
		t.Fatal(err)
	}
	now := f.clock.t
	claims := Claims{Issuer: issuer, Subject: "alice", Audience: "oyster", IssuedAt: now.Unix(), NotBefore: now.Unix() - 1, ExpiresAt: now.Add(time.Minute).Unix(),
		Access: []ResourceActions{{Type: "repository", Name: "alice/tools", Actions: []string{"pull"}}}}
	other, err := openKeyRing(t.TempDir(), time.Hour, time.Minute, now)
	if err != nil {
		t.Fatal(err)
	}
	otherKey, _ := other.current(now)
	ours, _ := f.svc.keys.current(now)
	wrongAud, wrongIss := claims, claims
	wrongAud.Audience, wrongIss.Issuer = "another-registry", "someone"
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + b64.EncodeToString([]byte(`{"iss":"`+issuer+`","aud":"oyster","sub":"alice","exp":9999999999,"access":[{"type":"repository","name":"bob/x","actions":["push"]}]}`)) + "." + parts[2]
	cases := map[string]string{
		"alg none":                 forge(t, `{"alg":"none","typ":"JWT"}`, claims, nil),
		"alg HS256":                forge(t, `{"alg":"HS256","typ":"JWT","kid":"`+ours.id+`"}`, claims, nil),
		"unknown key":              forge(t, "", claims, otherKey),
		"another service (replay)": forge(t, "", wrongAud, ours),
		"another issuer":           forge(t, "", wrongIss, ours),
		"tampered claims":          tampered,
		"not a JWT":                "abc.def",
		"garbage base64":           "!!.!!.!!",
	}
	for name, tok := range cases {
		err := f.authorize(tok, pull("alice/tools"))
		if c, ok := err.(*Challenge); !ok || c.Code != "invalid_token" {
			t.Errorf("%s: %v", name, err)
		}
	}
	f.clock.t = now.Add(5*time.Minute + time.Second)
	if c, ok := f.authorize(good, pull("alice/tools")).(*Challenge); !ok || c.Code != "invalid_token" {
		t.Error("an expired token was accepted")
	}
}

func TestKeyRotation(t *testing.T) {
	f := newFixture(t, nil)
	_, first := f.login(t, "alice", passwords["alice"], "repository:alice/a:pull")
	kid := func(tok string) string {
		var h jwtHeader
		_ = decodeSegment(strings.Split(tok, ".")[0], &h)
		return h.Kid
	}
	f.clock.t = f.clock.t.Add(time.Hour + time.Minute) // past key_rotation
	_, second := f.login(t, "alice", passwords["alice"], "repository:alice/a:pull")
	if kid(first) == kid(second) {
		t.Fatal("the signing key did not rotate after key_rotation")
	}
	// A token from the retired key verifies while it lives.
	f.clock.t = f.clock.t.Add(time.Hour - 2*time.Minute)
	_, third := f.login(t, "alice", passwords["alice"], "repository:alice/a:pull")
	if kid(third) != kid(second) {
		t.Fatal("the key rotated early")
	}
	f.clock.t = f.clock.t.Add(3 * time.Minute) // second's key retires now
	_, fourth := f.login(t, "alice", passwords["alice"], "repository:alice/a:pull")
	if kid(fourth) == kid(third) {
		t.Fatal("no second rotation")
	}
	if err := f.authorize(third, pull("alice/a")); err != nil {
		t.Errorf("a token of the retired key within its life: %v", err)
	}
	// The keys survive a restart: a new service verifies the same tokens.
	again, err := New(f.svc.opts)
	if err != nil {
		t.Fatal(err)
	}
	f.svc = again
	if err := f.authorize(third, pull("alice/a")); err != nil {
		t.Errorf("after a restart: %v", err)
	}
	// Once all its tokens have expired, the retired key is deleted.
	f.clock.t = f.clock.t.Add(time.Hour)
	f.login(t, "alice", passwords["alice"])
	if f.svc.keys.public(kid(first)) != nil || f.svc.keys.public(kid(third)) != nil {
		t.Error("retired keys were kept after their tokens expired")
	}
	if files, _ := filepath.Glob(filepath.Join(f.data, "auth", "keys", "*.pem")); len(files) != 2 {
		t.Errorf("key files: %v", files)
	}
}

func TestRobotTokens(t *testing.T) {
	f := newFixture(t, nil)
	grants := []NamespaceGrant{{Namespace: "lab", Actions: []string{ActionPull, ActionPush}}}
	robot, token, err := f.svc.robots.Create("builder", grants, f.clock.t.Add(24*time.Hour), f.clock.t)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(f.data, "auth", "robots.json"))
	secret := token[strings.LastIndex(token, "_")+1:]
	if bytes.Contains(raw, []byte(secret)) || !bytes.Contains(raw, []byte(robot.SecretSHA)) {
		t.Fatal("robots.json does not hold the secret's hash alone")
	}
	code, tok := f.login(t, "builder", token, "repository:lab/env:push,pull", "repository:other/x:push")
	if code != http.StatusOK || f.authorize(tok, push("lab/env")) != nil || f.authorize(tok, push("other/x")) == nil {
		t.Fatalf("robot token: %d", code)
	}
	// Revoked through another handle on the file (as `registry token revoke`
	// does while the registry runs).
	if err := OpenRobots(f.data).Revoke(robot.ID); err != nil {
		t.Fatal(err)
	}
	if code, _ := f.login(t, "builder", token); code != http.StatusUnauthorized {
		t.Errorf("revoked robot token: %d", code)
	}
	f.clock.t = f.clock.t.Add(time.Minute)
	_, token2, _ := f.svc.robots.Create("nightly", grants, f.clock.t.Add(time.Hour), f.clock.t)
	f.clock.t = f.clock.t.Add(time.Hour)
	if code, _ := f.login(t, "nightly", token2); code != http.StatusUnauthorized {
		t.Errorf("expired robot token: %d", code)
	}
	wrong := token2[:len(token2)-1] + "0"
	if strings.HasSuffix(token2, "0") {
		wrong = token2[:len(token2)-1] + "1"
	}
	f.clock.t = f.clock.t.Add(-time.Minute)
	if code, _ := f.login(t, "nightly", wrong); code != http.StatusUnauthorized {
		t.Errorf("wrong robot secret: %d", code)
	}
	list, err := f.svc.robots.List()
	if err != nil || len(list) != 2 || list[0].Name != "nightly" || !list[1].Revoked {
		t.Errorf("list: %+v %v", list, err)
	}
}

func TestBadRobotInput(t *testing.T) {
	rs := OpenRobots(t.TempDir())
	now := time.Now()
	for name, g := range map[string]string{"no actions": "alice:", "bad action": "alice:write", "no namespace": ":pull", "repo not namespace": "alice/x:pull", "no colon": "alice"} {
		if _, err := ParseGrant(g); err == nil {
			t.Errorf("%s (%q) accepted", name, g)
		}
	}
	grants := []NamespaceGrant{{Namespace: "a", Actions: []string{"pull"}}}
	if _, _, err := rs.Create("Bad Name", grants, time.Time{}, now); err == nil {
		t.Error("bad name accepted")
	}
	if _, _, err := rs.Create("ok", nil, time.Time{}, now); err == nil {
		t.Error("robot without scopes accepted")
	}
	if _, _, err := rs.Create("ok", grants, now.Add(-time.Hour), now); err == nil {
		t.Error("expiry in the past accepted")
	}
	if err := rs.Revoke("nope"); err == nil {
		t.Error("revoking an unknown id succeeded")
	}
	if list, _ := rs.List(); len(list) != 0 {
		t.Errorf("bad input changed the robots: %+v", list)
	}
}

func TestFailedLoginsLimitedAndSecretsNotLogged(t *testing.T) {
	f := newFixture(t, nil)
	_, robotToken, _ := f.svc.robots.Create("ci", []NamespaceGrant{{Namespace: "ci", Actions: []string{"pull"}}}, time.Time{}, f.clock.t)
	_ = OpenRobots(f.data).Revoke(strings.Split(strings.TrimPrefix(robotToken, RobotTokenPrefix), "_")[0])
	secrets := []string{"wrong-password-xyz", robotToken, passwords["alice"]}
	for _, s := range secrets[:2] {
		if code, _ := f.login(t, "alice", s); code != http.StatusUnauthorized {
			t.Fatalf("bad login: %d", code)
		}
	}
	if code, _ := f.login(t, "mallory", "guess-3"); code != http.StatusUnauthorized {
		t.Fatal("third failure not refused")
	}
	// The limit is reached: even the right password waits for the window.
	if code, _ := f.login(t, "alice", passwords["alice"]); code != http.StatusTooManyRequests {
		t.Fatalf("after 3 failures: %d, want 429", code)
	}
	f.clock.t = f.clock.t.Add(time.Minute)
	code, token := f.login(t, "alice", passwords["alice"], "repository:alice/x:pull")
	if code != http.StatusOK {
		t.Fatalf("after the window: %d", code)
	}
	secrets = append(secrets, token)
	_ = f.authorize(token+"x", pull("alice/x")) // a refused token is logged
	log := f.log.String()
	for _, s := range secrets {
		if strings.Contains(log, s) {
			t.Errorf("the log holds a secret: %q", s)
		}
	}
	for _, want := range []string{"too many failures", "revoked", "user=mallory", "token refused"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

func TestRealmBadRequests(t *testing.T) {
	f := newFixture(t, nil)
	do := func(method, target string, body string) int {
		r := httptest.NewRequest(method, target, strings.NewReader(body))
		if body != "" {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		w := httptest.NewRecorder()
		f.svc.ServeToken(w, r)
		return w.Code
	}
	if c := do("GET", RealmPath+"?service=elsewhere", ""); c != http.StatusBadRequest {
		t.Errorf("wrong service: %d", c)
	}
	if c := do("GET", RealmPath+"?scope=repository:x", ""); c != http.StatusBadRequest {
		t.Errorf("bad scope: %d", c)
	}
	if c := do("DELETE", RealmPath, ""); c != http.StatusMethodNotAllowed {
		t.Errorf("DELETE: %d", c)
	}
	form := url.Values{"grant_type": {"password"}, "username": {"bob"}, "password": {passwords["bob"]}, "service": {"oyster"}, "scope": {"repository:bob/x:push"}}
	r := httptest.NewRequest("POST", RealmPath, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	f.svc.ServeToken(w, r)
	var body tokenResponse
	_ = json.Unmarshal(w.Body.Bytes(), &body)
	if w.Code != http.StatusOK || f.authorize(body.AccessToken, push("bob/x")) != nil {
		t.Errorf("OAuth2 password grant: %d %s", w.Code, w.Body)
	}
}

func TestHtpasswdOnlyBcrypt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "htpasswd")
	os.WriteFile(path, []byte("alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n"), 0o600)
	if _, err := readHtpasswd(path); err == nil || !strings.Contains(err.Error(), "bcrypt") {
		t.Errorf("SHA1 entry: %v", err)
	}
	os.WriteFile(path, []byte("no-colon-here\n"), 0o600)
	if _, err := readHtpasswd(path); err == nil {
		t.Error("line without colon accepted")
	}
}

func TestParseScope(t *testing.T) {
	for in, want := range map[string]string{
		"repository:alice/tools:pull,push": "repository:alice/tools:pull,push",
		"repository:a/b/c:pull":            "repository:a/b/c:pull",
		"registry:catalog:*":               "registry:catalog:*",
	} {
		got, err := ParseScope(in)
		if err != nil || got.String() != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "repository", "repository:x", "repository::pull", "repository:x:pull,,push"} {
		if _, err := ParseScope(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestVerifiedTokensBounded(t *testing.T) {
	var v verifiedTokens
	now := time.Unix(1000, 0)
	for i := range maxVerified + 10 {
		v.put(fmt.Sprint(i), Claims{ExpiresAt: 2000}, now)
	}
	if n := len(v.claims); n > maxVerified {
		t.Errorf("%d cached tokens, bound %d", n, maxVerified)
	}
	if _, ok := v.get(fmt.Sprint(maxVerified+9), now); !ok {
		t.Error("the newest token is not cached")
	}
	if _, ok := v.get(fmt.Sprint(maxVerified+9), time.Unix(2000, 0)); ok {
		t.Error("an expired token came from the cache")
	}
}
