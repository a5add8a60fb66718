package server

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"

	"github.com/opencontainers/go-digest"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/indexer"
	"github.com/oyster-registry/oyster/catalog/search"
	"github.com/oyster-registry/oyster/catalog/stage"
	"github.com/oyster-registry/oyster/catalog/state"
	"github.com/oyster-registry/oyster/oci"
)

// catalogParts are the catalog's pieces inside the registry process.
type catalogParts struct {
	store   *state.Store
	search  *search.Index
	indexer *indexer.Indexer
	stage   *stage.Planner
}

// openCatalog opens the catalog's state store and search index under
// <data>/catalog.
func openCatalog(s *Server) (*catalogParts, error) {
	if _, err := search.Parse(s.cfg.Hub.Query); err != nil {
		return nil, fmt.Errorf("config: hub.query %q: %w", s.cfg.Hub.Query, err)
	}
	dir := filepath.Join(s.cfg.Data, "catalog")
	store, err := state.Open(filepath.Join(dir, "state.db"))
	if err != nil {
		return nil, err
	}
	idx, err := search.Open(filepath.Join(dir, "index"))
	if err != nil {
		store.Close()
		return nil, err
	}
	ix := indexer.New(indexer.Options{
		Source: s.source, Store: store, Search: idx,
		Limits:  oci.Limits{MaxLayerBytes: s.cfg.Catalog.MaxLayerBytes, MaxFileBytes: s.cfg.Catalog.MaxFileBytes},
		Budget:  catalog.Budget(s.cfg.Catalog.Budget),
		Workers: s.cfg.Catalog.Workers,
		Log:     s.log.With("component", "catalog"),
	})
	if _, err := search.Parse(s.cfg.Stage.Query); s.cfg.Stage.Query != "" && err != nil {
		store.Close()
		idx.Close()
		return nil, fmt.Errorf("config: stage.query %q: %w", s.cfg.Stage.Query, err)
	}
	planner, err := stage.Open(filepath.Join(s.cfg.Data, "stage.json"), store, idx,
		stage.Config{Pins: s.cfg.Stage.Pins, Query: s.cfg.Stage.Query, HubWindow: s.cfg.Stage.HubWindow})
	if err != nil {
		store.Close()
		idx.Close()
		return nil, err
	}
	return &catalogParts{store: store, search: idx, indexer: ix, stage: planner}, nil
}

func (c *catalogParts) close() error {
	serr := c.store.Close()
	if err := c.search.Close(); err != nil {
		return err
	}
	return serr
}

// Start runs the catalog: see indexer.Start for its start-up order.
func (s *Server) Start(ctx context.Context) {
	if s.catalog != nil {
		s.catalog.indexer.Start(ctx)
	}
	if s.builds != nil {
		s.builds.Start(ctx, pushAddress(s.cfg.GitSync.Registry, s.bound))
	}
}

// Reindex rebuilds the catalog from storage, reporting progress; partial
// records are kept as they are unless retryFailed.
func (s *Server) Reindex(ctx context.Context, progress indexer.Progress, retryFailed bool) error {
	if s.catalog == nil {
		return fmt.Errorf("the catalog is disabled (catalog.enabled: false)")
	}
	return s.catalog.indexer.Reindex(ctx, progress, retryFailed)
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
				s.catalog.indexer.CountPull(catalog.Ref{Repo: p.Repo, Digest: digest.Digest(d)})
			}
		}
	})
}
