package search

import "github.com/RoaringBitmap/roaring/v2"

// repoFilter removes from each segment's hits the images of the
// repositories a caller may not see, before anything is counted, so that
// results, totals and facets are all over visible images; relevance is
// computed over visible images too, so a score says nothing of hidden
// ones. Its cost follows the hits, not the index: each hit's repository
// number is read from the segment's cached column, and visible is asked
// once per repository per search, however many images and segments hold
// it.
type repoFilter struct {
	visible func(repo string) bool
	names   []string // the index's repositories, by number
	// decided holds the answers by repository number: 0 not yet asked,
	// 1 visible, -1 hidden.
	decided []int8
}

// newRepoFilter filters by visible over the repositories of table; the
// search's segments must be loaded, so that table numbers all of theirs.
func newRepoFilter(visible func(repo string) bool, table *repoTable) *repoFilter {
	names := table.all()
	return &repoFilter{visible: visible, names: names, decided: make([]int8, len(names))}
}

// apply removes the hidden documents from hits, in place.
func (f *repoFilter) apply(v *segView, hits *roaring.Bitmap) {
	hidden := f.collect(v, hits, false)
	if len(hidden) > 0 {
		hits.AndNot(roaring.BitmapOf(hidden...))
	}
}

// count is how many of docs are visible.
func (f *repoFilter) count(v *segView, docs *roaring.Bitmap) uint64 {
	return docs.GetCardinality() - uint64(len(f.collect(v, docs, false)))
}

// live is how many of the segment's live documents are visible, from the
// documents per repository, without visiting them.
func (f *repoFilter) live(v *segView) uint64 {
	c := v.cache
	var n uint64
	for i, id := range c.repos {
		if f.decide(id) {
			n += uint64(c.repoDocs[i])
		}
	}
	if v.deleted != nil {
		n -= f.count(v, v.deleted)
	}
	return n
}

// collect lists the documents of docs that are visible, or hidden. It
// is the loop every hit goes through, so it calls nothing per document
// but for a repository's first hit.
func (f *repoFilter) collect(v *segView, docs *roaring.Bitmap, visible bool) []uint32 {
	ids := v.cache.repoID
	var out []uint32
	buf := make([]uint32, 256)
	it := docs.ManyIterator()
	for k := it.NextMany(buf); k > 0; k = it.NextMany(buf) {
		for _, doc := range buf[:k] {
			d := f.decided[ids[doc]]
			if d == 0 {
				d = f.ask(ids[doc])
			}
			if (d > 0) == visible {
				out = append(out, doc)
			}
		}
	}
	return out
}

// decide answers for one repository, asking visible the first time the
// search meets it.
func (f *repoFilter) decide(id uint32) bool {
	d := f.decided[id]
	if d == 0 {
		d = f.ask(id)
	}
	return d > 0
}

func (f *repoFilter) ask(id uint32) int8 {
	f.decided[id] = -1
	if f.visible(f.names[id]) {
		f.decided[id] = 1
	}
	return f.decided[id]
}
