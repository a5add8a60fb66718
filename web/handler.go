package web

import (
	"log/slog"
	"net/http"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/search"
)

// Options are what the web surface needs from the rest of the process.
type Options struct {
	Store  *catalog.Store
	Search *search.Index
	Log    *slog.Logger
	// HubQuery selects the images JupyterHub is offered (config hub.query).
	HubQuery string
	// RegistryHost is the host[:port] hubs pull from; empty: the request's.
	RegistryHost string
}

// New returns the handler for /api/v1/, /v1/search and the UI at /.
func New(opts Options) http.Handler {
	api := &API{Store: opts.Store, Search: opts.Search, Log: opts.Log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/search", api.search)
	mux.HandleFunc("GET /api/v1/repositories", api.repositories)
	mux.HandleFunc("GET /api/v1/repositories/{name...}", api.repositoryDetail)
	mux.HandleFunc("GET /api/v1/images/{ref...}", api.imageRoutes)
	mux.HandleFunc("GET /api/v1/openapi.json", serveOpenAPI)
	mux.HandleFunc("GET /v1/search", api.dockerSearch)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "no API endpoint "+r.Method+" "+r.URL.Path)
	})
	hub := &Hub{Catalog: &catalogHub{api: api, query: opts.HubQuery}, RegistryHost: opts.RegistryHost, Log: opts.Log}
	hub.Register(mux)
	registerUI(mux, api)
	return mux
}
