package state

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/oyster-registry/oyster/catalog"
)

// layoutVersion names the layout of the buckets. Version 2 added the tag
// index and the parents relation, and dropped the subjects bucket (the
// referrers index is the registry's own now).
const layoutVersion = "2"

var keyLayout = []byte("layout")

// upgrade brings a store written by an older layout up to date, deriving
// the new relations from the records it holds, so that an upgrade needs no
// reindex.
func (s *Store) upgrade() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if string(meta.Get(keyLayout)) == layoutVersion {
			return nil
		}
		if err := tx.DeleteBucket([]byte("subjects")); err != nil && err != bolt.ErrBucketNotFound {
			return err
		}
		if err := recreate(tx, relationBuckets...); err != nil {
			return err
		}
		c := tx.Bucket(bucketRecords).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var rec catalog.Record
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("corrupt record %s: %w", k, err)
			}
			if err := putRelations(tx, &rec); err != nil {
				return err
			}
		}
		return meta.Put(keyLayout, []byte(layoutVersion))
	})
}
