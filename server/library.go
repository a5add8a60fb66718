package server

import (
	"net/http"
	"path/filepath"

	"github.com/opencontainers/go-digest"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/library"
)

// openLibrary builds apptainer's Library API (library://) over this
// registry. It reads and writes through the registry's /v2/ handler in
// process, past the pull counter and the HTTP metrics, so its writes take
// the normal path to events and the catalog; a Library pull counts as a
// pull of its manifest.
func (s *Server) openLibrary() (*library.Library, error) {
	policy := s.cfg.Auth.Policy()
	opts := library.Options{
		Registry:       classifyV2(s.authorizeLibraryCall(policy, guardV2(http.HandlerFunc(s.serveV2)))),
		Auth:           s.auth,
		Policy:         policy,
		Log:            s.log,
		ExternalURL:    s.cfg.ExternalURL,
		NamespacesFile: filepath.Join(s.cfg.Data, "library-namespaces.json"),
	}
	if s.catalog != nil {
		opts.Search = s.catalog.search
		opts.Pulled = func(repo string, manifest digest.Digest) {
			s.catalog.indexer.CountPull(catalog.Ref{Repo: repo, Digest: manifest})
		}
	}
	return library.New(opts)
}

// libraryFront serves the Library API's requests ahead of the /v2/ guards
// and the mux, whose path cleaning would hide a ref's ".." from the
// Library's own check.
func (s *Server) libraryFront(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if library.Claims(r) {
			s.library.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
