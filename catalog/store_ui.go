package catalog

import (
	"encoding/json"
	"fmt"
	"sort"

	bolt "go.etcd.io/bbolt"
)

// Pulled is a record and how often it was pulled.
type Pulled struct {
	Record *Record
	Pulls  uint64
}

// MostPulled returns up to n records with the most pulls, most first.
// Pull counts outlive deleted manifests (they are kept across reindexes),
// so keys without a record are skipped. It reads the whole pulls bucket,
// which holds one small entry per pulled manifest.
func (s *Store) MostPulled(n int) ([]Pulled, error) {
	var out []Pulled
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
			rec := &Record{}
			if err := json.Unmarshal(raw, rec); err != nil {
				return fmt.Errorf("corrupt record %s: %w", c.key, err)
			}
			out = append(out, Pulled{Record: rec, Pulls: c.n})
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
