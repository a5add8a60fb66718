package search

import "sync"

// repoTable numbers every repository the index's segments have held, so
// that a search decides a caller's filter per repository in a slice, with
// no hashing, however many segments hold the repository. Numbers are
// never reused; the table holds one string per repository ever indexed
// by this process.
type repoTable struct {
	mu    sync.Mutex
	ids   map[string]uint32
	names []string // by id; only appended to
}

// intern returns the id of each distinct repository of a segment.
func (t *repoTable) intern(repos []string) []uint32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ids == nil {
		t.ids = map[string]uint32{}
	}
	out := make([]uint32, len(repos))
	for i, repo := range repos {
		id, ok := t.ids[repo]
		if !ok {
			id = uint32(len(t.names))
			t.ids[repo] = id
			t.names = append(t.names, repo)
		}
		out[i] = id
	}
	return out
}

// all is every repository numbered so far, by id. The slice is only ever
// appended to, so what it holds stays valid.
func (t *repoTable) all() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.names
}
