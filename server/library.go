package server

import (
	"net/http"

	"github.com/oyster-registry/oyster/catalog/search"
	"github.com/oyster-registry/oyster/library"
)

// libraryFront serves apptainer's Library API (library://) beside the
// rest, ahead of the /v2/ guards and the mux (whose path cleaning would
// hide a ref's ".." from the Library's own check). The Library reads and
// writes through the registry's /v2/ handler in process, past the pull
// counter and the HTTP metrics, so its writes take the normal path to
// events and the catalog.
func (s *Server) libraryFront(next http.Handler) http.Handler {
	var index *search.Index
	if s.catalog != nil {
		index = s.catalog.search
	}
	lib := library.New(library.Options{
		Registry:    classifyV2(guardV2(http.HandlerFunc(s.serveV2))),
		Search:      index,
		Log:         s.log,
		ExternalURL: s.cfg.ExternalURL,
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if library.Claims(r) {
			lib.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
