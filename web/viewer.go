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

// Access is what the web surface asks the registry's auth, when auth is
// on. web does not import auth: the server builds these two functions
// from it.
type Access struct {
	// Viewer resolves the sender of a request to the repositories they
	// may pull. An error means the credentials sent were refused, and is
	// answered 401.
	Viewer func(r *http.Request) (mayPull func(repo string) bool, err error)
	// Public reports whether anyone may pull repo without logging in;
	// the images of every other repository are marked private.
	Public func(repo string) bool
}

// viewer is what one request may see. The zero viewer (auth off) sees
// everything and nothing is private.
type viewer struct {
	mayPull func(repo string) bool // nil: everything
	public  func(repo string) bool // nil: everything
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
func withViewer(access *Access, refuse func(w http.ResponseWriter, r *http.Request, err error), next http.Handler) http.Handler {
	if access == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/static/") { // the same for everyone: no password check per asset
			next.ServeHTTP(w, r)
			return
		}
		mayPull, err := access.Viewer(r)
		if err != nil {
			refuse(w, r, err)
			return
		}
		ctx := context.WithValue(r.Context(), viewerKey{}, viewer{mayPull: mayPull, public: access.Public})
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
