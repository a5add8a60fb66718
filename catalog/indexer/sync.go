package indexer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/oyster-registry/oyster/catalog"
)

func (ix *Indexer) process(ctx context.Context, t task) {
	start, kind, result := time.Now(), "manifest", "ok"
	var err error
	if t.isTags() {
		kind = "tags"
		err = ix.syncTags(ctx, t.Repo)
	} else {
		err = ix.syncManifest(ctx, t.ref())
		ix.finished(t.ref())
	}
	if err != nil && ctx.Err() == nil {
		result = "error"
		ix.log.Warn("catalog indexing failed", "repository", t.Repo, "digest", t.Digest, "error", err)
	}
	indexedTotal.WithLabelValues(kind, result).Inc()
	indexSeconds.WithLabelValues(kind).Observe(time.Since(start).Seconds())
}

// syncManifest makes the record of ref match storage: built when storage
// has the manifest, removed when it does not.
func (ix *Indexer) syncManifest(ctx context.Context, ref catalog.Ref) error {
	old, err := ix.store.Record(ref)
	if err != nil {
		return err
	}
	rec, pending, err := ix.extract(ctx, ref)
	if errors.Is(err, catalog.ErrNotFound) {
		if err := ix.store.FinishIndexing(ref); err != nil {
			return err
		}
		return ix.remove(old)
	}
	if err != nil {
		return err
	}
	tags, err := ix.src.Tags(ctx, ref.Repo)
	if err != nil && !errors.Is(err, catalog.ErrNotFound) {
		return err
	}
	rec.Tags = tagsOf(tags, ref.Digest)
	if old != nil && rec.Updated.IsZero() {
		rec.Updated = old.Updated
	}
	if sameRecord(old, rec) {
		return nil // nothing changed: no writes
	}
	if err := ix.save(rec); err != nil {
		return err
	}
	return ix.relink(rec, pending)
}

// extract builds the record of ref, counting the attempt: an image that
// more than the budget's attempts did not finish (the process died while
// indexing it) is not read again but recorded as failed, until
// ForgetAttempts (`registry reindex --retry-failed`). A poison image
// costs at most that many restarts, never a crash loop.
func (ix *Indexer) extract(ctx context.Context, ref catalog.Ref) (*catalog.Record, []catalog.Ref, error) {
	attempts, err := ix.store.StartIndexing(ref)
	if err != nil {
		return nil, nil, err
	}
	if given := attempts - 1; given >= ix.budget.Attempts() {
		ix.log.Warn("catalog gives up on an image", "repository", ref.Repo, "digest", ref.Digest, "unfinished_attempts", given)
		why := fmt.Sprintf("indexing: failed; %d attempts did not finish (the registry stopped while reading this image), over the limit of %d; run `registry reindex --retry-failed` to try again", given, ix.budget.Attempts())
		rec, err := ix.x.Abandoned(ctx, ref, why)
		return rec, nil, err // the attempts stay counted: a new event gives up again
	}
	rec, pending, err := ix.x.Record(ctx, ref)
	if ferr := ix.store.FinishIndexing(ref); err == nil {
		err = ferr
	}
	return rec, pending, err
}

// sameRecord reports whether a freshly built record equals the stored one.
func sameRecord(old, rec *catalog.Record) bool {
	if old == nil {
		return false
	}
	a, errA := json.Marshal(old)
	b, errB := json.Marshal(rec)
	return errA == nil && errB == nil && bytes.Equal(a, b)
}

func tagsOf(tags map[string]digest.Digest, d digest.Digest) []string {
	out := []string{}
	for tag, td := range tags {
		if td == d {
			out = append(out, tag)
		}
	}
	sort.Strings(out)
	return out
}

// hidden reports whether rec stays out of search results: untagged
// manifests are index children, referrers (shown on their subject's page)
// or images a newer push of their tag replaced; the API still serves them.
func hidden(rec *catalog.Record) bool { return len(rec.Tags) == 0 }

