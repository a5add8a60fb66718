package state

import (
	"strconv"

	bolt "go.etcd.io/bbolt"

	"github.com/oyster-registry/oyster/catalog"
)

// StartIndexing notes that indexing ref begins and returns how many
// attempts, this one included, began since one last finished. An attempt
// that never finishes is one the process did not survive (killed for its
// memory, say): the indexer counts them to stop retrying a poison image.
// The bbolt file is written without fsync, which a process's death does not
// undo.
func (s *Store) StartIndexing(ref catalog.Ref) (int, error) {
	var n int
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketIndexing)
		n, _ = strconv.Atoi(string(b.Get(key(ref))))
		n++
		return b.Put(key(ref), []byte(strconv.Itoa(n)))
	})
	return n, err
}

// FinishIndexing forgets the attempts at ref.
func (s *Store) FinishIndexing(ref catalog.Ref) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketIndexing).Delete(key(ref))
	})
}

// ForgetAttempts forgets every unfinished attempt, so that images given
// up on are tried again.
func (s *Store) ForgetAttempts() error {
	return s.db.Update(func(tx *bolt.Tx) error { return recreate(tx, bucketIndexing) })
}
