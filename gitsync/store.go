package gitsync

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/oyster-registry/oyster/api"
	"github.com/oyster-registry/oyster/internal/boltdb"
)

var (
	bucketBuilds = []byte("builds") // id → record
	bucketKeys   = []byte("keys")   // dedupe key → id
	bucketHeads  = []byte("heads")  // source → last commit handled
)

// record is a build as the queue keeps it: the API's shape and what the
// queue needs beside it.
type record struct {
	api.Build
	// Key deduplicates: a source, commit and recipe (and, for the base
	// cascade, the base's digest) build once.
	Key string `json:"key"`
	// Chain lists the source:recipe of every build that led to this one
	// through the base cascade, this one last: the cascade never returns
	// to a recipe already in it.
	Chain []string `json:"chain,omitempty"`
}

// store is the build queue's bbolt file: it outlives the process.
type store struct{ db *bolt.DB }

func openStore(path string) (*store, error) {
	db, err := boltdb.Open(path, boltdb.Options{What: "build queue", Buckets: [][]byte{bucketBuilds, bucketKeys, bucketHeads}})
	if err != nil {
		return nil, err
	}
	return &store{db: db}, nil
}

func (s *store) close() error { return s.db.Close() }

// add stores rec as a new build unless its key is taken; it returns the
// new record (with its id) or the existing one and false.
func (s *store) add(rec record) (record, bool, error) {
	added := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		keys, builds := tx.Bucket(bucketKeys), tx.Bucket(bucketBuilds)
		if id := keys.Get([]byte(rec.Key)); id != nil {
			return json.Unmarshal(builds.Get(id), &rec)
		}
		seq, err := builds.NextSequence()
		if err != nil {
			return err
		}
		rec.ID = fmt.Sprintf("%08d", seq)
		added = true
		if err := keys.Put([]byte(rec.Key), []byte(rec.ID)); err != nil {
			return err
		}
		return put(builds, rec)
	})
	return rec, added, err
}

func put(b *bolt.Bucket, rec record) error {
	raw, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return b.Put([]byte(rec.ID), raw)
}

// get returns the build id.
func (s *store) get(id string) (record, bool, error) {
	var rec record
	found := false
	err := s.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketBuilds).Get([]byte(id))
		if raw == nil {
			return nil
		}
		found = true
		return json.Unmarshal(raw, &rec)
	})
	return rec, found, err
}

// update changes the build id with fn in one transaction; fn returns
// false to change nothing.
func (s *store) update(id string, fn func(*record) bool) (record, error) {
	var rec record
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketBuilds)
		raw := b.Get([]byte(id))
		if raw == nil {
			return fmt.Errorf("no build %s", id)
		}
		if err := json.Unmarshal(raw, &rec); err != nil {
			return err
		}
		if !fn(&rec) {
			return nil
		}
		return put(b, rec)
	})
	return rec, err
}

// list returns every build, newest first.
func (s *store) list() ([]record, error) {
	var out []record
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketBuilds).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var rec record
			if err := json.Unmarshal(v, &rec); err != nil {
				return err
			}
			out = append(out, rec)
		}
		return nil
	})
	return out, err
}

// claim marks the oldest queued build running and returns it.
func (s *store) claim(now time.Time) (record, bool, error) {
	var rec record
	found := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketBuilds)
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if err := json.Unmarshal(v, &rec); err != nil {
				return err
			}
			if rec.Status == api.BuildQueued {
				found = true
				rec.Status, rec.Started, rec.Finished = api.BuildRunning, &now, nil
				rec.Attempt++
				return put(b, rec)
			}
		}
		return nil
	})
	return rec, found, err
}

func (s *store) head(source string) (string, error) {
	var h string
	err := s.db.View(func(tx *bolt.Tx) error {
		h = string(tx.Bucket(bucketHeads).Get([]byte(source)))
		return nil
	})
	return h, err
}

func (s *store) setHead(source, commit string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketHeads).Put([]byte(source), []byte(commit))
	})
}
