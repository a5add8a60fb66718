package catalog

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/oyster-registry/oyster/internal/boltdb"
)

// Buckets of the catalog's state store. Everything in it is derived from
// registry storage and can be rebuilt by a reindex.
var (
	bucketRecords  = []byte("records")  // repo@digest → Record
	bucketLayers   = []byte("layers")   // scanner version + layer digest → LayerFacts
	bucketChains   = []byte("chains")   // chain hash \0 repo@digest: images whose layers are exactly that chain
	bucketPrefixes = []byte("prefixes") // chain hash \0 repo@digest: images whose layers start with that chain
	bucketSubjects = []byte("subjects") // repo \0 subject \0 referrer → Referrer
	bucketPulls    = []byte("pulls")    // repo@digest → pull count
	bucketUnsynced = []byte("unsynced") // repo@digest → when its search-index update was journalled
	allBuckets     = [][]byte{bucketRecords, bucketLayers, bucketChains, bucketPrefixes, bucketSubjects, bucketPulls, bucketUnsynced}
)

// layerCacheVersion prefixes cached layer facts; bump it when ScanLayer
// learns to find more, so old entries are read again.
const layerCacheVersion = "v1"

// Store keeps records and the caches behind them in a bbolt file.
type Store struct {
	db    *bolt.DB
	cache recordCache
}

// OpenStore opens or creates the state store at path. It does not fsync:
// everything here is derived from registry storage, a process crash loses
// nothing (the OS has the pages), and what a power loss loses the start-up
// reconcile rebuilds. Syncing would cost every indexed image milliseconds.
func OpenStore(path string) (*Store, error) {
	db, err := boltdb.Open(path, boltdb.Options{What: "catalog store", NoSync: true, Buckets: allBuckets})
	if err != nil {
		return nil, err
	}
	return &Store{db: db, cache: recordCache{m: map[string]*Record{}}}, nil
}

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

// Reset drops every record and relation but keeps the layer cache, which
// depends only on layer content.
func (s *Store) Reset() error {
	defer s.cache.clear()
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if bytes.Equal(b, bucketLayers) || bytes.Equal(b, bucketPulls) {
				continue
			}
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
			if _, err := tx.CreateBucket(b); err != nil {
				return err
			}
		}
		return nil
	})
}

func join(parts ...string) []byte { return []byte(strings.Join(parts, "\x00")) }

// Record returns the record for key (repo@digest), or nil.
// The record is a shallow copy of a cached one: callers may set its fields
// but must not change its slices or maps in place.
func (s *Store) Record(key string) (*Record, error) {
	if rec := s.cache.get(key); rec != nil {
		return rec, nil
	}
	gen := s.cache.generation()
	var rec *Record
	err := s.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketRecords).Get([]byte(key))
		if raw == nil {
			return nil
		}
		rec = &Record{}
		return json.Unmarshal(raw, rec)
	})
	if rec != nil && err == nil {
		s.cache.put(key, rec, gen)
		cp := *rec
		return &cp, nil
	}
	return rec, err
}

// PutRecord stores rec and its layer-chain entries, and journals that the
// search index must follow (see Unsynced).
func (s *Store) PutRecord(rec *Record) error {
	raw, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	defer s.cache.drop(rec.Key()) // after the commit, so no reader caches the old one
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := deleteChains(tx, rec.Key()); err != nil {
			return err
		}
		if err := tx.Bucket(bucketRecords).Put([]byte(rec.Key()), raw); err != nil {
			return err
		}
		if err := journal(tx, rec.Key()); err != nil {
			return err
		}
		return putChains(tx, rec)
	})
}

// DeleteRecord removes the record for key and its relations.
func (s *Store) DeleteRecord(key string) error {
	defer s.cache.drop(key)
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := deleteChains(tx, key); err != nil {
			return err
		}
		if err := journal(tx, key); err != nil {
			return err
		}
		return tx.Bucket(bucketRecords).Delete([]byte(key))
	})
}

