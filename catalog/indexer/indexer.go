// Package indexer keeps the catalog in step with registry storage. Registry
// events only say what to look at; every record is derived from storage
// itself (package extract), so a missed or repeated event is harmless and
// a reconcile repairs anything. Start owns the start-up order; a queue
// feeds Options.Workers workers; a journal in the store keeps the search
// index from falling behind the store across a crash.
package indexer

import (
	"context"
	"log/slog"
	"sync"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/extract"
	"github.com/oyster-registry/oyster/events"
	"github.com/oyster-registry/oyster/oci"
)

// Store is what the indexer needs of the state store: records, the layer
// cache and the count of indexing attempts.
type Store interface {
	catalog.Store
	extract.LayerCache
	// StartIndexing notes that indexing ref begins and returns how many
	// attempts, this one included, began since one last finished: those
	// the process did not survive, and this one.
	StartIndexing(ref catalog.Ref) (int, error)
	// FinishIndexing forgets the attempts at ref.
	FinishIndexing(ref catalog.Ref) error
	// ForgetAttempts forgets the attempts at every image.
	ForgetAttempts() error
	// ResetKeeping is Reset but for the records keep selects.
	ResetKeeping(keep func(*catalog.Record) bool) error
}

// Options are an indexer's parts and settings.
type Options struct {
	Source catalog.Source
	Store  Store
	Search catalog.SearchIndex
	// Limits bound what reading one layer or SIF may cost.
	Limits oci.Limits
	// Budget bounds what one record keeps and what building it costs.
	Budget catalog.Budget
	// Workers is how many manifests are indexed at once; less than 1
	// means 1.
	Workers int
	Log     *slog.Logger
}

// Indexer keeps the store and the search index in step with storage.
type Indexer struct {
	src     catalog.Source
	store   Store
	search  catalog.SearchIndex
	x       *extract.Extractor
	budget  catalog.Budget
	q       *queue
	workers int
	log     *slog.Logger

	// starting is held while Start works through the start-up order.
	starting sync.WaitGroup

	pullsMu sync.Mutex
	pulls   map[catalog.Ref]uint64

	batchMu sync.Mutex
	batch   *batch // the manifests a reindex or reconcile waits for
}

// New wires an indexer; Start (or Reindex) runs it.
func New(o Options) *Indexer {
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	return &Indexer{
		src: o.Source, store: o.Store, search: o.Search, log: log, budget: o.Budget,
		q: newQueue(), workers: max(1, o.Workers), pulls: map[catalog.Ref]uint64{},
		x: &extract.Extractor{Source: o.Source, Store: o.Store, Layers: o.Store, Limits: o.Limits, Budget: o.Budget, LayerRead: layersScanned.Inc},
	}
}

// Notify takes a registry event and queues the work it implies. It never
// blocks on indexing, so a push never waits for the catalog.
func (ix *Indexer) Notify(_ context.Context, ev events.Event) {
	switch ev.Action {
	case events.ManifestPut, events.ManifestDelete:
		ix.q.push(task{Repo: ev.Repository, Digest: ev.Digest})
		ix.q.push(task{Repo: ev.Repository})
	case events.TagPut, events.TagDelete:
		ix.q.push(task{Repo: ev.Repository})
	}
}

// CountPull notes one pull of ref; counts reach the store now and then.
func (ix *Indexer) CountPull(ref catalog.Ref) {
	ix.pullsMu.Lock()
	ix.pulls[ref]++
	ix.pullsMu.Unlock()
}

func (ix *Indexer) flushPulls() {
	ix.pullsMu.Lock()
	counts := ix.pulls
	ix.pulls = map[catalog.Ref]uint64{}
	ix.pullsMu.Unlock()
	if len(counts) == 0 {
		return
	}
	if err := ix.store.AddPulls(counts); err != nil {
		ix.log.Warn("saving pull counts", "error", err)
	}
}

// Wait blocks until the start-up order is through and nothing is queued
// or being indexed.
func (ix *Indexer) Wait() {
	ix.starting.Wait()
	_ = ix.q.wait(context.Background())
}
