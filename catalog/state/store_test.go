package state_test

import (
	"encoding/json"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/extract"
	"github.com/oyster-registry/oyster/catalog/state"
	"github.com/oyster-registry/oyster/catalog/state/statetest"
)

func open(t *testing.T) *state.Store {
	t.Helper()
	s, err := state.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	statetest.Run(t, func(t *testing.T) catalog.Store { return open(t) })
}

func TestLayerCache(t *testing.T) {
	statetest.RunLayerCache(t, func(t *testing.T) extract.LayerCache { return open(t) })
}

// A store written before the tag index existed (layout 1: records, chains
// and a subjects bucket) gains the index from its records when opened.
func TestUpgradeBuildsTagIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	rec := statetest.Image("lab/app", "a", []string{"l1"}, "v1")
	db, err := bolt.Open(path, 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		records, err := tx.CreateBucket([]byte("records"))
		if err != nil {
			return err
		}
		if _, err := tx.CreateBucket([]byte("subjects")); err != nil {
			return err
		}
		raw, _ := json.Marshal(rec)
		return records.Put([]byte(rec.Ref().String()), raw)
	})
	if err != nil || db.Close() != nil {
		t.Fatal(err)
	}
	s, err := state.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if d, err := s.Tag("lab/app", "v1"); err != nil || d != rec.Digest {
		t.Fatalf("v1 resolves to %q, %v after the upgrade", d, err)
	}
	if got, err := s.Record(rec.Ref()); err != nil || got == nil {
		t.Fatalf("record after the upgrade: %+v, %v", got, err)
	}
}
