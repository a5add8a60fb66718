package catalog

import "sync"

// task is one unit of indexing work: a manifest to (re)derive, or the tags
// of a repository to refresh.
type task struct {
	Repo   string
	Digest string // empty: refresh the repository's tags
}

// queue is an unbounded FIFO of tasks that drops duplicates of tasks still
// waiting, so a burst of events for one image costs one indexing pass.
type queue struct {
	mu      sync.Mutex
	items   []task
	waiting map[task]bool
	busy    int
	ready   chan struct{}
	idle    *sync.Cond
}

func newQueue() *queue {
	q := &queue{waiting: map[task]bool{}, ready: make(chan struct{}, 1)}
	q.idle = sync.NewCond(&q.mu)
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
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// pop takes the next task, if any, and marks the queue busy until done.
func (q *queue) pop() (task, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) == 0 {
		return task{}, false
	}
	t := q.items[0]
	q.items = q.items[1:]
	delete(q.waiting, t)
	q.busy++
	return t, true
}

func (q *queue) done() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.busy--
	if q.busy == 0 && len(q.items) == 0 {
		q.idle.Broadcast()
	}
}

// wait blocks until no task is waiting or running.
func (q *queue) wait() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.busy > 0 || len(q.items) > 0 {
		q.idle.Wait()
	}
}

func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) + q.busy
}
