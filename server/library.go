package server

import (
	"net/http"

	"github.com/opencontainers/go-digest"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/library"
)

// libraryFront serves apptainer's Library API (library://) beside the
// rest, ahead of the /v2/ guards and the mux (whose path cleaning would
// hide a ref's ".." from the Library's own check). The Library reads and
// writes through the registry's /v2/ handler in process, past the pull
// counter and the HTTP metrics, so its writes take the normal path to
// events and the catalog; a Library pull counts as a pull of its
// manifest.
func (s *Server) libraryFront(next http.Handler) http.Handler {
	opts := library.Options{
		Registry:    classifyV2(guardV2(http.HandlerFunc(s.serveV2))),
		Log:         s.log,
		ExternalURL: s.cfg.ExternalURL,
	}
	if s.catalog != nil {
		opts.Search = s.catalog.search
		opts.Pulled = func(repo string, manifest digest.Digest) {
			s.catalog.indexer.CountPull(catalog.Ref{Repo: repo, Digest: manifest})
		}
	}
	lib := library.New(opts)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if library.Claims(r) {
			lib.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
