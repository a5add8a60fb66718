// Package catalogtest holds the fixtures tests of the catalog, the web
// surface and the registry share: a state store with its search index in a
// temporary directory, and registry storage in memory (Source).
package catalogtest

import (
	"path/filepath"
	"testing"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/search"
	"github.com/oyster-registry/oyster/catalog/state"
)

// Catalog is a state store and a search index, as the registry keeps them
// under <data>/catalog; the test's cleanup closes both.
type Catalog struct {
	Store  *state.Store
	Search *search.Index
}

// New opens an empty catalog in a temporary directory.
func New(t testing.TB) *Catalog {
	t.Helper()
	dir := t.TempDir()
	store, err := state.Open(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	idx, err := search.Open(filepath.Join(dir, "index"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	return &Catalog{Store: store, Search: idx}
}

// Put stores recs and indexes the tagged ones for search, as the indexer
// does (it keeps untagged manifests out of search).
func (c *Catalog) Put(t testing.TB, recs ...*catalog.Record) {
	t.Helper()
	var tagged []*catalog.Record
	for _, rec := range recs {
		if err := c.Store.PutRecord(rec); err != nil {
			t.Fatal(err)
		}
		if len(rec.Tags) > 0 {
			tagged = append(tagged, rec)
		}
	}
	for len(tagged) > 0 { // in bleve batches of the size reindexing uses
		n := min(len(tagged), 500)
		if err := c.Search.PutBatch(tagged[:n]); err != nil {
			t.Fatal(err)
		}
		tagged = tagged[n:]
	}
}
