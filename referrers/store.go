// Package referrers keeps the index behind the OCI referrers API
// (distribution-spec v1.1), which distribution does not have: for each
// repository and subject digest, the descriptors of manifests whose subject
// it is. The index is derived from storage; changes are journalled so a crash
// between the storage write and the index write is repaired on restart.
package referrers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	bolt "go.etcd.io/bbolt"

	"github.com/oyster-registry/oyster/internal/boltdb"
)

var (
	bucketRefs     = []byte("refs")     // repo \0 subject \0 referrer → record
	bucketSubjects = []byte("subjects") // repo \0 referrer → subject
	bucketMeta     = []byte("meta")     // keyComplete → "1" once a rebuild finished
	keyComplete    = []byte("complete")
	sep            = []byte{0}
)

// pending states of a record whose storage write has not been confirmed.
const (
	stateLive          = ""
	statePendingAdd    = "add"
	statePendingDelete = "delete"
)

type record struct {
	Descriptor v1.Descriptor `json:"descriptor"`
	State      string        `json:"state,omitempty"`
}

// Store is the referrers index, kept in a bbolt file.
type Store struct {
	db *bolt.DB
}

// Open opens or creates the index at path.
func Open(path string) (*Store, error) {
	db, err := boltdb.Open(path, boltdb.Options{What: "referrers index", Buckets: [][]byte{bucketRefs, bucketSubjects, bucketMeta}})
	if err != nil {
		return nil, err
	}
	return &Store{db: db}, nil
}

// Close closes the index file.
func (s *Store) Close() error { return s.db.Close() }

// Complete reports whether the index was fully built from storage once; if
// not (new or interrupted), the caller rebuilds it.
func (s *Store) Complete() (bool, error) {
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		ok = tx.Bucket(bucketMeta).Get(keyComplete) != nil
		return nil
	})
	return ok, err
}

func refKey(repo string, subject, referrer digest.Digest) []byte {
	return bytes.Join([][]byte{[]byte(repo), []byte(subject), []byte(referrer)}, sep)
}

func subjectPrefix(repo string, subject digest.Digest) []byte {
	return append(bytes.Join([][]byte{[]byte(repo), []byte(subject)}, sep), 0)
}

func reverseKey(repo string, referrer digest.Digest) []byte {
	return bytes.Join([][]byte{[]byte(repo), []byte(referrer)}, sep)
}

func put(tx *bolt.Tx, repo string, subject digest.Digest, rec record) error {
	raw, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := tx.Bucket(bucketRefs).Put(refKey(repo, subject, rec.Descriptor.Digest), raw); err != nil {
		return err
	}
	return tx.Bucket(bucketSubjects).Put(reverseKey(repo, rec.Descriptor.Digest), []byte(subject))
}

// lookup finds the record of referrer in repo, if it is indexed.
func lookup(tx *bolt.Tx, repo string, referrer digest.Digest) (digest.Digest, *record, error) {
	subject := tx.Bucket(bucketSubjects).Get(reverseKey(repo, referrer))
	if subject == nil {
		return "", nil, nil
	}
	raw := tx.Bucket(bucketRefs).Get(refKey(repo, digest.Digest(subject), referrer))
	if raw == nil {
		return digest.Digest(subject), nil, nil
	}
	var rec record
	if err := json.Unmarshal(raw, &rec); err != nil {
		return "", nil, fmt.Errorf("corrupt referrers record for %s: %w", referrer, err)
	}
	return digest.Digest(subject), &rec, nil
}

func remove(tx *bolt.Tx, repo string, subject, referrer digest.Digest) error {
	if err := tx.Bucket(bucketRefs).Delete(refKey(repo, subject, referrer)); err != nil {
		return err
	}
	return tx.Bucket(bucketSubjects).Delete(reverseKey(repo, referrer))
}

