package search

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
)

// Paging bounds. Results past MaxResultWindow are not served: a person
// refines the query long before, and a deep page costs memory.
const (
	DefaultPerPage  = 20
	MaxPerPage      = 100
	MaxResultWindow = 10000
)

// Sort orders.
const (
	SortRelevance = "relevance"
	SortUpdated   = "updated"
	SortName      = "name"
)

// Request is one search.
type Request struct {
	Query   string   `json:"q"`
	Sort    string   `json:"sort,omitempty"` // relevance (default), updated, name
	Page    int      `json:"page,omitempty"` // from 1
	PerPage int      `json:"per_page,omitempty"`
	Facets  []string `json:"facets,omitempty"` // empty: DefaultFacets
	// NoFacets skips facet counting, for callers that only list results.
	NoFacets bool `json:"-"`
	// OnePerRepository keeps the first hit of each repository among the
	// first MaxPerPage results, up to PerPage of them, so that a repository
	// pushed many times in a row does not fill a short list. Only the
	// first page is served; Total still counts every match.
	OnePerRepository bool `json:"-"`
	// Visible, when set, keeps only the images of the repositories it
	// accepts (the ones the caller may pull), before anything is counted:
	// results, Total and facet counts are all over visible images. nil
	// shows everything.
	Visible func(repo string) bool `json:"-"`
}

// Response is one page of results with facet counts over all of them.
type Response struct {
	Total   int                     `json:"total"`
	Results []Hit                   `json:"results"`
	Facets  map[string][]FacetCount `json:"facets"`
}

// Hit is enough of a record to render a result without another lookup.
type Hit struct {
	Repository  string    `json:"repository"`
	Digest      string    `json:"digest"`
	Tags        []string  `json:"tags,omitempty"`
	Kind        string    `json:"kind"`
	Title       string    `json:"title,omitempty"`
	Description string    `json:"description,omitempty"`
	Platforms   []string  `json:"platforms,omitempty"`
	Updated     time.Time `json:"updated"`
	Size        int64     `json:"size"`
	Python      string    `json:"python,omitempty"`
	CUDA        string    `json:"cuda,omitempty"`
	OS          string    `json:"os,omitempty"`
	Score       float64   `json:"score,omitempty"`
	// Highlights are HTML, text escaped and matched words in <mark>, keyed
	// by repository, title and description.
	Highlights map[string][]string `json:"highlights,omitempty"`
}

// searchPlan is what a request asks, checked before the index is touched.
type searchPlan struct {
	q       *Query
	from, n int
	sortKey string
	facets  []string
	scored  bool
	// onePerRepo, when not 0, is how many hits to keep, one per
	// repository, of the n read.
	onePerRepo int
	visible    func(repo string) bool
}

// plan checks everything in req that does not need the index.
func plan(req Request) (*searchPlan, error) {
	q, err := Parse(req.Query)
	if err != nil {
		return nil, err
	}
	page, per := max(req.Page, 1), req.PerPage
	if per <= 0 {
		per = DefaultPerPage
	}
	per = min(per, MaxPerPage)
	if page-1 >= (MaxResultWindow+per-1)/per { // (page-1)*per >= the window, without overflow
		return nil, errorf(-1, "page %d is past the first %d results; refine the query", page, MaxResultWindow)
	}
	sortKey := req.Sort
	if sortKey == "" {
		sortKey = SortRelevance
	}
	if !slices.Contains([]string{SortRelevance, SortUpdated, SortName}, sortKey) {
		return nil, errorf(-1, "unknown sort %q; known: %s, %s, %s", req.Sort, SortName, SortRelevance, SortUpdated)
	}
	facets := req.Facets
	if len(facets) == 0 && !req.NoFacets {
		facets = DefaultFacets
	}
	for _, name := range facets {
		if _, ok := facetSpecs[name]; !ok {
			return nil, errorf(-1, "unknown facet %q; known facets: %s", name, strings.Join(sortedKeys(facetSpecs), ", "))
		}
	}
	p := &searchPlan{q: q, from: (page - 1) * per, n: per, sortKey: sortKey, facets: facets, visible: req.Visible}
	if req.OnePerRepository {
		if page > 1 {
			return nil, errorf(-1, "one result per repository is served on the first page only")
		}
		p.n, p.onePerRepo = MaxPerPage, per
	}
	p.scored = sortKey == SortRelevance && slices.ContainsFunc(q.Terms, func(t Term) bool { return t.Filter == "" && !t.Negated })
	return p, nil
}

