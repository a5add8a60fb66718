package search

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// Searches run on the segments of a bleve (scorch) snapshot directly:
// clauses become roaring bitmaps of postings, and facets and sorting read
// per-segment data cached in memory. bleve's own collector visits doc
// values for every hit, about a microsecond per hit and field, which puts
// a 30,000-hit query with facets at hundreds of milliseconds; counting
// with bitmaps keeps it at a few.

// orInto is implemented by zap's postings lists, the only segment format
// scorch writes.
type orInto interface{ OrInto(*roaring.Bitmap) }

// segView is one segment of the snapshot a search runs on.
type segView struct {
	seg     segment.Segment
	n       uint64
	deleted *roaring.Bitmap
	cache   *segCache
}

// postings returns the documents holding term in field; the bitmap is the
// caller's.
func (v *segView) postings(field, term string) (*roaring.Bitmap, error) {
	bm := roaring.New()
	d, err := v.seg.Dictionary(field)
	if err != nil {
		return nil, err
	}
	return bm, addPostings(d, term, bm)
}

func addPostings(d segment.TermDictionary, term string, bm *roaring.Bitmap) error {
	pl, err := d.PostingsList([]byte(term), nil, nil)
	if err != nil {
		return err
	}
	o, ok := pl.(orInto)
	if !ok {
		return fmt.Errorf("search: unsupported postings list %T", pl)
	}
	o.OrInto(bm)
	return nil
}

// union returns the documents holding any term of field that starts with
// prefix and that keep accepts (nil keeps all).
func (v *segView) union(field, prefix string, keep func(term string) bool) (*roaring.Bitmap, error) {
	bm := roaring.New()
	return bm, v.eachTerm(field, prefix, func(d segment.TermDictionary, term string) error {
		if keep != nil && !keep(term) {
			return nil
		}
		return addPostings(d, term, bm)
	})
}

// eachTerm calls fn for each term of field starting with prefix, in order.
func (v *segView) eachTerm(field, prefix string, fn func(d segment.TermDictionary, term string) error) error {
	d, err := v.seg.Dictionary(field)
	if err != nil {
		return err
	}
	it := d.AutomatonIterator(nil, []byte(prefix), prefixEnd(prefix))
	for {
		e, err := it.Next()
		if err != nil || e == nil {
			return err
		}
		if err := fn(d, e.Term); err != nil {
			return err
		}
	}
}

