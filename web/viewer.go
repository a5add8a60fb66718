package web

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/oyster-registry/oyster/api"
	"github.com/oyster-registry/oyster/auth"
	"github.com/oyster-registry/oyster/catalog"
)

// viewer is what one request may see and do. The zero viewer (auth off)
// sees everything, nothing is private, and it may run builds.
type viewer struct {
	mayPull func(repo string) bool // nil: everything
	public  func(repo string) bool // nil: everything
	// operator may start and cancel builds: a site admin with auth on.
	operator bool
}

type viewerKey struct{}

// viewerOf is the viewer withViewer resolved for r; the zero viewer when
// auth is off.
func viewerOf(r *http.Request) viewer {
	v, _ := r.Context().Value(viewerKey{}).(viewer)
	return v
}

// sees reports whether the viewer may see repo's images.
func (v viewer) sees(repo string) bool { return v.mayPull == nil || v.mayPull(repo) }

// private reports whether repo's images are hidden from anonymous callers.
func (v viewer) private(repo string) bool { return v.public != nil && !v.public(repo) }

// seenRefs keeps the references to images v may see; the slice is new,
// because records are shared with the store's cache.
func (v viewer) seenRefs(refs []catalog.ImageRef) []catalog.ImageRef {
	if v.mayPull == nil || refs == nil {
		return refs
	}
	out := make([]catalog.ImageRef, 0, len(refs))
	for _, ref := range refs {
		if v.sees(ref.Repository) {
			out = append(out, ref)
		}
	}
	return out
}

// withViewer resolves who sent each request once, before any handler
// lists anything, and keeps it in the request's context. Refused
// credentials are answered 401 and nothing else runs; a page says so in
// HTML, the API in JSON with a Basic challenge.
func withViewer(accounts *auth.Service, refuse func(w http.ResponseWriter, r *http.Request, err error), next http.Handler) http.Handler {
	if accounts == nil {
		return next
	}
	public := func(repo string) bool { return accounts.MayPull(auth.Identity{}, repo) }
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/static/") { // the same for everyone: no password check per asset
			next.ServeHTTP(w, r)
			return
		}
		id, err := accounts.Identify(r)
		if err != nil {
			refuse(w, r, err)
			return
		}
		v := viewer{mayPull: func(repo string) bool { return accounts.MayPull(id, repo) }, public: public, operator: id.Admin}
		ctx := context.WithValue(r.Context(), viewerKey{}, v)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// isJSONPath says whether path is answered in JSON: the API and docker
// search.
func isJSONPath(path string) bool {
	return strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/v1/")
}

// refuseCredentials answers a request whose credentials were refused
// (401), or could not be checked because the identity provider did not
// answer (503: the caller is not to blame).
func refuseCredentials(u *ui) func(w http.ResponseWriter, r *http.Request, err error) {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		unavailable := errors.Is(err, auth.ErrProviderUnavailable)
		if isJSONPath(r.URL.Path) {
			e := errorf(api.CodeUnauthorized, "the credentials sent were refused (wrong, expired or revoked); send none to search as anyone")
			if unavailable {
				e = errorf(api.CodeUnavailable, "the identity provider could not check the credentials; try again later")
			} else {
				w.Header().Set("WWW-Authenticate", `Basic realm="oyster"`)
			}
			writeError(w, r, u.api.Log, e)
			return
		}
		status, heading, text := http.StatusUnauthorized, "Credentials refused", "The credentials sent with this request were refused: they are wrong, expired or revoked."
		if unavailable {
			status, heading, text = http.StatusServiceUnavailable, "Try again later", "The identity provider could not check the credentials sent with this request."
		}
		secured(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u.message(w, r, status, heading, text)
		})).ServeHTTP(w, r)
	}
}
