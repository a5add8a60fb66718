package auth

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// webLogin posts credentials to Login as the form handler does and
// returns the session cookie it set, if any.
func (f *fixture) webLogin(t *testing.T, user, password string) (*http.Cookie, error) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/login", nil)
	r.RemoteAddr = "203.0.113.9:5555"
	w := httptest.NewRecorder()
	_, err := f.svc.Login(w, r, user, password)
	for _, c := range w.Result().Cookies() {
		if c.Name == SessionCookie {
			return c, err
		}
	}
	return nil, err
}

// withCookie is a request to a web page carrying c.
func withCookie(c *http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/tokens", nil)
	r.AddCookie(c)
	return r
}

// TestSessionLogin: a right password starts a session that Identify
// accepts; the cookie is HttpOnly, SameSite=Lax and Path=/; a wrong
// password sets no cookie, and failures count against the source like the
// realm's, until right passwords are refused too.
func TestSessionLogin(t *testing.T) {
	f := newFixture(t, nil)
	c, err := f.webLogin(t, "alice", passwords["alice"])
	if err != nil || c == nil {
		t.Fatalf("login: cookie %v, err %v", c, err)
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure {
		t.Errorf("cookie attributes %+v; want HttpOnly, Lax, Path=/, not Secure over http", c)
	}
	id, err := f.svc.Identify(withCookie(c))
	if err != nil || id.Name != "alice" {
		t.Errorf("Identify with the session: %q, %v", id.Name, err)
	}
	post := withCookie(c)
	post.Method = http.MethodPost
	if id, _ := f.svc.Identify(post); id.Name != "" {
		t.Errorf("Identify took the session on a POST, as %q; only the UI's CSRF-checked forms may", id.Name)
	}
	sess, ok := f.svc.Session(withCookie(c))
	if !ok || len(sess.CSRF) < 32 {
		t.Errorf("session %+v, %v: want one with a CSRF token", sess, ok)
	}
	if id, _ := f.svc.Identify(withCookie(&http.Cookie{Name: SessionCookie, Value: c.Value + "0"})); id.Name != "" {
		t.Errorf("a forged session id is %q, want anonymous", id.Name)
	}
	for range 3 {
		if c, err := f.webLogin(t, "alice", "typo-pw-9"); !errors.Is(err, ErrBadCredentials) || c != nil {
			t.Fatalf("wrong password: cookie %v, err %v", c, err)
		}
	}
	if _, err := f.webLogin(t, "alice", passwords["alice"]); !errors.Is(err, ErrTooManyFailures) {
		t.Errorf("after 3 failures: %v, want ErrTooManyFailures", err)
	}
	if strings.Contains(f.log.String(), "typo-pw-9") || strings.Contains(f.log.String(), passwords["alice"]) || strings.Contains(f.log.String(), c.Value) {
		t.Errorf("the log holds a password or a session id:\n%s", f.log)
	}
}

// TestSessionSecureCookie: over https (an https external URL, or a proxy
// saying https) the cookie is Secure.
func TestSessionSecureCookie(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.ExternalURL = "https://registry.example.org" })
	c, err := f.webLogin(t, "bob", passwords["bob"])
	if err != nil || !c.Secure {
		t.Fatalf("cookie %+v, err %v; want Secure", c, err)
	}
	f = newFixture(t, nil)
	r := httptest.NewRequest(http.MethodPost, "/login", nil)
	r.Header.Set("X-Forwarded-Proto", "https")
	w := httptest.NewRecorder()
	if _, err := f.svc.Login(w, r, "bob", passwords["bob"]); err != nil || len(w.Result().Cookies()) != 1 || !w.Result().Cookies()[0].Secure {
		t.Fatalf("behind a TLS proxy: cookies %v, err %v; want a Secure one", w.Result().Cookies(), err)
	}
}

