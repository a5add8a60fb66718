package search

import (
	"math/bits"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// facetColumn is one facet field of one segment in two shapes: a bitset
// of documents per term, which counts a broad result quickly, and the
// terms of each document, which counts a narrow one quickly.
type facetColumn struct {
	terms []string
	ords  map[string]int32
	df    []int      // documents per term, deleted ones included
	bits  [][]uint64 // per term
	// The terms of document d are docTerms[start[d]:start[d+1]].
	start    []uint32
	docTerms []int32
}

func newFacetColumn(v *segView, field string) (*facetColumn, error) {
	fc := &facetColumn{ords: map[string]int32{}}
	err := v.eachTerm(field, "", func(d segment.TermDictionary, term string) error {
		bm := roaring.New()
		if err := addPostings(d, term, bm); err != nil {
			return err
		}
		fc.ords[term] = int32(len(fc.terms))
		fc.terms = append(fc.terms, term)
		fc.df = append(fc.df, int(bm.GetCardinality()))
		fc.bits = append(fc.bits, toBits(bm, v.n))
		return nil
	})
	if err != nil {
		return nil, err
	}
	fc.invert(v.n)
	return fc, nil
}

// invert lists the terms of each document from the bitsets.
func (fc *facetColumn) invert(n uint64) {
	fc.start = make([]uint32, n+1)
	for _, set := range fc.bits {
		eachBit(set, nonZero(set), func(doc uint32) { fc.start[doc+1]++ })
	}
	for d := range n {
		fc.start[d+1] += fc.start[d]
	}
	fc.docTerms = make([]int32, fc.start[n])
	next := slices.Clone(fc.start[:n])
	for ord, set := range fc.bits {
		eachBit(set, nonZero(set), func(doc uint32) {
			fc.docTerms[next[doc]] = int32(ord)
			next[doc]++
		})
	}
}

// eachBit calls fn with the position of every bit set in set; nz lists the
// words of set that are not zero.
func eachBit(set []uint64, nz []int32, fn func(uint32)) {
	for _, w := range nz {
		for x := set[w]; x != 0; x &= x - 1 {
			fn(uint32(w)*64 + uint32(bits.TrailingZeros64(x)))
		}
	}
}

// termsPerDoc is the average number of terms a document holds.
func (fc *facetColumn) termsPerDoc() float64 {
	return float64(len(fc.docTerms)) / float64(max(len(fc.start)-1, 1))
}

// countTerm is how many documents of hits hold term.
func (fc *facetColumn) countTerm(term string, hits []uint64, nz []int32) int {
	ord, ok := fc.ords[term]
	if !ok {
		return 0
	}
	set, n := fc.bits[ord], 0
	for _, w := range nz {
		n += bits.OnesCount64(hits[w] & set[w])
	}
	return n
}

// countDocs adds every term of every document of hits to counts.
func (fc *facetColumn) countDocs(hits []uint64, nz []int32, counts map[string]int) {
	local := make([]int, len(fc.terms))
	eachBit(hits, nz, func(doc uint32) {
		for _, ord := range fc.docTerms[fc.start[doc]:fc.start[doc+1]] {
			local[ord]++
		}
	})
	for ord, n := range local {
		if n > 0 {
			counts[fc.terms[ord]] += n
		}
	}
}
