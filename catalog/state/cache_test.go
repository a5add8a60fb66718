package state

import (
	"path/filepath"
	"testing"

	"github.com/oyster-registry/oyster/catalog"
)

func TestRecordCacheNeverServesStale(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rec := &catalog.Record{Repository: "r", Digest: "sha256:1", Kind: catalog.KindImage, Tags: []string{"a"}}
	if err := s.PutRecord(rec); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Record(rec.Ref()) // now cached
	got.Tags = []string{"changed by a caller"}
	if again, _ := s.Record(rec.Ref()); again.Tags[0] != "a" {
		t.Fatalf("a caller's change leaked into the cache: %v", again.Tags)
	}
	rec.Tags = []string{"b"}
	if err := s.PutRecord(rec); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.Record(rec.Ref()); again.Tags[0] != "b" {
		t.Fatalf("stale record after an update: %v", again.Tags)
	}
	if err := s.DeleteRecord(rec.Ref()); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.Record(rec.Ref()); again != nil {
		t.Fatalf("deleted record still served: %+v", again)
	}
}

func TestCacheSkipsReadsRacingWrites(t *testing.T) {
	c := newCache[catalog.Ref, *catalog.Record](10, 0)
	k := catalog.Ref{Repo: "r", Digest: "sha256:1"}
	gen := c.generation()
	c.drop(k) // a writer finished while the reader was reading
	c.put(k, &catalog.Record{Digest: "old"}, gen, 1)
	if _, ok := c.get(k); ok {
		t.Fatal("a record read before a write was cached after it")
	}
}

func TestCacheIsBounded(t *testing.T) {
	c := newCache[int, int](3, 0)
	for i := range 10 {
		c.put(i, i, c.generation(), 0)
	}
	if len(c.m) != 3 {
		t.Fatalf("%d entries in a cache of 3", len(c.m))
	}
}

// Costly entries are bounded by their sum: big records leave room, and one
// over a sixteenth of the bound is not cached at all.
func TestCacheIsBoundedByCost(t *testing.T) {
	c := newCache[int, int](1000, 1600)
	for i := range 100 {
		c.put(i, i, c.generation(), 100)
		if c.cost > 1600 || c.cost != int64(100*len(c.m)) {
			t.Fatalf("after %d puts: cost %d for %d entries", i+1, c.cost, len(c.m))
		}
	}
	if len(c.m) != 16 {
		t.Errorf("%d entries of cost 100 under 1600", len(c.m))
	}
	c.put(-1, -1, c.generation(), 101)
	if _, ok := c.get(-1); ok {
		t.Error("an entry over a sixteenth of the bound was cached")
	}
	c.put(3, 3, c.generation(), 100) // replacing an entry does not count it twice
	c.drop(5)
	if c.cost != int64(100*len(c.m)) {
		t.Errorf("cost %d for %d entries", c.cost, len(c.m))
	}
}