// Records calls fn for every record, in key order, optionally only those
// of one repository.
func (s *Store) Records(repo string, fn func(*Record) error) error {
	prefix := []byte{}
	if repo != "" {
		prefix = []byte(repo + "@")
	}
	return s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRecords).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var rec Record
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("corrupt record %s: %w", k, err)
			}
			if err := fn(&rec); err != nil {
				return err
			}
		}
		return nil
	})
}

// chainHash names the first n layers of an image.
func chainHash(layers []Layer, n int) string {
	h := sha256.New()
	for _, l := range layers[:n] {
		h.Write([]byte(l.Digest))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func putChains(tx *bolt.Tx, rec *Record) error {
	if rec.Kind != KindImage || len(rec.Layers) == 0 {
		return nil
	}
	key := rec.Key()
	if err := tx.Bucket(bucketChains).Put(join(chainHash(rec.Layers, len(rec.Layers)), key), nil); err != nil {
		return err
	}
	for n := 1; n <= len(rec.Layers); n++ {
		if err := tx.Bucket(bucketPrefixes).Put(join(chainHash(rec.Layers, n), key), nil); err != nil {
			return err
		}
	}
	return nil
}

func deleteChains(tx *bolt.Tx, key string) error {
	raw := tx.Bucket(bucketRecords).Get([]byte(key))
	if raw == nil {
		return nil
	}
	var old Record
	if err := json.Unmarshal(raw, &old); err != nil || old.Kind != KindImage || len(old.Layers) == 0 {
		return nil //nolint:nilerr // a corrupt record has no chains to remove
	}
	if err := tx.Bucket(bucketChains).Delete(join(chainHash(old.Layers, len(old.Layers)), key)); err != nil {
		return err
	}
	for n := 1; n <= len(old.Layers); n++ {
		if err := tx.Bucket(bucketPrefixes).Delete(join(chainHash(old.Layers, n), key)); err != nil {
			return err
		}
	}
	return nil
}

func keysWithPrefix(tx *bolt.Tx, bucket []byte, prefix string) []string {
	var keys []string
	p := append([]byte(prefix), 0)
	c := tx.Bucket(bucket).Cursor()
	for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
		keys = append(keys, string(k[len(p):]))
	}
	return keys
}

// BasesByLayers returns the images whose whole layer list is a strict
// prefix of layers: the images this one was built on.
func (s *Store) BasesByLayers(layers []Layer) ([]string, error) {
	var keys []string
	err := s.db.View(func(tx *bolt.Tx) error {
		for n := 1; n < len(layers); n++ {
			keys = append(keys, keysWithPrefix(tx, bucketChains, chainHash(layers, n))...)
		}
		return nil
	})
	return keys, err
}

// DerivedByLayers returns the images whose layers start with all of layers
// and add more: the images built on this one.
func (s *Store) DerivedByLayers(layers []Layer) ([]string, error) {
	if len(layers) == 0 {
		return nil, nil
	}
	var keys []string
	err := s.db.View(func(tx *bolt.Tx) error {
		h := chainHash(layers, len(layers))
		same := map[string]bool{}
		for _, k := range keysWithPrefix(tx, bucketChains, h) {
			same[k] = true
		}
		for _, k := range keysWithPrefix(tx, bucketPrefixes, h) {
			if !same[k] {
				keys = append(keys, k)
			}
		}
		return nil
	})
	return keys, err
}

// LayerFacts returns cached facts for a layer digest, if any.
func (s *Store) LayerFacts(layerDigest string) (*LayerFacts, error) {
	var facts *LayerFacts
	err := s.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketLayers).Get([]byte(layerCacheVersion + ":" + layerDigest))
		if raw == nil {
			return nil
		}
		facts = &LayerFacts{}
		return json.Unmarshal(raw, facts)
	})
	return facts, err
}

// PutLayerFacts caches what a layer holds.
func (s *Store) PutLayerFacts(layerDigest string, facts LayerFacts) error {
	raw, err := json.Marshal(facts)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketLayers).Put([]byte(layerCacheVersion+":"+layerDigest), raw)
	})
}

