package indexer

import (
	"context"
	"time"

	"github.com/oyster-registry/oyster/catalog"
)

// Start brings the catalog in line with storage and keeps it there until
// ctx ends. It returns at once; Wait waits for the first three steps and
// the work they queue. The order:
//
//  1. Rebuild the search index from the store if it was created empty
//     (lost, or written by an older mapping): no extraction needed.
//  2. Re-apply the journal to the search index: the changes a crash kept
//     from reaching its disk.
//  3. Run the workers; registry events queued since New wait until now,
//     so that no repair above overwrites a newer update.
//  4. Reconcile with storage: index what storage has and the catalog
//     lacks (pushed while the registry was down, lost in a crash), drop
//     what storage lost, refresh every repository's tags.
func (ix *Indexer) Start(ctx context.Context) {
	ix.starting.Add(1)
	go func() {
		defer ix.starting.Done()
		if ix.search.Fresh() {
			if err := ix.rebuildSearch(); err != nil {
				ix.log.Error("rebuilding search index from the catalog store", "error", err)
			}
		}
		if err := ix.repairSearch(); err != nil {
			ix.log.Error("repairing search index from the catalog journal", "error", err)
		}
		ix.run(ctx)
		if err := ix.reconcile(ctx, nil); err != nil && ctx.Err() == nil {
			ix.log.Error("reconciling catalog with storage", "error", err)
		}
	}()
}

// Progress reports reconcile or reindex progress: done of total manifests.
type Progress func(done, total int)

// Reindex rebuilds the records and the search index from storage, keeping
// cached layer facts (they depend only on layer content) and pull counts.
// Partial records (an image over the budget, or given up on) are kept as
// they are, not indexed again, unless retryFailed. It is for a process
// that did not Start (`registry reindex`): it runs the workers itself
// until it returns.
func (ix *Indexer) Reindex(ctx context.Context, progress Progress, retryFailed bool) error {
	if err := ix.resetStore(retryFailed); err != nil {
		return err
	}
	if err := ix.search.Reset(); err != nil {
		return err
	}
	err := ix.store.Records("", func(rec *catalog.Record) error { // the partial records kept
		if hidden(rec) {
			return nil
		}
		return ix.search.Put(rec)
	})
	if err != nil {
		return err
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	ix.run(ctx)
	if err := ix.reconcile(ctx, progress); err != nil {
		return err
	}
	// The caller closes the index next, which persists it: the journal of
	// a full rebuild need not be replayed at the next start.
	ix.settleSearch(time.Now())
	return nil
}

// resetStore empties the store for a reindex, but for the partial records
// unless retryFailed; then the attempts given up on are forgotten too.
func (ix *Indexer) resetStore(retryFailed bool) error {
	if !retryFailed {
		return ix.store.ResetKeeping(func(rec *catalog.Record) bool { return rec.Partial })
	}
	if err := ix.store.ForgetAttempts(); err != nil {
		return err
	}
	return ix.store.Reset()
}

// run starts the workers and the upkeep: saving pull counts and clearing
// the journal now and then, pull counts once more when ctx ends.
func (ix *Indexer) run(ctx context.Context) {
	for range ix.workers {
		go ix.work(ctx)
	}
	go func() {
		tick := time.NewTicker(10 * time.Second)
		defer tick.Stop()
		defer ix.flushPulls()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				ix.flushPulls()
				ix.settleSearch(time.Now().Add(-settleAfter))
			}
		}
	}()
}

func (ix *Indexer) work(ctx context.Context) {
	for {
		t, ok := ix.q.next(ctx)
		if !ok {
			return
		}
		ix.process(ctx, t)
		ix.q.done(t)
	}
}
