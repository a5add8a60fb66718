package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/distribution/distribution/v3/registry/api/errcode"
	"github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/oyster-registry/oyster/auth"
	"github.com/oyster-registry/oyster/web"
)

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.Handle("GET /metrics", promhttp.Handler())
	mux.Handle("/v2/", s.countPulls(http.HandlerFunc(s.serveV2)))
	if s.auth != nil {
		mux.HandleFunc(auth.RealmPath, s.serveRealm)
	}
	if s.catalog != nil {
		opts := web.Options{
			Store: s.catalog.store, Search: s.catalog.search, Log: s.log,
			HubQuery: s.cfg.Hub.Query, RegistryHost: s.cfg.Hub.RegistryHost, Stage: s.catalog.stage,
		}
		if s.builds != nil { // not a typed nil in the interface
			opts.Builds = s.builds
		}
		if s.auth != nil {
			opts.Accounts = s.auth
		}
		site := web.New(opts)
		mux.Handle("/api/", site)
		mux.Handle("GET /v1/search", site)
		mux.Handle("/", site)
	} else {
		mux.HandleFunc("/", s.home)
	}
	return classifyV2(instrument(s.libraryFront(s.authorizeV2(guardV2(mux)))))
}

func (s *Server) serveV2(w http.ResponseWriter, r *http.Request) {
	p := pathOf(r)
	if p.Kind == v2Referrers { // an API distribution lacks
		s.serveReferrers(w, r, p)
		return
	}
	if r.Method == http.MethodPut && p.Kind == v2Manifest {
		w = &subjectHeaderWriter{ResponseWriter: w, req: requestOf(r.Context())}
	}
	if s.serveSHA512(w, r) { // sha512 digests: see sha512.go
		return
	}
	if s.serveCachedManifest(w, r, p) || s.serveBlobFile(w, r, p) || s.serveUploadChunk(w, r, p) { // manifestfront.go, blobserve.go, uploadfront.go
		return
	}
	s.app.ServeHTTP(w, r)
}

func (s *Server) serveReferrers(w http.ResponseWriter, r *http.Request, p v2Path) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeOCIError(w, errcode.ErrorCodeUnsupported.WithDetail(r.Method+" on the referrers API"))
		return
	}
	if err := s.referrers.Serve(w, r, p.Repo, p.Reference); err != nil {
		writeOCIError(w, err)
	}
}

// subjectHeaderWriter adds OCI-Subject to a successful manifest PUT whose
// manifest had a subject, telling clients the referrers API indexed it.
type subjectHeaderWriter struct {
	http.ResponseWriter
	req *v2Request
}

func (w *subjectHeaderWriter) WriteHeader(code int) {
	if code == http.StatusCreated && w.req.subject != "" {
		w.Header().Set("OCI-Subject", w.req.subject.String())
	}
	w.ResponseWriter.WriteHeader(code)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	status, code := map[string]string{"status": "ok"}, http.StatusOK
	if _, err := s.driver.Stat(ctx, "/"); err != nil && !errors.As(err, &driver.PathNotFoundError{}) {
		status, code = map[string]string{"status": "unhealthy", "storage": err.Error()}, http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(status)
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("Oyster registry: the OCI API is at /v2/\n"))
}
