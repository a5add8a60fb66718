package auth

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/oyster-registry/oyster/auth/oidctest"
)

// oidcLoginSite serves the two login endpoints and /whoami over a Service
// logging in through p, as the web UI does.
func oidcLoginSite(t *testing.T, p *oidctest.Provider) (*fixture, string) {
	t.Helper()
	var f *fixture
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	clientID, secret := p.AddLoginClient(srv.URL + "/login/callback")
	f = oidcFixture(t, p, func(o *OIDCOptions) {
		o.Login = OIDCLoginOptions{ClientID: clientID, ClientSecret: secret}
	})
	mux.HandleFunc("/login/oidc", func(w http.ResponseWriter, r *http.Request) {
		if err := f.svc.StartOIDCLogin(w, r, r.URL.Query().Get("next")); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("/login/callback", func(w http.ResponseWriter, r *http.Request) {
		next, err := f.svc.FinishOIDCLogin(w, r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, "next="+next)
	})
	mux.HandleFunc("/whoami", func(w http.ResponseWriter, r *http.Request) {
		id, _ := f.svc.Identify(r)
		fmt.Fprint(w, id.Name, strings.Join(id.Groups, ","))
	})
	return f, srv.URL
}

// oidcBrowser follows redirects up to the provider's answer to Oyster's
// callback, which it returns unvisited.
type oidcBrowser struct {
	client *http.Client
	site   string
}

func newOIDCBrowser(t *testing.T, site string) *oidcBrowser {
	jar, _ := cookiejar.New(nil)
	return &oidcBrowser{site: site, client: &http.Client{Jar: jar, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		if r.URL.Path == "/login/callback" {
			return http.ErrUseLastResponse
		}
		return nil
	}}}
}

func (b *oidcBrowser) get(t *testing.T, target string) (int, string, *http.Response) {
	t.Helper()
	resp, err := b.client.Get(target)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp
}

// signIn starts a login, signs in at the provider's page as user and
// returns the callback URL the provider sends the browser to.
func (b *oidcBrowser) signIn(t *testing.T, user string) string {
	t.Helper()
	code, body, resp := b.get(t, b.site+"/login/oidc?next=/tokens")
	if code != http.StatusOK || !strings.Contains(body, "Sign in to the test provider") {
		t.Fatalf("the provider's login page: %d\n%s", code, body)
	}
	id := resp.Request.URL.Query().Get("id")
	resp, err := b.client.PostForm(resp.Request.URL.Scheme+"://"+resp.Request.URL.Host+"/login", url.Values{"id": {id}, "username": {user}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	callback := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(callback, b.site+"/login/callback?") {
		t.Fatalf("after signing in: %d to %q", resp.StatusCode, callback)
	}
	return callback
}

// TestOIDCLogin: the authorization code flow with PKCE against a real
// provider: the session is the access token's identity with the groups
// the realm would see; a callback visited twice, another browser's
// callback, or one with a tampered PKCE verifier is refused.
func TestOIDCLogin(t *testing.T) {
	p := startProvider(t)
	f, site := oidcLoginSite(t, p)
	b := newOIDCBrowser(t, site)
	callback := b.signIn(t, "walt")
	if code, body, _ := b.get(t, callback); code != http.StatusOK || body != "next=/tokens" {
		t.Fatalf("callback: %d %s", code, body)
	}
	if _, who, _ := b.get(t, site+"/whoami"); who != "waltlab-writers" {
		t.Errorf("the session is %q, want walt in lab-writers", who)
	}
	if code, body, _ := b.get(t, callback); code != http.StatusUnauthorized {
		t.Errorf("the callback visited twice: %d %s", code, body)
	}

	other := newOIDCBrowser(t, site)
	stolen := other.signIn(t, "rita")
	if code, body, _ := newOIDCBrowser(t, site).get(t, stolen); code != http.StatusUnauthorized || !strings.Contains(body, "no login is pending") {
		t.Errorf("another browser's callback without its cookie: %d %s", code, body)
	}
	mine := newOIDCBrowser(t, site)
	mine.signIn(t, "rita")
	if code, body, _ := mine.get(t, stolen); code != http.StatusUnauthorized || !strings.Contains(body, "state does not match") {
		t.Errorf("another browser's callback with this browser's cookie: %d %s", code, body)
	}

	tampered := newOIDCBrowser(t, site)
	cb := tampered.signIn(t, "rita")
	u, _ := url.Parse(site + "/login")
	for _, c := range tampered.client.Jar.Cookies(u) {
		if c.Name == oidcLoginCookie {
			parts := strings.Split(c.Value, ".")
			parts[2] = strings.Repeat("A", len(parts[2]))
			tampered.client.Jar.SetCookies(u, []*http.Cookie{{Name: c.Name, Value: strings.Join(parts, "."), Path: "/login"}})
		}
	}
	if code, body, _ := tampered.get(t, cb); code != http.StatusUnauthorized || !strings.Contains(body, "exchanging the code") {
		t.Errorf("a tampered PKCE verifier: %d %s", code, body)
	}
	if strings.Contains(f.log.String(), cb[strings.Index(cb, "code=")+5:][:8]) {
		t.Error("the log holds an authorization code")
	}
}
