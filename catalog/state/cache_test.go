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
	c := newCache[catalog.Ref, *catalog.Record](10)
	k := catalog.Ref{Repo: "r", Digest: "sha256:1"}
	gen := c.generation()
	c.drop(k) // a writer finished while the reader was reading
	c.put(k, &catalog.Record{Digest: "old"}, gen)
	if _, ok := c.get(k); ok {
		t.Fatal("a record read before a write was cached after it")
	}
}

func TestCacheIsBounded(t *testing.T) {
	c := newCache[int, int](3)
	for i := range 10 {
		c.put(i, i, c.generation())
	}
	if len(c.m) != 3 {
		t.Fatalf("%d entries in a cache of 3", len(c.m))
	}
}
