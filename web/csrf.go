package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// Every form that changes something (log in, log out, make or revoke a
// token) is checked twice against forgery from other sites: the request
// must come from a page of this registry (Origin, or Referer when a
// browser sends no Origin), and it must carry a token only this
// registry's pages know. A logged-in form carries its session's token
// (the synchronizer pattern); the login form, which has no session yet,
// carries a random token also set in a cookie (double submit).

// csrfField is the hidden form field carrying the token.
const csrfField = "csrf"

// loginCSRFCookie carries the login form's double-submit token.
const loginCSRFCookie = "oyster_login_csrf"

// maxFormBytes bounds a form's body: a login or a token request is tiny.
const maxFormBytes = 64 << 10

var errForged = errors.New("this form did not come from this registry's pages (missing or wrong CSRF token, or another origin); reload the page and try again")

// checkForm reads r's form within maxFormBytes and refuses it unless it
// comes from this registry's origin and carries want as its token.
func checkForm(w http.ResponseWriter, r *http.Request, externalURL, want string) error {
	if !sameOrigin(r, externalURL) {
		return errForged
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return errForged
	}
	if !sameToken(r.PostForm.Get(csrfField), want) {
		return errForged
	}
	return nil
}

// sameToken compares in constant time; an empty token matches nothing.
func sameToken(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// sameOrigin reports whether r says it was sent from a page of this
// registry: its Origin (or, without one, its Referer) is the configured
// external URL's origin or names the request's own host. A request that says
// neither is refused: every browser that runs the forms sends one.
func sameOrigin(r *http.Request, externalURL string) bool {
	from := r.Header.Get("Origin")
	if from == "" || from == "null" {
		from = r.Header.Get("Referer")
	}
	u, err := url.Parse(from)
	if from == "" || err != nil || u.Host == "" {
		return false
	}
	if ext, err := url.Parse(externalURL); externalURL != "" && err == nil && strings.EqualFold(u.Scheme, ext.Scheme) && strings.EqualFold(u.Host, ext.Host) {
		return true // behind a proxy that rewrites Host
	}
	return (u.Scheme == "http" || u.Scheme == "https") && strings.EqualFold(u.Host, r.Host)
}

// newToken is a random token for forms.
func newToken() string {
	buf := make([]byte, 24)
	_, _ = rand.Read(buf) // crypto/rand does not fail on supported platforms
	return hex.EncodeToString(buf)
}
