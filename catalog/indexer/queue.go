package indexer

import (
	"context"
	"sync"

	"github.com/opencontainers/go-digest"

	"github.com/oyster-registry/oyster/catalog"
)

// task is one unit of indexing work: a manifest to (re)derive, or the tags
// of a repository to refresh.
type task struct {
	Repo   string
	Digest digest.Digest // empty: refresh the repository's tags
}

func (t task) ref() catalog.Ref { return catalog.Ref{Repo: t.Repo, Digest: t.Digest} }

func (t task) isTags() bool { return t.Digest == "" }

// queue is an unbounded FIFO of tasks for several workers. It drops
// duplicates of tasks still waiting, so a burst of events for one image
// costs one indexing pass, and it hands out a task only when it cannot
// clash with one in flight: never the same manifest twice at once, and a
// repository's tags never while one of its manifests is indexed (both
// write that manifest's record).
type queue struct {
	mu      sync.Mutex
	changed *sync.Cond // a task was pushed or finished, or a context ended
	items   []task
	waiting map[task]bool
	running map[task]bool
	busy    map[string]int // tasks in flight per repository
}

func newQueue() *queue {
	q := &queue{waiting: map[task]bool{}, running: map[task]bool{}, busy: map[string]int{}}
	q.changed = sync.NewCond(&q.mu)
	return q
}

func (q *queue) push(t task) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.waiting[t] {
		return
	}
	q.waiting[t] = true
	q.items = append(q.items, t)
	q.changed.Broadcast()
	q.report()
}

// next blocks until a task can run, and marks it running until done; it
// returns false once ctx ends.
func (q *queue) next(ctx context.Context) (task, bool) {
	stop := context.AfterFunc(ctx, q.wake)
	defer stop()
	q.mu.Lock()
	defer q.mu.Unlock()
	for ctx.Err() == nil {
		if i := q.runnable(); i >= 0 {
			t := q.items[i]
			q.remove(i)
			delete(q.waiting, t)
			q.running[t] = true
			q.busy[t.Repo]++
			q.report()
			return t, true
		}
		q.changed.Wait()
	}
	return task{}, false
}

// runnable is the index of the first task that clashes with none in
// flight, or -1. Clashes are few (they need the same repository), so the
// first task is nearly always the one.
func (q *queue) runnable() int {
	for i, t := range q.items {
		if (t.isTags() && q.busy[t.Repo] == 0) ||
			(!t.isTags() && !q.running[t] && !q.running[task{Repo: t.Repo}]) {
			return i
		}
	}
	return -1
}

func (q *queue) remove(i int) {
	if i == 0 {
		q.items = q.items[1:]
		return
	}
	q.items = append(q.items[:i], q.items[i+1:]...)
}

func (q *queue) done(t task) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.running, t)
	if q.busy[t.Repo]--; q.busy[t.Repo] == 0 {
		delete(q.busy, t.Repo)
	}
	q.changed.Broadcast()
	q.report()
}

// wait blocks until no task is waiting or running, or ctx ends.
func (q *queue) wait(ctx context.Context) error {
	stop := context.AfterFunc(ctx, q.wake)
	defer stop()
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.items) > 0 || len(q.running) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		q.changed.Wait()
	}
	return nil
}

func (q *queue) wake() {
	q.mu.Lock()
	q.changed.Broadcast()
	q.mu.Unlock()
}

// report sets the queue-depth gauge: tasks waiting or running, so 0 when
// idle. Called with mu held, on every change.
func (q *queue) report() { queueDepth.Set(float64(len(q.items) + len(q.running))) }
