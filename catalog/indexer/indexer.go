package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/oyster-registry/oyster/events"
	"github.com/oyster-registry/oyster/oci"
)

// SearchIndex is where records go to be found; catalog/search implements it.
type SearchIndex interface {
	Put(rec *Record) error
	PutBatch(recs []*Record) error
	Delete(key string) error
	Reset() error
}

// Indexer keeps the catalog in step with storage. Registry events only say
// what to look at; every record is derived from storage itself, so a missed
// or repeated event is harmless and a reconcile repairs anything.
type Indexer struct {
	src    Source
	store  *Store
	search SearchIndex
	x      *extractor
	q      *queue
	log    *slog.Logger

	pullsMu sync.Mutex
	pulls   map[string]uint64
}

// NewIndexer wires an indexer; call Run to start its worker.
func NewIndexer(src Source, store *Store, search SearchIndex, limits oci.Limits, log *slog.Logger) *Indexer {
	return &Indexer{
		src: src, store: store, search: search, log: log, q: newQueue(), pulls: map[string]uint64{},
		x: &extractor{src: src, store: store, limits: limits},
	}
}

// Notify takes a registry event and queues the work it implies. It never
// blocks on indexing, so a push never waits for the catalog.
func (ix *Indexer) Notify(_ context.Context, ev events.Event) {
	switch ev.Action {
	case events.ManifestPut, events.ManifestDelete:
		ix.q.push(task{Repo: ev.Repository, Digest: ev.Digest.String()})
		ix.q.push(task{Repo: ev.Repository})
	case events.TagPut, events.TagDelete:
		ix.q.push(task{Repo: ev.Repository})
	}
	queueDepth.Set(float64(ix.q.len()))
}

// CountPull notes one pull of repo@digest; counts reach the store in Run's
// periodic flush.
func (ix *Indexer) CountPull(repo, digest string) {
	ix.pullsMu.Lock()
	ix.pulls[repo+"@"+digest]++
	ix.pullsMu.Unlock()
}

// Run works the queue until ctx ends.
func (ix *Indexer) Run(ctx context.Context) {
	flush := time.NewTicker(10 * time.Second)
	defer flush.Stop()
	defer ix.flushPulls()
	for {
		for {
			t, ok := ix.q.pop()
			if !ok {
				break
			}
			ix.process(ctx, t)
			ix.q.done()
		}
		select {
		case <-ctx.Done():
			return
		case <-ix.q.ready:
		case <-flush.C:
			ix.flushPulls()
			ix.settleSearch(time.Now().Add(-settleAfter))
		}
	}
}

// settleAfter is how long after an update the search index is taken to
// have it on disk: bleve persists new segments within moments.
const settleAfter = 5 * time.Second

// settleSearch clears journal entries older than before. Run at start-up
// with the current time, it first re-applies every journalled change, so
// that changes a crash kept from reaching the index's disk are not lost.
func (ix *Indexer) settleSearch(before time.Time) {
	keys, err := ix.store.Unsynced(before)
	if err != nil || len(keys) == 0 {
		return
	}
	if err := ix.store.Synced(keys); err != nil {
		ix.log.Warn("clearing the search journal", "error", err)
	}
}

// RepairSearch re-applies every journalled change to the search index:
// after a crash, the index may lack changes the state store has.
func (ix *Indexer) RepairSearch() error {
	keys, err := ix.store.Unsynced(time.Now())
	if err != nil {
		return err
	}
	for _, k := range keys {
		rec, err := ix.store.Record(k)
		if err != nil {
			return err
		}
		if rec == nil || hidden(rec) {
			err = ix.search.Delete(k)
		} else {
			err = ix.search.Put(rec)
		}
		if err != nil {
			return err
		}
	}
	if len(keys) > 0 {
		ix.log.Info("search index repaired from the catalog journal", "records", len(keys))
	}
	return ix.store.Synced(keys)
}

// Wait blocks until the queue is empty and nothing is being indexed.
func (ix *Indexer) Wait() { ix.q.wait() }

// Pending is how many tasks wait or run.
func (ix *Indexer) Pending() int { return ix.q.len() }

func (ix *Indexer) flushPulls() {
	ix.pullsMu.Lock()
	counts := ix.pulls
	ix.pulls = map[string]uint64{}
	ix.pullsMu.Unlock()
	if len(counts) == 0 {
		return
	}
	if err := ix.store.AddPulls(counts); err != nil {
		ix.log.Warn("saving pull counts", "error", err)
	}
}