// PrepareAdd journals that desc, a manifest whose subject is subject, is about
// to be written to storage. It stays invisible until CommitAdd.
func (s *Store) PrepareAdd(repo string, subject digest.Digest, desc v1.Descriptor) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		_, existing, err := lookup(tx, repo, desc.Digest)
		if err != nil {
			return err
		}
		if existing != nil && existing.State == stateLive {
			return nil // pushed again: already indexed
		}
		return put(tx, repo, subject, record{Descriptor: desc, State: statePendingAdd})
	})
}

// CommitAdd makes a prepared referrer visible once storage has it.
func (s *Store) CommitAdd(repo string, referrer digest.Digest) error {
	return s.setState(repo, referrer, stateLive)
}

// Abort undoes a PrepareAdd whose storage write failed, or a PrepareDelete
// whose storage delete failed.
func (s *Store) Abort(repo string, referrer digest.Digest) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		subject, rec, err := lookup(tx, repo, referrer)
		if err != nil || rec == nil {
			return err
		}
		switch rec.State {
		case statePendingAdd:
			return remove(tx, repo, subject, referrer)
		case statePendingDelete:
			rec.State = stateLive
			return put(tx, repo, subject, *rec)
		}
		return nil
	})
}

// PrepareDelete journals that referrer is about to be deleted from storage.
// It reports whether referrer is indexed at all.
func (s *Store) PrepareDelete(repo string, referrer digest.Digest) (bool, error) {
	var found bool
	err := s.db.Update(func(tx *bolt.Tx) error {
		subject, rec, err := lookup(tx, repo, referrer)
		if err != nil || rec == nil {
			return err
		}
		found = true
		rec.State = statePendingDelete
		return put(tx, repo, subject, *rec)
	})
	return found, err
}

// CommitDelete drops a referrer whose manifest storage no longer has.
func (s *Store) CommitDelete(repo string, referrer digest.Digest) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		subject, rec, err := lookup(tx, repo, referrer)
		if err != nil || rec == nil {
			return err
		}
		return remove(tx, repo, subject, referrer)
	})
}

func (s *Store) setState(repo string, referrer digest.Digest, state string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		subject, rec, err := lookup(tx, repo, referrer)
		if err != nil {
			return err
		}
		if rec == nil {
			return fmt.Errorf("referrer %s in %s is not journalled", referrer, repo)
		}
		rec.State = state
		return put(tx, repo, subject, *rec)
	})
}

// Page is one page of referrers; Next is the cursor of the following page
// or empty on the last one.
type Page struct {
	Descriptors []v1.Descriptor
	Next        digest.Digest
}

// List returns up to limit referrers of subject in repo after the cursor
// last, in digest order, keeping only artifactType when it is not empty.
func (s *Store) List(repo string, subject digest.Digest, artifactType string, last digest.Digest, limit int) (Page, error) {
	var page Page
	err := s.scan(repo, subject, artifactType, last, func(d digest.Digest, raw []byte) (bool, error) {
		if len(page.Descriptors) == limit {
			page.Next = page.Descriptors[limit-1].Digest
			return false, nil
		}
		var rec record
		if err := json.Unmarshal(raw, &rec); err != nil {
			return false, fmt.Errorf("corrupt referrers record for %s: %w", d, err)
		}
		page.Descriptors = append(page.Descriptors, rec.Descriptor)
		return true, nil
	})
	return page, err
}

// RawPage is a page of referrers as the JSON of their descriptors, ready to
// be written out; Next is as in Page.
type RawPage struct {
	Descriptors []json.RawMessage
	Bytes       int // the descriptors' total length
	Next        digest.Digest
}

