package catalog

import (
	"path/filepath"
	"testing"
)

func TestRecordCacheNeverServesStale(t *testing.T) {
	s, err := OpenStore(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rec := &Record{Repository: "r", Digest: "sha256:1", Kind: KindImage, Tags: []string{"a"}}
	if err := s.PutRecord(rec); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Record(rec.Key()) // now cached
	got.Tags = []string{"changed by a caller"}
	if again, _ := s.Record(rec.Key()); again.Tags[0] != "a" {
		t.Fatalf("a caller's change leaked into the cache: %v", again.Tags)
	}
	rec.Tags = []string{"b"}
	if err := s.PutRecord(rec); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.Record(rec.Key()); again.Tags[0] != "b" {
		t.Fatalf("stale record after an update: %v", again.Tags)
	}
	if err := s.DeleteRecord(rec.Key()); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.Record(rec.Key()); again != nil {
		t.Fatalf("deleted record still served: %+v", again)
	}
}

func TestRecordCacheSkipsReadsRacingWrites(t *testing.T) {
	var c recordCache
	c.m = map[string]*Record{}
	gen := c.generation()
	c.drop("k") // a writer finished while the reader was reading
	c.put("k", &Record{Digest: "old"}, gen)
	if c.get("k") != nil {
		t.Fatal("a record read before a write was cached after it")
	}
}
