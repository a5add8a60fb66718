package search

import "github.com/RoaringBitmap/roaring/v2"

// repoFilter removes from each segment's hits the images of the
// repositories a caller may not see, before anything is counted, so that
// results, totals and facets are all over visible images. Its cost
// follows the hits, not the index: each hit's repository is read from the
// segment's cached column, and visible is asked once per repository per
// search, however many images and segments hold it.
type repoFilter struct {
	visible func(repo string) bool
	// seen keeps answers across segments, when the search spans several
	// (within a segment, ordinals do).
	seen     map[string]bool
	segments int
}

func newRepoFilter(visible func(repo string) bool, segments int) *repoFilter {
	return &repoFilter{visible: visible, segments: segments}
}

// apply removes the hidden documents from hits, in place.
func (f *repoFilter) apply(v *segView, hits *roaring.Bitmap) {
	c := v.cache
	if f.seen == nil && f.segments > 1 {
		f.seen = make(map[string]bool, 2*len(c.repos)) // segments share most repositories
	}
	decided := make([]int8, len(c.repos)) // by ordinal: 0 not yet asked, 1 visible, -1 hidden
	var hidden []uint32
	buf := make([]uint32, 256)
	it := hits.ManyIterator()
	for k := it.NextMany(buf); k > 0; k = it.NextMany(buf) {
		for _, doc := range buf[:k] {
			ord := c.repoOrd[doc]
			if decided[ord] == 0 {
				decided[ord] = f.decide(c.repos[ord])
			}
			if decided[ord] < 0 {
				hidden = append(hidden, doc)
			}
		}
	}
	if len(hidden) > 0 {
		hits.AndNot(roaring.BitmapOf(hidden...))
	}
}

func (f *repoFilter) decide(repo string) int8 {
	ok, known := f.seen[repo]
	if !known {
		ok = f.visible(repo)
		if f.seen != nil {
			f.seen[repo] = ok
		}
	}
	if ok {
		return 1
	}
	return -1
}
