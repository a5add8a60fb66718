package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/oyster-registry/oyster/auth/authtest"
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
	uiDo(t, ctx, "revoking the token",
		chromedp.Click(chromedp.CSS("#"+rowID+" button.danger")), chromedp.WaitVisible(chromedp.CSS("#h-tokens")))
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
