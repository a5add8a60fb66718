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

func TestRecordCacheSkipsReadsRacingWrites(t *testing.T) {
	var c recordCache
	k := catalog.Ref{Repo: "r", Digest: "sha256:1"}
	c.m = map[catalog.Ref]*catalog.Record{}
	gen := c.generation()
	c.drop(k) // a writer finished while the reader was reading
	c.put(k, &catalog.Record{Digest: "old"}, gen)
	if c.get(k) != nil {
		t.Fatal("a record read before a write was cached after it")
	}
}