// TestSessionExpiry: a session ends after its idle time, and after its
// lifetime however busy it is.
func TestSessionExpiry(t *testing.T) {
	f := newFixture(t, nil)
	idle, _ := f.webLogin(t, "alice", passwords["alice"])
	busy, _ := f.webLogin(t, "bob", passwords["bob"])
	for range 7 { // 7h: alice's session idles out after 1h; bob's is used every hour
		f.clock.t = f.clock.t.Add(time.Hour - time.Second)
		if _, ok := f.svc.Session(withCookie(busy)); !ok {
			t.Fatal("a session in use ended before its lifetime")
		}
	}
	if _, ok := f.svc.Session(withCookie(idle)); ok {
		t.Error("an idle session outlived its idle timeout")
	}
	f.clock.t = f.clock.t.Add(time.Hour)
	if _, ok := f.svc.Session(withCookie(busy)); ok {
		t.Error("a session outlived its lifetime (8h)")
	}
}

// TestSessionBound: beyond Max sessions, a login ends the one idle
// longest, and the others stay.
func TestSessionBound(t *testing.T) {
	f := newFixture(t, nil)
	var cookies []*http.Cookie
	for range 5 { // Max is 4
		c, err := f.webLogin(t, "alice", passwords["alice"])
		if err != nil {
			t.Fatal(err)
		}
		cookies = append(cookies, c)
		f.clock.t = f.clock.t.Add(time.Second)
	}
	if _, ok := f.svc.Session(withCookie(cookies[0])); ok {
		t.Error("the session idle longest survived a login beyond the bound")
	}
	for i, c := range cookies[1:] {
		if _, ok := f.svc.Session(withCookie(c)); !ok {
			t.Errorf("session %d ended; only the idlest should", i+1)
		}
	}
}

// TestSessionLogoutAndFixation: logging out ends the session; logging in
// with a session cookie ends that session, so a planted id is worthless.
func TestSessionLogoutAndFixation(t *testing.T) {
	f := newFixture(t, nil)
	planted, _ := f.webLogin(t, "bob", passwords["bob"])
	r := withCookie(planted)
	r.RemoteAddr = "203.0.113.9:5555"
	w := httptest.NewRecorder()
	if _, err := f.svc.Login(w, r, "alice", passwords["alice"]); err != nil {
		t.Fatal(err)
	}
	if id, _ := f.svc.Identify(withCookie(planted)); id.Name != "" {
		t.Errorf("the session sent with a login still works, as %q", id.Name)
	}
	var fresh *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == SessionCookie && c.Value != "" {
			fresh = c
		}
	}
	if fresh == nil || fresh.Value == planted.Value {
		t.Fatalf("login set no new session cookie: %v", w.Result().Cookies())
	}
	w = httptest.NewRecorder()
	f.svc.EndSession(w, withCookie(fresh))
	if id, _ := f.svc.Identify(withCookie(fresh)); id.Name != "" {
		t.Errorf("after logout the session is still %q", id.Name)
	}
	if cleared := w.Result().Cookies(); len(cleared) != 1 || cleared[0].MaxAge >= 0 {
		t.Errorf("logout cookies %v; want the session cookie cleared", cleared)
	}
}

// TestSessionOfRevokedRobot: a session logged in with a robot token ends
// when the token is revoked.
func TestSessionOfRevokedRobot(t *testing.T) {
	f := newFixture(t, nil)
	grants := []NamespaceGrant{{Namespace: "lab", Actions: []string{ActionPull}}}
	robot, token, err := f.svc.robots.Create("ci", grants, f.clock.t.Add(time.Hour), f.clock.t)
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.webLogin(t, "ci", token)
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := f.svc.Identify(withCookie(c)); id.Name != "robot:ci" {
		t.Fatalf("robot session is %q", id.Name)
	}
	if err := f.svc.robots.Revoke(robot.ID); err != nil {
		t.Fatal(err)
	}
	if id, _ := f.svc.Identify(withCookie(c)); id.Name != "" {
		t.Errorf("the session of a revoked robot is still %q", id.Name)
	}
}
