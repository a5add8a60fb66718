package indexer

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/catalogtest"
	"github.com/oyster-registry/oyster/catalog/search"
)

// A crash after the state store took a change but before the search index
// had it on disk leaves a journal entry; the next start re-applies it.
func TestRepairSearchAppliesJournalledChanges(t *testing.T) {
	c := catalogtest.New(t)
	kept := &catalog.Record{Repository: "lab/kept", Digest: digest.FromString("kept"), Kind: catalog.KindImage, Tags: []string{"v1"}}
	gone := &catalog.Record{Repository: "lab/gone", Digest: digest.FromString("gone"), Kind: catalog.KindImage, Tags: []string{"v1"}}
	// The index has "gone" but not "kept"; the store says the opposite,
	// as if the process died between the two writes.
	if err := c.Search.Put(gone); err != nil {
		t.Fatal(err)
	}
	for _, rec := range []*catalog.Record{kept, gone} {
		if err := c.Store.PutRecord(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Store.DeleteRecord(gone.Ref()); err != nil {
		t.Fatal(err)
	}
	ix := New(Options{Source: catalogtest.NewSource(), Store: c.Store, Search: c.Search, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := ix.repairSearch(); err != nil {
		t.Fatal(err)
	}
	resp, err := c.Search.Search(context.Background(), search.Request{Query: "repo:lab/*"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Total != 1 || resp.Results[0].Repository != "lab/kept" {
		t.Fatalf("after repair the index holds %+v", resp.Results)
	}
	if left, _ := c.Store.Unsynced(time.Now().Add(time.Hour)); len(left) != 0 {
		t.Fatalf("journal not cleared: %v", left)
	}
}
