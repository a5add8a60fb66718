package indexer_test

import (
	"context"
	"strings"
	"testing"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/catalogtest"
	"github.com/oyster-registry/oyster/catalog/indexer"
	"github.com/oyster-registry/oyster/internal/testlayers"
)

// An image the process died indexing, as many times as the budget allows,
// is recorded as failed at the next start instead of read again, and
// kept so by a reindex; a reindex with retryFailed reads it again. Other
// images are indexed all along.
func TestPoisonImageIsGivenUp(t *testing.T) {
	src := catalogtest.NewSource()
	poison := src.PushImage("lab/poison", "1", config, layer(t, testlayers.DistInfo("numpy", "1.26.4")))
	other := src.PushImage("lab/other", "1", config, layer(t, testlayers.DistInfo("scipy", "1.12.0")))
	c := catalogtest.New(t)
	for range 2 { // two processes died while indexing it
		if _, err := c.Store.StartIndexing(poison); err != nil {
			t.Fatal(err)
		}
	}
	startOn(t, c, src, c.Search, 1)
	rec := record(t, c, poison)
	if !rec.Partial || len(rec.Packages) != 0 || len(rec.Truncated) != 1 || !strings.Contains(rec.Truncated[0], "2 attempts did not finish") {
		t.Errorf("poison record: partial %v, packages %v, truncated %q", rec.Partial, rec.Packages, rec.Truncated)
	}
	if rec := record(t, c, other); rec.Partial || len(rec.Packages) != 1 {
		t.Errorf("other record: %+v", rec)
	}

	ix := indexer.New(indexer.Options{Source: src, Store: c.Store, Search: c.Search, Log: quiet()})
	if err := ix.Reindex(context.Background(), nil, false); err != nil {
		t.Fatal(err)
	}
	if rec := record(t, c, poison); !rec.Partial || len(rec.Packages) != 0 {
		t.Errorf("after reindex: %+v", rec)
	}
	if rec := record(t, c, other); len(rec.Packages) != 1 {
		t.Errorf("other after reindex: %+v", rec)
	}
	if err := ix.Reindex(context.Background(), nil, true); err != nil {
		t.Fatal(err)
	}
	if rec := record(t, c, poison); rec.Partial || len(rec.Packages) != 1 {
		t.Errorf("after reindex --retry-failed: %+v", rec)
	}
}

// One unfinished attempt is retried: a registry killed once while
// indexing an image indexes it in full at the next start.
func TestOneUnfinishedAttemptIsRetried(t *testing.T) {
	src := catalogtest.NewSource()
	ref := src.PushImage("lab/app", "1", config, layer(t, testlayers.DistInfo("numpy", "1.26.4")))
	c := catalogtest.New(t)
	if _, err := c.Store.StartIndexing(ref); err != nil {
		t.Fatal(err)
	}
	startOn(t, c, src, c.Search, 1)
	if rec := record(t, c, ref); rec.Partial || len(rec.Packages) != 1 {
		t.Errorf("record: %+v", rec)
	}
	if n, err := c.Store.StartIndexing(ref); err != nil || n != 1 {
		t.Errorf("attempts after a finished one: %d, %v", n, err)
	}
}

// Budget cuts reach the record through the indexer's options.
func TestIndexerAppliesBudget(t *testing.T) {
	src := catalogtest.NewSource()
	ref := src.PushImage("lab/big", "1", config, layer(t, testlayers.File("var/lib/dpkg/status", testlayers.DpkgStatus(testlayers.ManyDpkgPackages(30)...))))
	c := catalogtest.New(t)
	ix := indexer.New(indexer.Options{Source: src, Store: c.Store, Search: c.Search, Log: quiet(), Budget: catalog.Budget{MaxPackages: 12}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ix.Start(ctx)
	ix.Wait()
	if rec := record(t, c, ref); !rec.Partial || len(rec.Packages) != 12 {
		t.Errorf("record: %d packages, truncated %q", len(rec.Packages), rec.Truncated)
	}
}
