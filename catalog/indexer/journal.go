package indexer

import (
	"time"

	"github.com/oyster-registry/oyster/catalog"
)

// settleAfter is how long after an update the search index is taken to
// have it on disk: bleve persists new segments within moments.
const settleAfter = 5 * time.Second

// settleSearch clears journal entries older than before.
func (ix *Indexer) settleSearch(before time.Time) {
	refs, err := ix.store.Unsynced(before)
	if err != nil || len(refs) == 0 {
		return
	}
	if err := ix.store.Synced(refs); err != nil {
		ix.log.Warn("clearing the search journal", "error", err)
	}
}

// repairSearch re-applies every journalled change to the search index:
// after a crash, the index may lack changes the state store has.
func (ix *Indexer) repairSearch() error {
	refs, err := ix.store.Unsynced(time.Now())
	if err != nil {
		return err
	}
	for _, ref := range refs {
		rec, err := ix.store.Record(ref)
		if err != nil {
			return err
		}
		if rec == nil || hidden(rec) {
			err = ix.search.Delete(ref)
		} else {
			err = ix.search.Put(rec)
		}
		if err != nil {
			return err
		}
	}
	if len(refs) > 0 {
		ix.log.Info("search index repaired from the catalog journal", "records", len(refs))
	}
	return ix.store.Synced(refs)
}

// rebuildSearch refills an empty search index from the state store, with
// no extraction: after the index was lost or its mapping changed.
func (ix *Indexer) rebuildSearch() error {
	var batch []*catalog.Record
	flush := func() error {
		err := ix.search.PutBatch(batch)
		batch = batch[:0]
		return err
	}
	err := ix.store.Records("", func(rec *catalog.Record) error {
		if hidden(rec) {
			return nil
		}
		batch = append(batch, rec)
		if len(batch) == 500 {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}
