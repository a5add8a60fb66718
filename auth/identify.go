package auth

import (
	"errors"
	"net/http"
	"strings"
)

// ErrBadCredentials is Identify's refusal: credentials were sent and are
// wrong, expired or revoked. Callers answer 401 and never echo them.
var ErrBadCredentials = errors.New("invalid credentials")

// Identify says who sent a request to one of Oyster's own faces (the JSON
// API, the web UI, the Library API), which, unlike /v2/, take the
// caller's credentials directly instead of a registry token: Basic
// credentials (an htpasswd user, or any username with a robot token or
// an OIDC access token as the password) or a bearer robot or OIDC token;
// without them, on GET and HEAD only, the web UI's session cookie (a
// session changes things only through the UI's forms, which check a CSRF
// token: a cookie-borne POST to the Library or the JSON API would be
// forgeable). A request with none of these is anonymous: the zero
// Identity and no error (an expired session too). Failures count against the
// source's failed-login budget like the realm's, and a blocked source is
// refused without checking.
func (s *Service) Identify(r *http.Request) (Identity, error) {
	user, password, present := r.BasicAuth()
	if !present {
		token, isBearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !isBearer {
			return s.readingSession(r), nil
		}
		user, password = "", strings.TrimSpace(token)
	}
	id, err := s.checkCredentials(r, "auth: credentials refused", user, password)
	if errors.Is(err, ErrTooManyFailures) {
		return Identity{}, ErrBadCredentials
	}
	return id, err
}

// MayPull reports whether id may pull repo: what every listing (search,
// facets, the API, the hub, _catalog, docker and Library search, staging
// lists) filters by.
func (s *Service) MayPull(id Identity, repo string) bool {
	return s.opts.Policy.Allowed(id, Access{Type: "repository", Name: repo, Action: ActionPull})
}

// readingSession is the identity of a GET or HEAD request's session, or
// anonymous.
func (s *Service) readingSession(r *http.Request) Identity {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return Identity{}
	}
	sess, _ := s.Session(r)
	return sess.Identity
}
