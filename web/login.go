package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/oyster-registry/oyster/auth"
)

// account is the page header's login state: nothing when auth is off, a
// "Log in" link, or the user's name with "Tokens" and "Log out".
type account struct {
	On   bool   // auth is on
	Name string // who is logged in; "" nobody
	CSRF string // the session's token, for the logout form
}

// accountOf is r's login state for the header.
func (u *ui) accountOf(r *http.Request) account {
	if u.auth == nil {
		return account{}
	}
	sess, ok := u.auth.Session(r)
	if !ok {
		return account{On: true}
	}
	return account{On: true, Name: sess.Identity.Name, CSRF: sess.CSRF}
}

// registerLogin adds the login, logout and token pages; only with auth on.
func registerLogin(mux *http.ServeMux, u *ui) {
	mux.Handle("GET /login", secured(http.HandlerFunc(u.loginForm)))
	mux.Handle("POST /login", secured(http.HandlerFunc(u.login)))
	mux.Handle("POST /logout", secured(http.HandlerFunc(u.logout)))
	mux.Handle("GET /tokens", secured(http.HandlerFunc(u.tokensPage)))
	mux.Handle("POST /tokens", secured(http.HandlerFunc(u.createToken)))
	mux.Handle("POST /tokens/{id}/revoke", secured(http.HandlerFunc(u.revokeToken)))
	if u.auth.OIDCLoginEnabled() {
		mux.Handle("GET /login/oidc", secured(http.HandlerFunc(u.oidcLogin)))
		mux.Handle("GET /login/callback", secured(http.HandlerFunc(u.oidcCallback)))
	}
}

// oidcLogin sends the browser to the identity provider.
func (u *ui) oidcLogin(w http.ResponseWriter, r *http.Request) {
	if err := u.auth.StartOIDCLogin(w, r, localPath(r.URL.Query().Get("next"))); err != nil {
		u.fail(w, r, err)
	}
}

// oidcCallback is where the provider sends the browser back.
func (u *ui) oidcCallback(w http.ResponseWriter, r *http.Request) {
	next, err := u.auth.FinishOIDCLogin(w, r)
	if err != nil {
		u.message(w, r, http.StatusUnauthorized, "Login failed", "The login through your identity provider did not work: "+err.Error()+". Try again from the login page.")
		return
	}
	http.Redirect(w, r, localPath(next), http.StatusSeeOther)
}

type loginView struct {
	frame
	CSRF, User, Next, Problem string
	// OIDC offers the login through the identity provider.
	OIDC bool
}

func (u *ui) loginForm(w http.ResponseWriter, r *http.Request) {
	u.renderLogin(w, r, http.StatusOK, "", r.URL.Query().Get("next"), "")
}

// renderLogin shows the login form, with problem said above it. The
// form's double-submit token is the one the browser's cookie holds, or a
// new one, so that two open login tabs both work.
func (u *ui) renderLogin(w http.ResponseWriter, r *http.Request, status int, user, next, problem string) {
	token := ""
	if c, err := r.Cookie(loginCSRFCookie); err == nil && len(c.Value) >= 32 {
		token = c.Value
	} else {
		token = newToken()
		http.SetCookie(w, &http.Cookie{
			Name: loginCSRFCookie, Value: token, Path: "/login", HttpOnly: true,
			SameSite: http.SameSiteStrictMode, Secure: u.auth.IsHTTPS(r),
		})
	}
	w.Header().Set("Cache-Control", "no-store")
	v := loginView{frame: frame{Title: "Log in", Page: "login", Account: u.accountOf(r)}, CSRF: token, User: user, Next: localPath(next), Problem: problem, OIDC: u.auth.OIDCLoginEnabled()}
	u.render(w, status, "login", "layout", v)
}

// login checks the form and the password; a right one starts a session
// and goes on to the page the user came from.
func (u *ui) login(w http.ResponseWriter, r *http.Request) {
	want := ""
	if c, err := r.Cookie(loginCSRFCookie); err == nil {
		want = c.Value
	}
	if err := checkForm(w, r, u.auth.ExternalURL(), want); err != nil {
		u.forbidden(w, r, err)
		return
	}
	user, next := r.PostForm.Get("username"), r.PostForm.Get("next")
	_, err := u.auth.Login(w, r, user, r.PostForm.Get("password"))
	switch {
	case errors.Is(err, auth.ErrTooManyFailures):
		u.renderLogin(w, r, http.StatusTooManyRequests, user, next, "Too many failed logins from your address; try again in a while.")
	case err != nil:
		u.renderLogin(w, r, http.StatusUnauthorized, user, next, "Wrong username or password.")
	default:
		http.Redirect(w, r, localPath(next), http.StatusSeeOther)
	}
}

// logout ends the session; a browser without one just goes home.
func (u *ui) logout(w http.ResponseWriter, r *http.Request) {
	sess, ok := u.auth.Session(r)
	if !ok {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	if err := checkForm(w, r, u.auth.ExternalURL(), sess.CSRF); err != nil {
		u.forbidden(w, r, err)
		return
	}
	u.auth.EndSession(w, r)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// forbidden answers a refused form.
func (u *ui) forbidden(w http.ResponseWriter, r *http.Request, err error) {
	u.message(w, r, http.StatusForbidden, "Request refused", err.Error())
}

// localPath is next if it is a path on this site, else "/": a login must
// not send the browser to another site (an open redirect).
func localPath(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/"
	}
	return next
}
