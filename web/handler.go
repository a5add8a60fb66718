package web

import (
	"log/slog"
	"net/http"
	"sort"
	"strings"

	"github.com/oyster-registry/oyster/api"
	"github.com/oyster-registry/oyster/auth"
	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/search"
	"github.com/oyster-registry/oyster/catalog/stage"
)

// Options are what the web surface needs from the rest of the process.
type Options struct {
	Store  catalog.Store
	Search *search.Index
	Log    *slog.Logger
	// HubQuery selects the images JupyterHub is offered (config hub.query).
	HubQuery string
	// RegistryHost is the host[:port] hubs pull from; empty: the request's.
	RegistryHost string
	// Builds, if set, serves the build queue's endpoints.
	Builds Builds
	// Stage answers the stagers' endpoints; nil leaves them out.
	Stage *stage.Planner
	// Accounts, when auth is on, identifies each caller (every listing and
	// page shows only what they may pull; builds are started and
	// cancelled by site admins) and serves logins (/login, /logout,
	// sessions) and robot tokens (/tokens, /api/v1/tokens). Nil (auth
	// off) shows everything to everyone.
	Accounts *auth.Service
}

// New returns the handler for /api/v1/, /v1/search and the UI at /.
func New(opts Options) http.Handler {
	a := &API{Store: opts.Store, Search: opts.Search, Log: opts.Log}
	hub := &Hub{
		Catalog:      &search.HubSource{Index: opts.Search, Store: opts.Store, Query: opts.HubQuery},
		RegistryHost: opts.RegistryHost, Log: opts.Log, PerCaller: opts.Accounts != nil,
	}
	mux := http.NewServeMux()
	all := routes(a, hub)
	if opts.Builds != nil {
		all = append(all, buildRoutes(opts.Builds)...)
	}
	if opts.Stage != nil {
		all = append(all, (&Stage{Planner: opts.Stage, Accounts: opts.Accounts}).routes()...)
	}
	if opts.Accounts != nil {
		all = append(all, tokenRoutes(opts.Accounts)...)
	}
	registerRoutes(mux, opts.Log, all)
	mux.HandleFunc("/api/", serveJSON(opts.Log, noEndpoint(mux)))
	u := registerUI(mux, a, opts.Stage, opts.Builds, opts.Accounts)
	return withViewer(opts.Accounts, refuseCredentials(u), mux)
}

// route is one JSON endpoint, with its path as openapi.json writes it: the
// one {wildcard} a path may have matches one or more segments, because
// repository names hold slashes.
type route struct {
	method, path string
	handle       handlerFunc
}

// routes are all the JSON endpoints, in one list: New builds the mux from
// it, and TestOpenAPIDocumentsEveryRoute holds openapi.json to it.
func routes(a *API, hub *Hub) []route {
	return append([]route{
		{"GET", "/api/v1/search", a.search},
		{"GET", "/api/v1/repositories", a.repositories},
		{"GET", "/api/v1/repositories/{name}", a.repositoryDetail},
		{"GET", "/api/v1/images/{ref}", a.imageDetail},
		{"GET", "/api/v1/images/{ref}/packages", a.packages},
		{"GET", "/api/v1/openapi.json", serveOpenAPI},
		{"GET", "/v1/search", a.dockerSearch},
	}, hub.routes()...)
}

// registerRoutes adds routes to mux. A ServeMux wildcard that spans
// segments must end its pattern, so the routes that share one prefix and
// wildcard share one pattern, and the longest suffix that fits wins:
// /api/v1/images/lab/sci:1/packages is the packages of lab/sci:1.
func registerRoutes(mux *http.ServeMux, log *slog.Logger, routes []route) {
	var patterns []string
	byPattern := map[string][]route{}
	for _, rt := range routes {
		prefix, name, _ := splitWildcard(rt.path)
		pattern := rt.method + " " + prefix
		if name != "" {
			pattern += "{" + name + "...}"
		}
		if byPattern[pattern] == nil {
			patterns = append(patterns, pattern)
		}
		byPattern[pattern] = append(byPattern[pattern], rt)
	}
	for _, p := range patterns {
		mux.HandleFunc(p, serveJSON(log, bySuffix(byPattern[p])))
	}
}

// splitWildcard splits "/api/v1/images/{ref}/packages" into
// "/api/v1/images/", "ref" and "/packages"; a path without a wildcard is
// all prefix.
func splitWildcard(path string) (prefix, name, suffix string) {
	open, end := strings.IndexByte(path, '{'), strings.IndexByte(path, '}')
	if open < 0 || end < open {
		return path, "", ""
	}
	return path[:open], path[open+1 : end], path[end+1:]
}

// bySuffix serves the request with the route whose suffix ends the
// wildcard's value, the longest first, and sets the wildcard to the rest.
func bySuffix(routes []route) handlerFunc {
	_, name, _ := splitWildcard(routes[0].path)
	if name == "" {
		return routes[0].handle
	}
	sort.SliceStable(routes, func(i, j int) bool { return len(routes[i].path) > len(routes[j].path) })
	return func(w http.ResponseWriter, r *http.Request) error {
		value := r.PathValue(name)
		for _, rt := range routes {
			_, _, suffix := splitWildcard(rt.path)
			if rest, ok := strings.CutSuffix(value, suffix); ok && rest != "" {
				r.SetPathValue(name, rest)
				return rt.handle(w, r)
			}
		}
		return errorf(api.CodeNotFound, "no %s given in %s", name, r.URL.Path)
	}
}

// noEndpoint answers what no route claims under /api/: 405 with the
// methods the path takes when it is an endpoint, 404 otherwise.
func noEndpoint(mux *http.ServeMux) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if allowed := allowedMethods(mux, r); len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			return errorf(api.CodeMethodNotAllowed, "%s %s: this endpoint takes %s", r.Method, r.URL.Path, strings.Join(allowed, ", "))
		}
		return errorf(api.CodeNotFound, "no API endpoint %s %s", r.Method, r.URL.Path)
	}
}

// allowedMethods are the methods some route serves r's path with (GET
// with HEAD); none when the path is no endpoint. A pattern that matches
// only by redirecting (/api/v1/tokens to /api/v1/tokens/{id}) does not
// count.
func allowedMethods(mux *http.ServeMux, r *http.Request) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		_, pattern := mux.Handler(probe)
		_, path, _ := strings.Cut(pattern, " ")
		if prefix, _, _ := splitWildcard(path); pattern != "/api/" && strings.HasPrefix(r.URL.Path, prefix) {
			out = append(out, m)
			if m == http.MethodGet {
				out = append(out, http.MethodHead)
			}
		}
	}
	return out
}
