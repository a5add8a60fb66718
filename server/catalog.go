package server

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/search"
	"github.com/oyster-registry/oyster/oci"
)

// catalogParts are the catalog's pieces inside the registry process.
type catalogParts struct {
	store   *catalog.Store
	search  *search.Index
	indexer *catalog.Indexer
}

// openCatalog opens the catalog's state store and search index under
// <data>/catalog.
func openCatalog(s *Server) (*catalogParts, error) {
	if _, err := search.Parse(s.cfg.Hub.Query); err != nil {
		return nil, fmt.Errorf("config: hub.query %q: %w", s.cfg.Hub.Query, err)
	}
	dir := filepath.Join(s.cfg.Data, "catalog")
	store, err := catalog.OpenStore(filepath.Join(dir, "state.db"))
	if err != nil {
		return nil, err
	}
	idx, err := search.Open(filepath.Join(dir, "index"))
	if err != nil {
		store.Close()
		return nil, err
	}
	limits := oci.Limits{MaxLayerBytes: s.cfg.Catalog.MaxLayerBytes, MaxFileBytes: s.cfg.Catalog.MaxFileBytes}
	ix := catalog.NewIndexer(s.source, store, idx, limits, s.log.With("component", "catalog"))
	return &catalogParts{store: store, search: idx, indexer: ix}, nil
}

func (c *catalogParts) close() error {
	serr := c.store.Close()
	if err := c.search.Close(); err != nil {
		return err
	}
	return serr
}

// Start works the catalog's indexing queue and reconciles the catalog with
// storage once at start-up (repairing what a crash or downtime missed).
func (s *Server) Start(ctx context.Context) {
	if s.catalog == nil {
		return
	}
	ix := s.catalog.indexer
	go func() {
		// The search index is brought in line with the state store before
		// the worker starts, so no repair overwrites a newer update; events
		// meanwhile wait in the queue.
		if s.catalog.search.Fresh() {
			if err := ix.RebuildSearch(); err != nil {
				s.log.Error("rebuilding search index from the catalog store", "error", err)
			}
		}
		if err := ix.RepairSearch(); err != nil {
			s.log.Error("repairing search index from the catalog journal", "error", err)
		}
		go ix.Run(ctx)
		if err := ix.Reconcile(ctx, nil); err != nil && ctx.Err() == nil {
			s.log.Error("reconciling catalog with storage", "error", err)
		}
	}()
}

// Reindex rebuilds the catalog from storage, reporting progress.
func (s *Server) Reindex(ctx context.Context, progress catalog.Progress) error {
	if s.catalog == nil {
		return fmt.Errorf("the catalog is disabled (catalog.enabled: false)")
	}
	return s.catalog.indexer.Reindex(ctx, progress)
}

// CatalogIdle waits until the catalog has indexed everything queued.
func (s *Server) CatalogIdle() {
	if s.catalog != nil {
		s.catalog.indexer.Wait()
	}
}

// countPulls wraps the registry to count successful manifest GETs per
// image; HEAD requests (clients checking for updates) are not pulls.
func (s *Server) countPulls(next http.Handler) http.Handler {
	if s.catalog == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := pathOf(r)
		if r.Method != http.MethodGet || p.Kind != v2Manifest {
			next.ServeHTTP(w, r)
			return
		}
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.code == http.StatusOK || rec.code == 0 {
			if d := w.Header().Get("Docker-Content-Digest"); d != "" {
				s.catalog.indexer.CountPull(p.Repo, d)
			}
		}
	})
}