// SetReferrer records that referrer (in repo) has subject as its subject.
func (s *Store) SetReferrer(repo, subject string, ref Referrer) error {
	raw, err := json.Marshal(ref)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSubjects).Put(join(repo, subject, ref.Digest), raw)
	})
}

// DeleteReferrer forgets a referrer of subject.
func (s *Store) DeleteReferrer(repo, subject, referrer string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSubjects).Delete(join(repo, subject, referrer))
	})
}

// Referrers lists the referrers of subject in repo.
func (s *Store) Referrers(repo, subject string) ([]Referrer, error) {
	var out []Referrer
	err := s.db.View(func(tx *bolt.Tx) error {
		p := append(join(repo, subject), 0)
		c := tx.Bucket(bucketSubjects).Cursor()
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			var r Referrer
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// AddPulls adds counted pulls to each key's total, in one transaction (pulls
// are counted in memory and flushed now and then, not written per request).
func (s *Store) AddPulls(counts map[string]uint64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPulls)
		for key, add := range counts {
			var n uint64
			if raw := b.Get([]byte(key)); len(raw) > 0 {
				fmt.Sscan(string(raw), &n)
			}
			if err := b.Put([]byte(key), []byte(fmt.Sprint(n+add))); err != nil {
				return err
			}
		}
		return nil
	})
}

// Pulls returns key's pull count.
func (s *Store) Pulls(key string) (uint64, error) {
	var n uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		if raw := tx.Bucket(bucketPulls).Get([]byte(key)); len(raw) > 0 {
			_, err := fmt.Sscan(string(raw), &n)
			return err
		}
		return nil
	})
	return n, err
}

// RepositoryNames lists the repositories that have records, in order,
// reading keys only.
func (s *Store) RepositoryNames() ([]string, error) {
	var names []string
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRecords).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			repo, _, _ := strings.Cut(string(k), "@")
			if len(names) == 0 || names[len(names)-1] != repo {
				names = append(names, repo)
			}
		}
		return nil
	})
	return names, err
}

// Count returns how many records the store holds.
func (s *Store) Count() (int, error) {
	var n int
	err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketRecords).Stats().KeyN
		return nil
	})
	return n, err
}

// journal notes, in the transaction that changes a record, that the search
// index has yet to be told: a crash before the index has the change on
// disk would otherwise leave the two apart for good (a later identical
// record is not written again).
func journal(tx *bolt.Tx, key string) error {
	return tx.Bucket(bucketUnsynced).Put([]byte(key), []byte(strconv.FormatInt(time.Now().UnixNano(), 10)))
}

// Unsynced lists the keys journalled before the given time.
func (s *Store) Unsynced(before time.Time) ([]string, error) {
	var keys []string
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketUnsynced).ForEach(func(k, v []byte) error {
			if at, err := strconv.ParseInt(string(v), 10, 64); err != nil || at < before.UnixNano() {
				keys = append(keys, string(k))
			}
			return nil
		})
	})
	return keys, err
}

// Synced clears journal entries once the search index surely has them.
func (s *Store) Synced(keys []string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, k := range keys {
			if err := tx.Bucket(bucketUnsynced).Delete([]byte(k)); err != nil {
				return err
			}
		}
		return nil
	})
}

// TaggedRefs turns record keys into references to those records that have
// a tag, naming their first tag: untagged manifests sharing layers (an
// image whose tag moved on, say) are not worth a link.
func (s *Store) TaggedRefs(keys []string, via string) ([]ImageRef, error) {
	var refs []ImageRef
	for _, k := range keys {
		rec, err := s.Record(k)
		if err != nil {
			return refs, err
		}
		if rec != nil && len(rec.Tags) > 0 {
			refs = append(refs, ImageRef{Repository: rec.Repository, Digest: rec.Digest, Tag: rec.Tags[0], Via: via})
		}
	}
	return refs, nil
}
