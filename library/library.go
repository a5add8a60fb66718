// Package library serves apptainer's Container Library API (library://)
// over the registry's own storage. An entity/collection/container path is
// the repository of that name and a Library tag is its tag; a SIF is kept
// as one OCI manifest with apptainer's SIF media types, the way
// `apptainer push oras://` and the library client's OCI path store it, so
// oras:// and library:// see one image and the catalog indexes it through
// the registry's normal event path.
//
// The package reads and writes only through the registry's /v2/ handler
// (in process), never storage directly: pushes are verified by the
// registry's digest check before anything is tagged, and every write is
// an ordinary registry write.
//
// Files: names.go (refs and IDs), routes.go (endpoints, discovery),
// namespaces.go (entities, collections, containers), images.go (images,
// tags, pull, delete), sif.go (how a Library image is kept as manifests),
// created.go (namespaces created through the API), uploads.go (single
// and multi-part push), search.go, registry.go (the in-process /v2/
// client).
//
// Entities, collections and containers exist because a repository's name
// holds them, or because they were created through the API (kept in a
// small file beside the registry's other state).
package library

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"

	"github.com/oyster-registry/oyster/auth"
	"github.com/oyster-registry/oyster/catalog/search"
)

// APIVersion is the Library API version served: 2.0.0 has multi-part
// uploads and tags per architecture.
const APIVersion = "2.0.0"

// Options are what the Library API needs from the registry process.
type Options struct {
	// Registry is the registry's /v2/ API, called in process. With auth
	// on it must authorize each call as CallerOf(the call's context).
	Registry http.Handler
	// Auth, when set (auth on), identifies each request's caller; Policy
	// (the registry's) says what the caller may do. Listings show only
	// what the caller may pull. Nil: auth off, anyone may do anything.
	Auth   *auth.Service
	Policy auth.Policy
	// Search answers /v1/search; nil when the catalog is disabled.
	Search *search.Index
	Log    *slog.Logger
	// ExternalURL is the server's URL as clients reach it; empty: the
	// request's scheme and host.
	ExternalURL string
	// NamespacesFile keeps the entities, collections and containers
	// created through the API; empty: memory only.
	NamespacesFile string
	// Pulled, if set, counts a pull of the manifest holding a SIF: the
	// client fetches the blob itself, which the registry does not count.
	Pulled func(repo string, manifest digest.Digest)
}

// Library is the Library API's HTTP handler.
type Library struct {
	reg      registry
	auth     *auth.Service
	policy   auth.Policy
	search   *search.Index
	log      *slog.Logger
	external string
	pulled   func(repo string, manifest digest.Digest)
	mux      *http.ServeMux
	uploads  *uploads

	// tagMu serialises tag changes, which read a tag before writing it.
	tagMu sync.Mutex

	// created holds the entity, collection and container paths created
	// through the API (those still empty matter).
	created *createdSet
}

// New returns the Library API handler; it fails if the namespaces file
// cannot be read.
func New(opts Options) (*Library, error) {
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	l := &Library{
		reg: registry{opts.Registry}, auth: opts.Auth, policy: opts.Policy, search: opts.Search, log: log,
		external: strings.TrimSuffix(opts.ExternalURL, "/"), pulled: opts.Pulled,
		uploads: newUploads(),
	}
	var err error
	if l.created, err = loadCreated(opts.NamespacesFile); err != nil {
		return nil, err
	}
	l.mux = l.routes()
	return l, nil
}

// Claims reports whether r is a Library API request. /v1/search is
// shared with docker search: a request with value= and no q= is the
// Library's. Under /v2/ the Library's paths carry IDs with a character no
// repository name has, so they never shadow an OCI route.
func Claims(r *http.Request) bool {
	p := r.URL.Path
	switch {
	case p == "/version", p == "/assets/config/config.prod.json", p == "/v1/token-status":
		return true
	case p == "/v1/search":
		q := r.URL.Query()
		return q.Has("value") && !q.Has("q")
	case strings.HasPrefix(p, "/v2/tags/"), strings.HasPrefix(p, "/v2/imagefile/"):
		id, _, _ := strings.Cut(strings.SplitN(p, "/", 4)[3], "/")
		return strings.Contains(id, idSeparator)
	}
	for _, prefix := range []string{"/v1/entities", "/v1/collections", "/v1/containers", "/v1/images", "/v1/tags", "/v1/imagefile"} {
		if p == prefix || strings.HasPrefix(p, prefix+"/") {
			return true
		}
	}
	return false
}

func (l *Library) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if hasDotSegment(r.URL.EscapedPath()) {
		writeError(w, l.log, r, badRequest("path segments . and .. are not allowed in %s", r.URL.EscapedPath()))
		return
	}
	l.mux.ServeHTTP(w, r)
}

// handlerFunc is an endpoint that returns its error for serve to answer;
// it must not have written anything when it does.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (l *Library) serve(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		caller, err := l.identify(r)
		if err == nil {
			err = h(w, caller)
		}
		if err != nil {
			writeError(w, l.log, r, err)
		}
	}
}

// apiError is an error the client is told as it is, in the Library API's
// shape {"error":{"code":<status>,"message":…}}.
type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *apiError) Error() string { return e.Message }

func badRequest(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) *apiError {
	return &apiError{http.StatusNotFound, fmt.Sprintf(format, args...)}
}

// writeError answers err; one that is not an *apiError is logged and told
// to the client only as an internal error.
func writeError(w http.ResponseWriter, log *slog.Logger, r *http.Request, err error) {
	var e *apiError
	if !errors.As(err, &e) {
		log.Error("library API", "method", r.Method, "path", r.URL.Path, "error", err)
		e = &apiError{http.StatusInternalServerError, "the registry could not answer; see its log"}
	}
	writeJSON(w, e.Code, struct {
		Error *apiError `json:"error"`
	}{e})
}

// respond answers data in the Library API's envelope {"data":…}.
func respond(w http.ResponseWriter, data any) error {
	writeJSON(w, http.StatusOK, struct {
		Data any `json:"data"`
	}{data})
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, _ := json.Marshal(v) // the API's own shapes: cannot fail
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// readJSON decodes a request body of at most 1 MiB into v.
func readJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	if err := dec.Decode(v); err != nil {
		return badRequest("request body is not the expected JSON: %v", err)
	}
	return nil
}

// baseURL is the server's URL as the client reached it.
func (l *Library) baseURL(r *http.Request) string {
	if l.external != "" {
		return l.external
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
