package indexer

import (
	"context"
	"testing"
)

func next(t *testing.T, q *queue) task {
	t.Helper()
	tk, ok := q.next(context.Background())
	if !ok {
		t.Fatal("no task")
	}
	return tk
}

// A manifest being indexed is not handed out again until done, nor its
// repository's tags; other work goes past them.
func TestQueueKeepsClashingTasksApart(t *testing.T) {
	q := newQueue()
	a := task{Repo: "lab/a", Digest: "sha256:aa"}
	a2 := task{Repo: "lab/a", Digest: "sha256:a2"}
	tagsA := task{Repo: "lab/a"}
	b := task{Repo: "lab/b", Digest: "sha256:bb"}
	q.push(a)
	if got := next(t, q); got != a {
		t.Fatalf("first task %+v", got)
	}
	q.push(a)     // pushed again while running: waits
	q.push(a)     // and only once
	q.push(tagsA) // the repository's tags wait for its manifests
	q.push(a2)    // another manifest of the same repository may run
	q.push(b)
	if got := next(t, q); got != a2 {
		t.Fatalf("second task %+v, want %+v", got, a2)
	}
	if got := next(t, q); got != b {
		t.Fatalf("third task %+v, want %+v", got, b)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got, ok := q.next(ctx); ok {
		t.Fatalf("%+v handed out while it clashes", got)
	}
	q.done(a)
	if got := next(t, q); got != a {
		t.Fatalf("after a finished: %+v, want a again", got)
	}
	q.done(a2)
	q.done(a)
	if got := next(t, q); got != tagsA {
		t.Fatalf("after lab/a went idle: %+v, want its tags", got)
	}
	q.push(a) // a manifest waits while its repository's tags are refreshed
	if got, ok := q.next(ctx); ok {
		t.Fatalf("%+v handed out during the tags refresh", got)
	}
	q.done(tagsA)
	q.done(b)
	if got := next(t, q); got != a {
		t.Fatalf("last %+v", got)
	}
	q.done(a)
	if err := q.wait(context.Background()); err != nil || len(q.items)+len(q.running) != 0 {
		t.Fatalf("queue not idle: %v %+v %+v", err, q.items, q.running)
	}
}