// Search runs req. An unparseable query or a bad sort, facet or page is a
// *QueryError.
func (ix *Index) Search(ctx context.Context, req Request) (*Response, error) {
	p, err := plan(req)
	if err != nil {
		return nil, err
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	r, done, err := ix.start(ctx, p)
	if err != nil {
		return nil, err
	}
	defer done()
	res := &Response{Total: r.total, Facets: map[string][]FacetCount{}}
	for _, name := range p.facets {
		if res.Facets[name], err = r.facet(facetSpecs[name]); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res.Results, err = r.page(ix)
	if p.onePerRepo > 0 {
		res.Results = onePerRepository(res.Results, p.onePerRepo)
	}
	return res, err
}

// onePerRepository keeps the first hit of each repository, up to n.
func onePerRepository(hits []Hit, n int) []Hit {
	out := make([]Hit, 0, min(n, len(hits)))
	seen := map[string]bool{}
	for _, h := range hits {
		if len(out) == n {
			break
		}
		if !seen[h.Repository] {
			seen[h.Repository] = true
			out = append(out, h)
		}
	}
	return out
}

// start finds the documents matching p on a snapshot of the index, which
// stays open until done is called. The caller holds ix.mu.
func (ix *Index) start(ctx context.Context, p *searchPlan) (r *run, done func(), err error) {
	snap, err := ix.snapshot()
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			snap.Close()
		}
	}()
	views, err := ix.caches.views(snap)
	if err != nil {
		return nil, nil, err
	}
	r = &run{searchPlan: p, views: views}
	if err := r.match(ctx, ix); err != nil {
		return nil, nil, err
	}
	return r, func() { snap.Close() }, nil
}

// snapshot is the index as it is now; the caller closes it.
func (ix *Index) snapshot() (*scorch.IndexSnapshot, error) {
	adv, err := ix.bi.Advanced()
	if err != nil {
		return nil, err
	}
	r, err := adv.Reader()
	if err != nil {
		return nil, err
	}
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		r.Close()
		return nil, fmt.Errorf("search: unsupported index reader %T", r)
	}
	return snap, nil
}

// run is one search in progress over the segments of a snapshot.
type run struct {
	*searchPlan
	views []*segView
	hits  [][]uint64 // per segment, the matching documents as a bitset
	nz    [][]int32  // per segment, the words of hits that are not zero
	sizes []int      // per segment, the number of hits
	score [][]float32
	total int
	text  []*textMatcher // positive free text, which scores
}

// match finds every matching document of every segment.
func (r *run) match(ctx context.Context, ix *Index) error {
	a := ix.bi.Mapping().AnalyzerNamed(textAnalyzer)
	var filter *repoFilter
	if r.visible != nil {
		filter = newRepoFilter(r.visible, &ix.caches.repos)
	}
	var pos, neg []matcher
	for _, t := range r.q.Terms {
		m := t.clause.prepare(a)
		if t.Negated {
			neg = append(neg, m)
			continue
		}
		pos = append(pos, m)
		if tm, ok := m.(*textMatcher); ok {
			r.text = append(r.text, tm)
			if filter != nil {
				tm.count = filter.count // document frequencies over visible images only
			}
		}
	}
	var live uint64
	for _, v := range r.views {
		if err := ctx.Err(); err != nil {
			return err
		}
		bm, err := matchSegment(v, pos, neg)
		if err != nil {
			return err
		}
		if filter != nil {
			filter.apply(v, bm)
			if r.scored {
				live += filter.live(v)
			}
		} else {
			live += v.n
			if v.deleted != nil {
				live -= v.deleted.GetCardinality()
			}
		}
		for _, tm := range r.text {
			tm.keepHits(v, bm)
		}
		size := int(bm.GetCardinality())
		r.total += size
		set := toBits(bm, v.n)
		r.hits, r.nz, r.sizes = append(r.hits, set), append(r.nz, nonZero(set)), append(r.sizes, size)
	}
	if r.scored {
		r.scoreText(live)
	}
	return nil
}

func matchSegment(v *segView, pos, neg []matcher) (*roaring.Bitmap, error) {
	hits := v.live()
	for _, m := range pos {
		bm, err := m.match(v)
		if err != nil {
			return nil, err
		}
		hits.And(bm)
	}
	for _, m := range neg {
		bm, err := m.match(v)
		if err != nil {
			return nil, err
		}
		hits.AndNot(bm)
	}
	return hits, nil
}

// scoreText scores every hit by where its text matched: the field's boost
// times the inverse document frequency of the text, summed.
func (r *run) scoreText(live uint64) {
	r.score = make([][]float32, len(r.views))
	for i, v := range r.views {
		r.score[i] = make([]float32, v.n)
	}
	for _, tm := range r.text {
		idf := float32(math.Log(1 + float64(live)/float64(1+tm.df)))
		for i, v := range r.views {
			for _, p := range tm.parts[v] {
				addScores(r.score[i], p.docs, p.boost*idf)
			}
		}
	}
}

func addScores(score []float32, docs *roaring.Bitmap, w float32) {
	buf := make([]uint32, 256)
	it := docs.ManyIterator()
	for k := it.NextMany(buf); k > 0; k = it.NextMany(buf) {
		for _, doc := range buf[:k] {
			score[doc] += w
		}
	}
}