func (ix *Indexer) process(ctx context.Context, t task) {
	start, kind, result := time.Now(), "manifest", "ok"
	var err error
	if t.Digest == "" {
		kind = "tags"
		err = ix.syncTags(ctx, t.Repo)
	} else {
		_, err = ix.syncManifest(ctx, t.Repo, t.Digest)
	}
	if err != nil && ctx.Err() == nil {
		result = "error"
		ix.log.Warn("catalog indexing failed", "repository", t.Repo, "digest", t.Digest, "error", err)
	}
	indexedTotal.WithLabelValues(kind, result).Inc()
	indexSeconds.WithLabelValues(kind).Observe(time.Since(start).Seconds())
	queueDepth.Set(float64(ix.q.len()))
}

// syncManifest makes the record of repo@digest match storage: built when
// storage has the manifest, removed when it does not.
func (ix *Indexer) syncManifest(ctx context.Context, repo, digest string) (*Record, error) {
	key := repo + "@" + digest
	old, err := ix.store.Record(key)
	if err != nil {
		return nil, err
	}
	rec, err := ix.x.build(ctx, repo, digest)
	if errors.Is(err, ErrNotFound) {
		return nil, ix.remove(ctx, old)
	}
	if err != nil {
		return nil, err
	}
	tags, err := ix.src.Tags(ctx, repo)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	rec.Tags = tagsOf(tags, digest)
	if old != nil && rec.Updated.IsZero() {
		rec.Updated = old.Updated
	}
	if sameRecord(old, rec) {
		return rec, nil // nothing changed: no writes
	}
	if err := ix.save(rec); err != nil {
		return nil, err
	}
	ix.relink(ctx, rec)
	return rec, nil
}

// sameRecord reports whether a freshly built record equals the stored one.
func sameRecord(old, rec *Record) bool {
	if old == nil {
		return false
	}
	a, errA := json.Marshal(old)
	b, errB := json.Marshal(rec)
	return errA == nil && errB == nil && bytes.Equal(a, b)
}

func tagsOf(tags map[string]string, digest string) []string {
	out := []string{}
	for tag, d := range tags {
		if d == digest {
			out = append(out, tag)
		}
	}
	sort.Strings(out)
	return out
}

