package state

import (
	"encoding/json"
	"fmt"
	"sort"

	bolt "go.etcd.io/bbolt"

	"github.com/oyster-registry/oyster/catalog"
)

// MostPulled returns up to n records with the most pulls, most first.
// Pull counts outlive deleted manifests (they are kept across reindexes),
// so keys without a record are skipped. It reads the whole pulls bucket,
// which holds one small entry per pulled manifest.
func (s *Store) MostPulled(n int) ([]catalog.Pulled, error) {
	var out []catalog.Pulled
	err := s.db.View(func(tx *bolt.Tx) error {
		counts, err := pullCounts(tx)
		if err != nil {
			return err
		}
		records := tx.Bucket(bucketRecords)
		for _, c := range counts {
			if len(out) == n {
				break
			}
			raw := records.Get([]byte(c.key))
			if raw == nil {
				continue
			}
			rec := &catalog.Record{}
			if err := json.Unmarshal(raw, rec); err != nil {
				return fmt.Errorf("corrupt record %s: %w", c.key, err)
			}
			out = append(out, catalog.Pulled{Record: rec, Pulls: c.n})
		}
		return nil
	})
	return out, err
}

type pullCount struct {
	key string
	n   uint64
}

// pullCounts lists every non-zero pull count, most first, then by key.
func pullCounts(tx *bolt.Tx) ([]pullCount, error) {
	var counts []pullCount
	err := tx.Bucket(bucketPulls).ForEach(func(k, v []byte) error {
		var n uint64
		if _, err := fmt.Sscan(string(v), &n); err != nil {
			return fmt.Errorf("corrupt pull count %s: %w", k, err)
		}
		if n > 0 {
			counts = append(counts, pullCount{string(k), n})
		}
		return nil
	})
	sort.Slice(counts, func(i, j int) bool {
		if counts[i].n != counts[j].n {
			return counts[i].n > counts[j].n
		}
		return counts[i].key < counts[j].key
	})
	return counts, err
}

// AddPulls adds counted pulls to each ref's total, in one transaction
// (pulls are counted in memory and flushed now and then, not written per
// request).
func (s *Store) AddPulls(counts map[catalog.Ref]uint64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPulls)
		for ref, add := range counts {
			var n uint64
			if raw := b.Get(key(ref)); len(raw) > 0 {
				fmt.Sscan(string(raw), &n)
			}
			if err := b.Put(key(ref), []byte(fmt.Sprint(n+add))); err != nil {
				return err
			}
		}
		return nil
	})
}

// Pulls returns ref's pull count.
func (s *Store) Pulls(ref catalog.Ref) (uint64, error) {
	var n uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		if raw := tx.Bucket(bucketPulls).Get(key(ref)); len(raw) > 0 {
			_, err := fmt.Sscan(string(raw), &n)
			return err
		}
		return nil
	})
	return n, err
}
