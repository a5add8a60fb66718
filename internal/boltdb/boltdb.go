// Package boltdb opens the bbolt files Oyster keeps its derived indexes in,
// the same way everywhere: directory created, buckets present, and a lock
// held by another process reported in words a user can act on.
package boltdb

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Options say how to open one file.
type Options struct {
	// What names the file in errors ("referrers index").
	What string
	// NoSync skips fsync on commit: for data rebuilt from storage anyway.
	NoSync  bool
	Buckets [][]byte
}

// Open opens or creates the file at path with its buckets.
func Open(path string, opts Options) (*bolt.DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	db, err := bolt.Open(path, 0o644, &bolt.Options{Timeout: 5 * time.Second, NoSync: opts.NoSync})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("%s %s is locked: is a registry already running on this data directory?", opts.What, path)
	}
	if err != nil {
		return nil, fmt.Errorf("opening %s %s: %w", opts.What, path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range opts.Buckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}