// RebuildSearch refills an empty search index from the state store, with
// no extraction: after the index was lost or its mapping changed.
func (ix *Indexer) RebuildSearch() error {
	var batch []*Record
	flush := func() error {
		err := ix.search.PutBatch(batch)
		batch = batch[:0]
		return err
	}
	err := ix.store.Records("", func(rec *Record) error {
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

// hidden reports whether rec stays out of search results: untagged
// manifests are index children, referrers (shown on their subject's page)
// or images a newer push of their tag replaced; the API still serves them.
func hidden(rec *Record) bool { return len(rec.Tags) == 0 }

// save stores rec and makes it findable, unless it is hidden.
func (ix *Indexer) save(rec *Record) error {
	if err := ix.store.PutRecord(rec); err != nil {
		return err
	}
	if hidden(rec) {
		return ix.search.Delete(rec.Key())
	}
	return ix.search.Put(rec)
}

// relink updates what depends on rec: its subject's referrer list, and
// images built on it.
func (ix *Indexer) relink(ctx context.Context, rec *Record) {
	if rec.Subject != "" {
		ref := Referrer{Digest: rec.Digest, ArtifactType: referrerType(rec), MediaType: rec.MediaType}
		if err := ix.store.SetReferrer(rec.Repository, rec.Subject, ref); err == nil {
			ix.q.push(task{Repo: rec.Repository, Digest: rec.Subject})
		}
	}
	derived, _ := ix.store.DerivedByLayers(rec.Layers)
	for _, k := range derived {
		if d, _ := ix.store.Record(k); d != nil && !hasBase(d, rec) {
			ix.q.push(task{Repo: d.Repository, Digest: d.Digest})
		}
	}
}

func hasBase(d, base *Record) bool {
	for _, b := range d.Base {
		if b.Repository == base.Repository && b.Digest == base.Digest {
			return true
		}
	}
	return false
}

// referrerType is what the referrers API would call rec: its artifactType,
// else its config media type.
func referrerType(rec *Record) string {
	if rec.ArtifactType != "" {
		return rec.ArtifactType
	}
	return rec.ConfigMediaType
}

// remove drops a record whose manifest storage no longer has, and the
// relations it was part of.
func (ix *Indexer) remove(_ context.Context, old *Record) error {
	if old == nil {
		return nil
	}
	if old.Subject != "" {
		_ = ix.store.DeleteReferrer(old.Repository, old.Subject, old.Digest)
		ix.q.push(task{Repo: old.Repository, Digest: old.Subject})
	}
	if err := ix.store.DeleteRecord(old.Key()); err != nil {
		return err
	}
	return ix.search.Delete(old.Key())
}

// syncTags refreshes the tags of every record of repo from storage.
func (ix *Indexer) syncTags(ctx context.Context, repo string) error {
	tags, err := ix.src.Tags(ctx, repo)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	var changed []*Record
	err = ix.store.Records(repo, func(rec *Record) error {
		if want := tagsOf(tags, rec.Digest); strings.Join(want, ",") != strings.Join(rec.Tags, ",") {
			rec.Tags = want
			changed = append(changed, rec)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, rec := range changed {
		if err := ix.save(rec); err != nil {
			return err
		}
	}
	for _, d := range tags {
		if rec, _ := ix.store.Record(repo + "@" + d); rec == nil {
			ix.q.push(task{Repo: repo, Digest: d})
		}
	}
	return nil
}

// Progress reports reconcile or reindex progress: done of total manifests.
type Progress func(done, total int)

// Reconcile compares storage with the catalog: manifests storage has and
// the catalog lacks are queued for indexing, records of manifests storage
// lost are removed, and tags are refreshed. It runs at start-up, so work
// lost to a crash, or pushed while the registry was down, is not lost.
func (ix *Indexer) Reconcile(ctx context.Context, progress Progress) error {
	inStorage, err := ix.listStorage(ctx)
	if err != nil {
		return err
	}
	var stale []*Record
	err = ix.store.Records("", func(rec *Record) error {
		if !inStorage[rec.Key()] {
			stale = append(stale, rec)
		}
		delete(inStorage, rec.Key())
		return nil
	})
	if err != nil {
		return err
	}
	for _, rec := range stale {
		if err := ix.remove(ctx, rec); err != nil {
			return err
		}
	}
	return ix.indexAll(ctx, inStorage, progress)
}

// Reindex rebuilds records and the search index from storage; cached layer
// facts are kept (they depend only on layer content).
func (ix *Indexer) Reindex(ctx context.Context, progress Progress) error {
	if err := ix.store.Reset(); err != nil {
		return err
	}
	if err := ix.search.Reset(); err != nil {
		return err
	}
	inStorage, err := ix.listStorage(ctx)
	if err != nil {
		return err
	}
	if err := ix.indexAll(ctx, inStorage, progress); err != nil {
		return err
	}
	// The caller closes the index next, which persists it: the journal of
	// a full rebuild need not be replayed at the next start.
	ix.settleSearch(time.Now())
	return nil
}

func (ix *Indexer) listStorage(ctx context.Context) (map[string]bool, error) {
	keys := map[string]bool{}
	repos := map[string]bool{}
	err := ix.src.Repositories(ctx, func(repo string) error {
		repos[repo] = true
		return ix.src.Manifests(ctx, repo, func(d string) error {
			keys[repo+"@"+d] = true
			return nil
		})
	})
	for repo := range repos {
		ix.q.push(task{Repo: repo})
	}
	return keys, err
}

// indexAll indexes the given keys, then indexes again the image indexes
// among them, which inherit facts from children that may have come later.
func (ix *Indexer) indexAll(ctx context.Context, keys map[string]bool, progress Progress) error {
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	var indexes []*Record
	for i, k := range sorted {
		if err := ctx.Err(); err != nil {
			return err
		}
		repo, digest, _ := strings.Cut(k, "@")
		rec, err := ix.syncManifest(ctx, repo, digest)
		if err != nil {
			ix.log.Warn("indexing", "key", k, "error", err)
		}
		if rec != nil && rec.Kind == KindIndex {
			indexes = append(indexes, rec)
		}
		if progress != nil {
			progress(i+1, len(sorted))
		}
	}
	for _, rec := range indexes {
		if _, err := ix.syncManifest(ctx, rec.Repository, rec.Digest); err != nil {
			ix.log.Warn("indexing", "key", rec.Key(), "error", err)
		}
	}
	if progress != nil && len(sorted) == 0 {
		progress(0, 0)
	}
	ix.drain(ctx)
	return nil
}

// drain works the queue until it is empty, for callers that need the
// follow-up work (tags, relations) done before they return.
func (ix *Indexer) drain(ctx context.Context) {
	for ctx.Err() == nil {
		t, ok := ix.q.pop()
		if !ok {
			return
		}
		ix.process(ctx, t)
		ix.q.done()
	}
}
