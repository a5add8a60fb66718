// Package search is the catalog's full-text and faceted search: an on-disk
// bleve index of catalog.Records and the query language people type into
// the catalog's search box ("pymatgen python:3.11 cuda:12 -type:sif").
//
// bleve stores the index (analysis, segments, term dictionaries, roaring
// postings, stored fields, merging, persistence). Searches do not go
// through bleve's collector, whose cost grows by about a microsecond per
// hit and per facet or sort field: they combine the segments' postings as
// bitmaps and count facets on bitsets cached per segment (segment.go),
// which keeps a query over 100,000 images with 300 packages each within
// milliseconds.
//
// The index is derived data: it can always be rebuilt from the records, so
// an index written by an older mapping is dropped on Open and reported by
// Fresh, and the caller reindexes.
package search

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"

	"github.com/oyster-registry/oyster/catalog"
)

// versionKey is the internal key under which the mapping version is kept.
var versionKey = []byte("oyster.mapping")

// Index is the search index. It is safe for concurrent use.
type Index struct {
	dir string
	// mu guards bi against Reset and Close; bleve serialises the rest.
	mu     sync.RWMutex
	bi     bleve.Index
	fresh  bool
	caches segCaches
}

// Open opens the index in dir, creating it if it is missing or was
// written with another mapping.
func Open(dir string) (*Index, error) {
	bi, err := bleve.Open(dir)
	switch {
	case errors.Is(err, bleve.ErrorIndexPathDoesNotExist), errors.Is(err, bleve.ErrorIndexMetaMissing):
		return create(dir)
	case err != nil:
		return nil, fmt.Errorf("search: open %s: %w", dir, err)
	}
	v, err := bi.GetInternal(versionKey)
	if err == nil && string(v) == mappingVersion {
		return &Index{dir: dir, bi: bi}, nil
	}
	if cerr := bi.Close(); cerr != nil {
		return nil, cerr
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	return create(dir)
}

func create(dir string) (*Index, error) {
	bi, err := newBleve(dir)
	if err != nil {
		return nil, err
	}
	return &Index{dir: dir, bi: bi, fresh: true}, nil
}

func newBleve(dir string) (bleve.Index, error) {
	m, err := newMapping()
	if err != nil {
		return nil, err
	}
	bi, err := bleve.New(dir, m)
	if err != nil {
		return nil, fmt.Errorf("search: create %s: %w", dir, err)
	}
	if err := bi.SetInternal(versionKey, []byte(mappingVersion)); err != nil {
		bi.Close()
		return nil, err
	}
	return bi, nil
}

// Fresh reports whether Open created the index empty, so that the caller
// knows to index every record.
func (ix *Index) Fresh() bool { return ix.fresh }

// Close releases the index; it must not be used afterwards.
func (ix *Index) Close() error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.bi.Close()
}

// Put indexes rec, replacing what was indexed under rec.Ref().
func (ix *Index) Put(rec *catalog.Record) error {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.bi.Index(rec.Ref().String(), document(rec))
}

// PutBatch indexes many records in one bleve batch, which is much cheaper
// per record than Put; reindexing feeds it a few hundred at a time.
func (ix *Index) PutBatch(recs []*catalog.Record) error {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	b := ix.bi.NewBatch()
	for _, rec := range recs {
		if err := b.Index(rec.Ref().String(), document(rec)); err != nil {
			return fmt.Errorf("search: %s: %w", rec.Ref(), err)
		}
	}
	return ix.bi.Batch(b)
}

// Delete removes the record of ref; one that is not indexed is not an
// error.
func (ix *Index) Delete(ref catalog.Ref) error {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.bi.Delete(ref.String())
}

// Reset drops every document, for a full reindex. Searches wait for it.
func (ix *Index) Reset() error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if err := ix.bi.Close(); err != nil {
		return err
	}
	if err := os.RemoveAll(ix.dir); err != nil {
		return err
	}
	bi, err := newBleve(ix.dir)
	if err != nil {
		return err
	}
	ix.bi = bi
	return nil
}

// Compact merges the index into as few segments as bleve allows. Searches
// cost about the same per segment, so call it after a full reindex rather
// than waiting for the background merger.
func (ix *Index) Compact(ctx context.Context) error {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	adv, err := ix.bi.Advanced()
	if err != nil {
		return err
	}
	s, ok := adv.(*scorch.Scorch)
	if !ok {
		return fmt.Errorf("search: cannot compact a %T index", adv)
	}
	return s.ForceMerge(ctx, nil)
}

// Count is the number of indexed records.
func (ix *Index) Count() (int, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	n, err := ix.bi.DocCount()
	return int(n), err
}