// save stores rec and makes it findable, unless it is hidden.
func (ix *Indexer) save(rec *catalog.Record) error {
	if err := ix.store.PutRecord(rec); err != nil {
		return err
	}
	if hidden(rec) {
		return ix.search.Delete(rec.Ref())
	}
	return ix.search.Put(rec)
}

// relink queues what depends on a record just saved: its subject, whose
// referrers it joined; the indexes listing it; images built on it. Records
// are built concurrently, so it also queues rec again when something it
// depends on was saved while it was built: a child of an index, or a base
// of an image. Whichever of two related records is saved last sees the
// other.
func (ix *Indexer) relink(rec *catalog.Record, pending []catalog.Ref) error {
	if rec.Subject != "" {
		ix.q.push(task{Repo: rec.Repository, Digest: rec.Subject})
	}
	parents, err := ix.store.Parents(rec.Ref())
	if err != nil {
		return err
	}
	for _, p := range parents {
		ix.q.push(task{Repo: p.Repo, Digest: p.Digest})
	}
	for _, child := range pending {
		if c, err := ix.store.Record(child); err != nil || c != nil {
			ix.q.push(task{Repo: rec.Repository, Digest: rec.Digest})
			break
		}
	}
	if rec.Kind != catalog.KindImage {
		return nil
	}
	if err := ix.relinkDerived(rec); err != nil {
		return err
	}
	bases, err := ix.store.BaseImages(rec.Layers)
	for _, b := range bases {
		if !hasBase(rec, b) {
			ix.q.push(task{Repo: rec.Repository, Digest: rec.Digest})
			break
		}
	}
	return err
}

// relinkDerived queues the images built on rec, tagged or not, that do not
// list it among their bases yet. Bases are tagged images only, so an
// untagged rec has nothing to add.
func (ix *Indexer) relinkDerived(rec *catalog.Record) error {
	if len(rec.Tags) == 0 {
		return nil
	}
	derived, err := ix.store.BuiltOn(rec.Layers)
	if err != nil {
		return err
	}
	for _, ref := range derived {
		drec, err := ix.store.Record(ref)
		if err != nil {
			return err
		}
		if drec != nil && !hasBase(drec, catalog.ImageRef{Repository: rec.Repository, Digest: rec.Digest}) {
			ix.q.push(task{Repo: ref.Repo, Digest: ref.Digest})
		}
	}
	return nil
}

func hasBase(rec *catalog.Record, base catalog.ImageRef) bool {
	return slices.ContainsFunc(rec.BaseImages, func(b catalog.ImageRef) bool {
		return b.Repository == base.Repository && b.Digest == base.Digest
	})
}

// remove drops a record whose manifest storage no longer has, and queues
// the records that showed it: its subject and the indexes listing it.
func (ix *Indexer) remove(old *catalog.Record) error {
	if old == nil {
		return nil
	}
	if old.Subject != "" {
		ix.q.push(task{Repo: old.Repository, Digest: old.Subject})
	}
	parents, err := ix.store.Parents(old.Ref())
	if err != nil {
		return err
	}
	for _, p := range parents {
		ix.q.push(task{Repo: p.Repo, Digest: p.Digest})
	}
	if err := ix.store.DeleteRecord(old.Ref()); err != nil {
		return err
	}
	return ix.search.Delete(old.Ref())
}

// syncTags refreshes the tags of every record of repo from storage, and
// queues tagged manifests that have no record.
func (ix *Indexer) syncTags(ctx context.Context, repo string) error {
	tags, err := ix.src.Tags(ctx, repo)
	if err != nil && !errors.Is(err, catalog.ErrNotFound) {
		return err
	}
	var changed []*catalog.Record
	err = ix.store.Records(repo, func(rec *catalog.Record) error {
		if want := tagsOf(tags, rec.Digest); !slices.Equal(want, rec.Tags) {
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
		ref := catalog.Ref{Repo: repo, Digest: d}
		if rec, err := ix.store.Record(ref); err == nil && rec == nil {
			ix.q.push(task{Repo: repo, Digest: d})
		}
	}
	return nil
}
