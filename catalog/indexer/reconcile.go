package indexer

import (
	"context"
	"sort"
	"sync"

	"github.com/opencontainers/go-digest"

	"github.com/oyster-registry/oyster/catalog"
)

// reconcile compares storage with the catalog and queues the differences:
// manifests storage has and the catalog lacks are indexed, records of
// manifests storage lost are removed, every repository's tags refreshed.
// It returns once the queue is empty again, reporting progress over the
// manifests it queued.
func (ix *Indexer) reconcile(ctx context.Context, progress Progress) error {
	inStorage, repos, err := ix.listStorage(ctx)
	if err != nil {
		return err
	}
	var todo []catalog.Ref
	err = ix.store.Records("", func(rec *catalog.Record) error {
		if !inStorage[rec.Ref()] {
			todo = append(todo, rec.Ref()) // indexing it finds it gone
		}
		delete(inStorage, rec.Ref())
		return nil
	})
	if err != nil {
		return err
	}
	for ref := range inStorage {
		todo = append(todo, ref)
	}
	sort.Slice(todo, func(i, j int) bool { return todo[i].String() < todo[j].String() })
	return ix.indexAll(ctx, todo, repos, progress)
}

func (ix *Indexer) listStorage(ctx context.Context) (map[catalog.Ref]bool, []string, error) {
	refs := map[catalog.Ref]bool{}
	var repos []string
	err := ix.src.Repositories(ctx, func(repo string) error {
		repos = append(repos, repo)
		return ix.src.Manifests(ctx, repo, func(d digest.Digest) error {
			refs[catalog.Ref{Repo: repo, Digest: d}] = true
			return nil
		})
	})
	return refs, repos, err
}

// indexAll queues refs and the tags of repos, and waits until the queue is
// empty, follow-up work (relations, index parents) included.
func (ix *Indexer) indexAll(ctx context.Context, refs []catalog.Ref, repos []string, progress Progress) error {
	if progress != nil && len(refs) == 0 {
		progress(0, 0)
	}
	ix.track(refs, progress)
	defer ix.track(nil, nil)
	for _, ref := range refs {
		ix.q.push(task{Repo: ref.Repo, Digest: ref.Digest})
	}
	for _, repo := range repos {
		ix.q.push(task{Repo: repo})
	}
	return ix.q.wait(ctx)
}

// batch counts the manifests of one indexAll as workers finish them.
type batch struct {
	mu       sync.Mutex
	left     map[catalog.Ref]bool
	total    int
	progress Progress
}

// track makes the manifests in refs report progress as they finish.
func (ix *Indexer) track(refs []catalog.Ref, progress Progress) {
	var b *batch
	if progress != nil && len(refs) > 0 {
		b = &batch{left: make(map[catalog.Ref]bool, len(refs)), total: len(refs), progress: progress}
		for _, r := range refs {
			b.left[r] = true
		}
	}
	ix.batchMu.Lock()
	ix.batch = b
	ix.batchMu.Unlock()
}

// finished reports that ref was indexed, to the batch that waits for it.
func (ix *Indexer) finished(ref catalog.Ref) {
	ix.batchMu.Lock()
	b := ix.batch
	ix.batchMu.Unlock()
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.left[ref] {
		delete(b.left, ref)
		b.progress(b.total-len(b.left), b.total)
	}
}
