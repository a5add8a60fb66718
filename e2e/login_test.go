package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/oyster-registry/oyster/auth/authtest"
	"github.com/oyster-registry/oyster/auth/oidctest"
)

// TestUILogin drives the web UI's login and robot tokens in headless
// Chromium with scripts disabled (the forms need none) against the
// registry binary with auth on: log in with a password, see the name in
// the header, make a token (its secret shown once), push with it with
// crane, revoke it, see crane refused, log out.
func TestUILogin(t *testing.T) {
	requireTool(t, "crane")
	htpasswd := authtest.WriteHtpasswd(t, t.TempDir(), authUsers)
	reg := startRegistry(t, "", "OYSTER_AUTH_HTPASSWD_PATH="+htpasswd)
	base := "http://" + reg.Host
	ctx := uiBrowser(t, false)

	uiDo(t, ctx, "opening home", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`.account a[href="/login"]`)))
	uiDo(t, ctx, "logging in as alice",
		chromedp.Click(chromedp.CSS(`.account a[href="/login"]`)), chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), "alice"), chromedp.SendKeys(chromedp.CSS("#password"), authUsers["alice"]),
		chromedp.Click(chromedp.CSS(`main button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS(".account .who")))
	uiWant(t, "the header after login", uiTexts(t, ctx, ".account .who"), "alice")
	session := uiSessionCookie(t, ctx)
	if session == nil || !session.HTTPOnly || session.SameSite != network.CookieSameSiteLax || session.Path != "/" {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, Path=/", session)
	}

	uiDo(t, ctx, "making a token",
		chromedp.Click(chromedp.CSS(`.account a[href="/tokens"]`)), chromedp.WaitVisible(chromedp.CSS("#name")),
		chromedp.SendKeys(chromedp.CSS("#name"), "ci-push"), chromedp.SendKeys(chromedp.CSS("#scopes"), "alice:pull,push"),
		chromedp.Click(chromedp.CSS(`form[action="/tokens"] button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS("#secret")))
	secret := uiTexts(t, ctx, "#secret")[0]
	if !strings.HasPrefix(secret, "oyster_") {
		t.Fatalf("the shown secret is %q", secret)
	}
	uiScreenshot(t, ctx, "token-made")
	uiDo(t, ctx, "reloading the tokens page", chromedp.Navigate(base+"/tokens"), chromedp.WaitVisible(chromedp.CSS("#h-tokens")))
	if body := uiEval[string](t, ctx, "document.documentElement.outerHTML"); strings.Contains(body, secret) {
		t.Fatal("the tokens page shows the secret a second time")
	}

	env := []string{"DOCKER_CONFIG=" + t.TempDir()}
	mustEnv(t, env, "crane", "auth", "login", reg.Host, "-u", "ci-push", "-p", secret)
	layer := busyboxLayer(t, t.TempDir(), "login")
	mustEnv(t, env, "crane", "append", "--insecure", "--oci-empty-base", "-f", layer, "-t", reg.Host+"/alice/app:1")

	rowID := uiEval[string](t, ctx, `document.querySelector('tbody tr[id^="token-"]').id`)
	// The page before the click already has #h-tokens: a mark on its
	// window tells the answer's page (a new window) from it.
	uiEval[bool](t, ctx, "window.oysterBeforeRevoke = true")
	uiDo(t, ctx, "revoking the token", chromedp.Click(chromedp.CSS("#"+rowID+" button.danger")))
	uiWaitFor(t, ctx, "the page answering the revocation", `!window.oysterBeforeRevoke && document.readyState === "complete" && document.querySelector("#h-tokens")`)
	uiWant(t, "the token's state", uiTexts(t, ctx, "#"+rowID+" td:nth-last-child(2)"), "revoked")
	if out, err := runEnv(env, "crane", "append", "--insecure", "--oci-empty-base", "-f", layer, "-t", reg.Host+"/alice/app:2"); err == nil {
		t.Fatalf("crane pushed with a revoked token: %s", out)
	}

	uiDo(t, ctx, "logging out", chromedp.Click(chromedp.CSS(".account button")), chromedp.WaitVisible(chromedp.CSS(`.account a[href="/login"]`)))
	if c := uiSessionCookie(t, ctx); c != nil {
		t.Errorf("the session cookie outlived the logout: %s", c.Name)
	}
	checkNoSecrets(t, reg, authUsers["alice"], secret, session.Value)
}

// uiSessionCookie is the browser's oyster_session cookie, or nil.
func uiSessionCookie(t *testing.T, ctx context.Context) *network.Cookie {
	t.Helper()
	var found *network.Cookie
	uiDo(t, ctx, "reading cookies", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		res, err := cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{})
		for _, c := range res.Cookies {
			if c.Name == "oyster_session" {
				found = c
			}
		}
		return err
	}))
	return found
}

// TestUILoginOIDC logs in through a real OpenID provider in Chromium: the
// login page's provider button, the provider's own login page, back with
// a code (PKCE), and a session whose groups are the access token's: walt
// may make a token that pushes to the group namespace lab because his
// group lab-writers has the write role there.
func TestUILoginOIDC(t *testing.T) {
	p := oidctest.Start(t, oidctest.Options{})
	p.AddUser(oidctest.User{Username: "walt", Groups: []string{"lab-writers"}})
	clientID, secret := p.AddLoginClient("http://unknown-yet/login/callback")
	reg := startRegistry(t, "",
		"OYSTER_AUTH_OIDC_ISSUER="+p.Issuer, "OYSTER_AUTH_OIDC_AUDIENCE=oyster",
		"OYSTER_AUTH_OIDC_CLIENT_ID="+clientID, "OYSTER_AUTH_OIDC_CLIENT_SECRET="+secret,
		"OYSTER_AUTH_NAMESPACES={lab: {groups: {lab-writers: write}}}")
	base := "http://" + reg.Host
	p.SetLoginRedirect(clientID, base+"/login/callback")
	ctx := uiBrowser(t, false)

	uiDo(t, ctx, "opening the login page", chromedp.Navigate(base+"/login?next=/tokens"), chromedp.WaitVisible(chromedp.CSS("#oidc-login")))
	uiDo(t, ctx, "signing in at the provider",
		chromedp.Click(chromedp.CSS("#oidc-login")), chromedp.WaitVisible(chromedp.CSS("#op-username")),
		chromedp.SendKeys(chromedp.CSS("#op-username"), "walt"), chromedp.Click(chromedp.CSS("#op-submit")),
		chromedp.WaitVisible(chromedp.CSS(".account .who")))
	uiWant(t, "the header after the provider's login", uiTexts(t, ctx, ".account .who"), "walt")
	if path := uiEval[string](t, ctx, "location.pathname"); path != "/tokens" {
		t.Fatalf("after login the browser is at %s, want /tokens", path)
	}
	uiDo(t, ctx, "making a token for the group namespace",
		chromedp.SendKeys(chromedp.CSS("#name"), "lab-ci"), chromedp.SendKeys(chromedp.CSS("#scopes"), "lab:pull,push"),
		chromedp.Click(chromedp.CSS(`form[action="/tokens"] button[type="submit"]`)))
	uiWaitFor(t, ctx, "the answer to the token form", `document.querySelector('#secret, .problem')`)
	if secret := uiTexts(t, ctx, "#secret"); len(secret) != 1 {
		t.Fatalf("no token made for lab with walt's group role; page says %q", uiTexts(t, ctx, ".problem"))
	}
	checkNoSecrets(t, reg, secret, uiTexts(t, ctx, "#secret")[0])
}