// prefixEnd is the smallest key after every key starting with prefix, or
// nil when there is none.
func prefixEnd(prefix string) []byte {
	end := []byte(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// live is every document of the segment that is not deleted.
func (v *segView) live() *roaring.Bitmap {
	bm := roaring.New()
	bm.AddRange(0, v.n)
	if v.deleted != nil {
		bm.AndNot(v.deleted)
	}
	return bm
}

// storedText returns the first stored value of field for doc.
func (v *segView) storedText(doc uint32, field string) (string, error) {
	var out string
	err := v.seg.VisitStoredFields(uint64(doc), func(f string, _ byte, value []byte, _ []uint64) bool {
		if f == field {
			out = string(value)
			return false
		}
		return true
	})
	return out, err
}

// segCache is what searches keep about one immutable segment: the sort
// columns and the facet columns. Everything is copied to the heap, so it
// never points into the segment's mmap.
type segCache struct {
	load     sync.Once
	err      error
	lastUsed atomic.Int64 // Unix nanoseconds

	updated []int64 // Unix seconds
	repo    []string
	digest  []string
	// repoID is each document's repository as the index's repoTable
	// numbers it; repos are the segment's distinct ones and repoDocs how
	// many documents each holds. A caller's filter is decided per
	// repository and applied per document without a map lookup.
	repoID   []uint32
	repos    []uint32
	repoDocs []uint32

	mu     sync.Mutex
	facets map[string]*facetColumn
}

// loadColumns reads the sort columns from doc values, numbering
// repositories in table.
func (c *segCache) loadColumns(seg segment.Segment, table *repoTable) error {
	n := seg.Count()
	c.updated, c.repo, c.digest = make([]int64, n), make([]string, n), make([]string, n)
	c.facets = map[string]*facetColumn{}
	dv, ok := seg.(segment.DocValueVisitable)
	if !ok {
		return fmt.Errorf("search: segment %T has no doc values", seg)
	}
	fields := []string{fUpdated, fRepo, fDigest}
	var state segment.DocVisitState
	for doc := range n {
		var err error
		state, err = dv.VisitDocValues(doc, fields, func(field string, term []byte) {
			switch field {
			case fUpdated:
				if t, err := time.Parse(updatedLayout, string(term)); err == nil {
					c.updated[doc] = t.Unix()
				}
			case fRepo:
				c.repo[doc] = intern(c.repo, doc, term)
			case fDigest:
				c.digest[doc] = string(term)
			}
		}, state)
		if err != nil {
			return err
		}
	}
	names, ord, docs := ordinals(c.repo)
	ids := table.intern(names)
	c.repoID = make([]uint32, len(ord))
	for doc, o := range ord {
		c.repoID[doc] = ids[o]
	}
	c.repos, c.repoDocs = ids, docs
	return nil
}

// ordinals lists the distinct values of col, each row's index into them
// and how many rows hold each.
func ordinals(col []string) (values []string, ord, rows []uint32) {
	ord = make([]uint32, len(col))
	index := map[string]uint32{}
	for i, v := range col {
		o, ok := index[v]
		if !ok {
			o = uint32(len(values))
			index[v] = o
			values, rows = append(values, v), append(rows, 0)
		}
		ord[i] = o
		rows[o]++
	}
	return values, ord, rows
}

// intern reuses the previous document's repository string: records of one
// repository are usually indexed together.
func intern(col []string, doc uint64, term []byte) string {
	if doc > 0 && col[doc-1] == string(term) {
		return col[doc-1]
	}
	return string(term)
}

// facet returns the facet column of field, building it on first use.
func (c *segCache) facet(v *segView, field string) (*facetColumn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if fc := c.facets[field]; fc != nil {
		return fc, nil
	}
	fc, err := newFacetColumn(v, field)
	if err != nil {
		return nil, err
	}
	c.facets[field] = fc
	return fc, nil
}

// segCaches holds the caches of the segments recent searches ran on.
type segCaches struct {
	mu    sync.Mutex
	m     map[segment.Segment]*segCache
	repos repoTable
}

// cacheGrace is how long the cache of a segment that left the snapshot is
// kept, for searches still running on an older snapshot.
const cacheGrace = 10 * time.Second

// views opens the segments of snap, with their caches.
func (sc *segCaches) views(snap *scorch.IndexSnapshot) ([]*segView, error) {
	now := time.Now()
	var views []*segView
	current := map[segment.Segment]bool{}
	for _, ss := range snap.Segments() {
		c, err := sc.get(ss.Segment(), now)
		if err != nil {
			return nil, err
		}
		current[ss.Segment()] = true
		views = append(views, &segView{seg: ss.Segment(), n: ss.Segment().Count(), deleted: ss.Deleted(), cache: c})
	}
	sc.sweep(current, now)
	return views, nil
}

func (sc *segCaches) get(seg segment.Segment, now time.Time) (*segCache, error) {
	sc.mu.Lock()
	if sc.m == nil {
		sc.m = map[segment.Segment]*segCache{}
	}
	c := sc.m[seg]
	if c == nil {
		c = &segCache{}
		sc.m[seg] = c
	}
	sc.mu.Unlock()
	c.lastUsed.Store(now.UnixNano())
	c.load.Do(func() { c.err = c.loadColumns(seg, &sc.repos) })
	return c, c.err
}

// sweep forgets segments merged away more than cacheGrace ago.
func (sc *segCaches) sweep(current map[segment.Segment]bool, now time.Time) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	for seg, c := range sc.m {
		if !current[seg] && now.UnixNano()-c.lastUsed.Load() > int64(cacheGrace) {
			delete(sc.m, seg)
		}
	}
}

// toBits turns a bitmap of a segment's n documents into a bitset.
func toBits(bm *roaring.Bitmap, n uint64) []uint64 {
	set := make([]uint64, (n+63)/64)
	buf := make([]uint32, 256)
	it := bm.ManyIterator()
	for k := it.NextMany(buf); k > 0; k = it.NextMany(buf) {
		for _, doc := range buf[:k] {
			set[doc/64] |= 1 << (doc % 64)
		}
	}
	return set
}

// nonZero lists the words of set that are not zero, which is all a facet
// count needs to visit.
func nonZero(set []uint64) []int32 {
	var nz []int32
	for w, x := range set {
		if x != 0 {
			nz = append(nz, int32(w))
		}
	}
	return nz
}
