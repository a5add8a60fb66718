package catalog_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/search"
	"github.com/oyster-registry/oyster/oci"
)

// A crash after the state store took a change but before the search index
// had it on disk leaves a journal entry; the next start re-applies it.
func TestRepairSearchAppliesJournalledChanges(t *testing.T) {
	dir := t.TempDir()
	store, err := catalog.OpenStore(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	idx, err := search.Open(filepath.Join(dir, "index"))
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	kept := &catalog.Record{Repository: "lab/kept", Digest: "sha256:" + hex64('1'), Kind: catalog.KindImage, Tags: []string{"v1"}}
	gone := &catalog.Record{Repository: "lab/gone", Digest: "sha256:" + hex64('2'), Kind: catalog.KindImage, Tags: []string{"v1"}}
	// The index has "gone" but not "kept"; the store says the opposite,
	// as if the process died between the two writes.
	if err := idx.Put(gone); err != nil {
		t.Fatal(err)
	}
	for _, rec := range []*catalog.Record{kept, gone} {
		if err := store.PutRecord(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.DeleteRecord(gone.Key()); err != nil {
		t.Fatal(err)
	}
	ix := catalog.NewIndexer(&memSource{}, store, idx, oci.Limits{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := ix.RepairSearch(); err != nil {
		t.Fatal(err)
	}
	resp, err := idx.Search(context.Background(), search.Request{Query: "repo:lab/*"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Total != 1 || resp.Results[0].Repository != "lab/kept" {
		t.Fatalf("after repair the index holds %+v", resp.Results)
	}
	if left, _ := store.Unsynced(timeFar()); len(left) != 0 {
		t.Fatalf("journal not cleared: %v", left)
	}
}

func hex64(c byte) string {
	b := make([]byte, 64)
	for i := range b {
		b[i] = c
	}
	return string(b)
}

func timeFar() time.Time { return time.Now().Add(time.Hour) }
