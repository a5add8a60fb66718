package search

import "github.com/RoaringBitmap/roaring/v2"

// repoFilter removes from each segment's hits the images of the
// repositories a caller may not see, before anything is counted, so that
// results, totals and facets are all over visible images; relevance is
// computed over visible images too, so a score says nothing of hidden
// ones. Its cost follows the hits, not the index: each hit's repository
// is read from the segment's cached column, and visible is asked once per
// repository per search, however many images and segments hold it.
type repoFilter struct {
	visible func(repo string) bool
	// seen keeps answers across segments, when the search spans several
	// (within a segment, ordinals do).
	seen     map[string]bool
	segments int
	// decided holds each segment's answers by repository ordinal: 0 not
	// yet asked, 1 visible, -1 hidden.
	decided map[*segView][]int8
}

func newRepoFilter(visible func(repo string) bool, segments int) *repoFilter {
	f := &repoFilter{visible: visible, decided: map[*segView][]int8{}}
	if segments > 1 {
		f.seen = map[string]bool{}
	}
	return f
}

// apply removes the hidden documents from hits, in place.
func (f *repoFilter) apply(v *segView, hits *roaring.Bitmap) {
	var hidden []uint32
	f.each(v, hits, func(doc uint32, visible bool) {
		if !visible {
			hidden = append(hidden, doc)
		}
	})
	if len(hidden) > 0 {
		hits.AndNot(roaring.BitmapOf(hidden...))
	}
}

// count is how many of docs are visible.
func (f *repoFilter) count(v *segView, docs *roaring.Bitmap) uint64 {
	var n uint64
	f.each(v, docs, func(_ uint32, visible bool) {
		if visible {
			n++
		}
	})
	return n
}

// live is how many of the segment's live documents are visible, from the
// documents per repository, without visiting them.
func (f *repoFilter) live(v *segView) uint64 {
	c, d := v.cache, f.decisions(v)
	var n uint64
	for ord, docs := range c.repoDocs {
		if f.decide(c, d, uint32(ord)) {
			n += uint64(docs)
		}
	}
	if v.deleted != nil {
		n -= f.count(v, v.deleted)
	}
	return n
}

// each calls fn for every document of docs, with whether it is visible.
func (f *repoFilter) each(v *segView, docs *roaring.Bitmap, fn func(doc uint32, visible bool)) {
	c, d := v.cache, f.decisions(v)
	buf := make([]uint32, 256)
	it := docs.ManyIterator()
	for k := it.NextMany(buf); k > 0; k = it.NextMany(buf) {
		for _, doc := range buf[:k] {
			fn(doc, f.decide(c, d, c.repoOrd[doc]))
		}
	}
}

func (f *repoFilter) decisions(v *segView) []int8 {
	d := f.decided[v]
	if d == nil {
		d = make([]int8, len(v.cache.repos))
		f.decided[v] = d
		if f.seen != nil && len(f.seen) == 0 {
			f.seen = make(map[string]bool, 2*len(v.cache.repos)) // segments share most repositories
		}
	}
	return d
}

// decide answers for one repository ordinal of a segment, asking visible
// only the first time the search meets the repository.
func (f *repoFilter) decide(c *segCache, d []int8, ord uint32) bool {
	if d[ord] == 0 {
		repo := c.repos[ord]
		ok, known := f.seen[repo]
		if !known {
			ok = f.visible(repo)
			if f.seen != nil {
				f.seen[repo] = ok
			}
		}
		d[ord] = -1
		if ok {
			d[ord] = 1
		}
	}
	return d[ord] > 0
}