// ListRaw is List for the HTTP API, bounded in bytes as well as in count: a
// page ends before its descriptors would pass maxBytes (it holds at least
// one, itself bounded by the manifest size limit), so the memory a page
// takes does not grow with the annotations of the referrers.
func (s *Store) ListRaw(repo string, subject digest.Digest, artifactType string, last digest.Digest, limit, maxBytes int) (RawPage, error) {
	var (
		page   RawPage
		cursor digest.Digest
	)
	err := s.scan(repo, subject, artifactType, last, func(d digest.Digest, raw []byte) (bool, error) {
		// The stored record bounds its descriptor: judged before copying it.
		if n := len(page.Descriptors); n == limit || (n > 0 && page.Bytes+len(raw) > maxBytes) {
			page.Next = cursor
			return false, nil
		}
		var rec struct {
			Descriptor json.RawMessage `json:"descriptor"`
		}
		if err := json.Unmarshal(raw, &rec); err != nil {
			return false, fmt.Errorf("corrupt referrers record for %s: %w", d, err)
		}
		page.Descriptors = append(page.Descriptors, rec.Descriptor)
		page.Bytes += len(rec.Descriptor)
		cursor = d
		return true, nil
	})
	return page, err
}

// scan calls fn with the digest and stored record (valid only during the
// call) of each live referrer of subject in repo after the cursor last, in
// digest order, keeping only artifactType when it is not empty, until fn
// reports false. Records are filtered without decoding their annotations.
func (s *Store) scan(repo string, subject digest.Digest, artifactType string, last digest.Digest, fn func(digest.Digest, []byte) (bool, error)) error {
	prefix := subjectPrefix(repo, subject)
	return s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRefs).Cursor()
		k, v := c.Seek(prefix)
		if last != "" {
			after := append(append([]byte{}, prefix...), last...)
			if k, v = c.Seek(after); k != nil && bytes.Equal(k, after) {
				k, v = c.Next()
			}
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var head struct {
				Descriptor struct {
					Digest       digest.Digest `json:"digest"`
					ArtifactType string        `json:"artifactType"`
				} `json:"descriptor"`
				State string `json:"state"`
			}
			if err := json.Unmarshal(v, &head); err != nil {
				return fmt.Errorf("corrupt referrers record %q: %w", k, err)
			}
			if head.State == statePendingAdd || (artifactType != "" && head.Descriptor.ArtifactType != artifactType) {
				continue
			}
			if more, err := fn(head.Descriptor.Digest, v); !more || err != nil {
				return err
			}
		}
		return nil
	})
}

// Pending is a journalled change whose outcome in storage is unknown.
type Pending struct {
	Repository string
	Referrer   digest.Digest
}

// Pending lists every journalled change not yet committed or aborted: after a
// crash, the caller checks storage for each and calls Resolve.
func (s *Store) Pending() ([]Pending, error) {
	var out []Pending
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRefs).ForEach(func(k, v []byte) error {
			var rec record
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("corrupt referrers record %q: %w", k, err)
			}
			if rec.State != stateLive {
				repo, _, _ := bytes.Cut(k, sep)
				out = append(out, Pending{Repository: string(repo), Referrer: rec.Descriptor.Digest})
			}
			return nil
		})
	})
	return out, err
}

// Resolve settles a pending change by what storage holds now.
func (s *Store) Resolve(p Pending, inStorage bool) error {
	if inStorage {
		return s.setState(p.Repository, p.Referrer, stateLive)
	}
	return s.CommitDelete(p.Repository, p.Referrer)
}

// Manifest is one manifest found in storage during a rebuild.
type Manifest struct {
	Repository string
	Subject    digest.Digest
	Descriptor v1.Descriptor
}

// Rebuild replaces the whole index with what walk yields, then marks the
// index complete. An interrupted rebuild leaves it incomplete, so the next
// start rebuilds again.
func (s *Store) Rebuild(walk func(yield func(Manifest) error) error) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketRefs, bucketSubjects} {
			if err := tx.DeleteBucket(b); err != nil && !errors.Is(err, bolt.ErrBucketNotFound) {
				return err
			}
			if _, err := tx.CreateBucket(b); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Delete(keyComplete)
	})
	if err != nil {
		return err
	}
	err = walk(func(m Manifest) error {
		return s.db.Update(func(tx *bolt.Tx) error {
			return put(tx, m.Repository, m.Subject, record{Descriptor: m.Descriptor})
		})
	})
	if err != nil {
		return fmt.Errorf("rebuilding referrers index: %w", err)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyComplete, []byte("1"))
	})
}
