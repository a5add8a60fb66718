package search

import (
	"cmp"
	"container/heap"
	"math/bits"
	"slices"
	"strings"
)

// cand is a matching document: its segment, number in the segment, and
// score.
type cand struct {
	seg   int
	doc   uint32
	score float32
}

// order says whether a comes before b in the requested sort. Ties end on
// repository and digest, which never change, so that pages neither repeat
// nor skip a record even when segments are merged between two requests.
func (r *run) order(a, b cand) int {
	ca, cb := r.views[a.seg].cache, r.views[b.seg].cache
	if r.sortKey == SortName {
		if c := strings.Compare(ca.repo[a.doc], cb.repo[b.doc]); c != 0 {
			return c
		}
	}
	if r.scored && a.score != b.score {
		return cmp.Compare(b.score, a.score)
	}
	if c := cmp.Compare(cb.updated[b.doc], ca.updated[a.doc]); c != 0 {
		return c
	}
	if c := strings.Compare(ca.repo[a.doc], cb.repo[b.doc]); c != 0 {
		return c
	}
	return strings.Compare(ca.digest[a.doc], cb.digest[b.doc])
}

// top returns the hits of the requested page, in order. It keeps the
// first from+n hits in a heap whose root is the last of them, so each
// other hit costs one comparison.
func (r *run) top() []cand {
	k := r.from + r.n
	h := &candHeap{run: r}
	for seg, set := range r.hits {
		for _, w := range r.nz[seg] {
			for x := set[w]; x != 0; x &= x - 1 {
				c := cand{seg: seg, doc: uint32(w)*64 + uint32(bits.TrailingZeros64(x))}
				if r.score != nil {
					c.score = r.score[seg][c.doc]
				}
				h.offer(c, k)
			}
		}
	}
	slices.SortFunc(h.c, r.order)
	if r.from >= len(h.c) {
		return nil
	}
	return h.c[r.from:]
}

// candHeap is a max-heap in the run's order: its root is the candidate
// that would be dropped first.
type candHeap struct {
	run *run
	c   []cand
}

func (h *candHeap) Len() int           { return len(h.c) }
func (h *candHeap) Less(i, j int) bool { return h.run.order(h.c[i], h.c[j]) > 0 }
func (h *candHeap) Swap(i, j int)      { h.c[i], h.c[j] = h.c[j], h.c[i] }
func (h *candHeap) Push(x any)         { h.c = append(h.c, x.(cand)) }
func (h *candHeap) Pop() any {
	last := h.c[len(h.c)-1]
	h.c = h.c[:len(h.c)-1]
	return last
}

// offer keeps c if it is among the first k seen so far.
func (h *candHeap) offer(c cand, k int) {
	switch {
	case len(h.c) < k:
		heap.Push(h, c)
	case h.run.order(c, h.c[0]) < 0:
		h.c[0] = c
		heap.Fix(h, 0)
	}
}
