// Package state is the catalog's state store: records and what is derived
// from them (the tag index, layer chains for base and derived images, index
// children, pull counts, the search journal) and the caches behind them (a
// decoded-record cache, the layer-facts cache), in one bbolt file. It
// implements catalog.Store and extract.LayerCache; package statetest holds
// the suite any catalog.Store must pass.
package state

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	bolt "go.etcd.io/bbolt"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/scan"
	"github.com/oyster-registry/oyster/internal/boltdb"
)

// Buckets of the store. Everything in it is derived from registry storage
// and can be rebuilt by a reindex.
var (
	bucketRecords  = []byte("records")  // repo@digest → Record
	bucketTags     = []byte("tags")     // repo \0 tag → digest whose record has the tag
	bucketChains   = []byte("chains")   // chain hash \0 repo@digest: images whose layers are exactly that chain
	bucketPrefixes = []byte("prefixes") // chain hash \0 repo@digest: images whose layers start with that chain
	bucketParents  = []byte("parents")  // child repo@digest \0 index repo@digest
	bucketLayers   = []byte("layers")   // scanner version + layer digest → scan.LayerFacts
	bucketPulls    = []byte("pulls")    // repo@digest → pull count
	bucketUnsynced = []byte("unsynced") // repo@digest → when its search-index update was journalled
	bucketIndexing = []byte("indexing") // repo@digest → indexing attempts begun and not finished
	bucketMeta     = []byte("meta")     // keyLayout → layoutVersion
	allBuckets     = [][]byte{bucketRecords, bucketTags, bucketChains, bucketPrefixes, bucketParents, bucketLayers, bucketPulls, bucketUnsynced, bucketIndexing, bucketMeta}

	// relationBuckets are rebuilt from the records whenever they change.
	relationBuckets = [][]byte{bucketTags, bucketChains, bucketPrefixes, bucketParents}
)

// layerCacheVersion prefixes cached layer facts; bump it when ScanLayer
// learns to find more, or keeps less, so old entries are read again. v2:
// problems and packages within a catalog.Budget.
const layerCacheVersion = "v2"

// Store keeps records and the caches behind them in a bbolt file.
type Store struct {
	db *bolt.DB
	// records caches decoded records; a cached record is shared, so it is
	// copied before it is handed out.
	records *cache[catalog.Ref, *catalog.Record]
	// tags caches each repository's part of the tag index, tag → digest.
	tags *cache[string, map[string]digest.Digest]
}

var _ catalog.Store = (*Store)(nil)

// Open opens or creates the state store at path. It does not fsync:
// everything here is derived from registry storage, a process crash loses
// nothing (the OS has the pages), and what a power loss loses the start-up
// reconcile rebuilds. Syncing would cost every indexed image milliseconds.
func Open(path string) (*Store, error) {
	db, err := boltdb.Open(path, boltdb.Options{What: "catalog store", NoSync: true, Buckets: allBuckets})
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, records: newCache[catalog.Ref, *catalog.Record](maxCachedRecords, maxCachedRecordBytes),
		tags: newCache[string, map[string]digest.Digest](maxCachedRepos, noCostBound)}
	if err := s.upgrade(); err != nil {
		db.Close()
		return nil, fmt.Errorf("upgrading catalog store %s: %w", path, err)
	}
	return s, nil
}

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

// Reset drops every record and relation but keeps the layer cache, which
// depends only on layer content, and pull counts.
func (s *Store) Reset() error {
	defer s.records.clear()
	defer s.tags.clear()
	return s.db.Update(func(tx *bolt.Tx) error {
		return recreate(tx, append([][]byte{bucketRecords, bucketUnsynced}, relationBuckets...)...)
	})
}

// ResetKeeping is Reset but for the records keep selects, which stay with
// their relations. keep sees one record at a time, and the kept ones are
// copied inside the store, never held in memory: they may be many and
// each up to a budget's size.
func (s *Store) ResetKeeping(keep func(*catalog.Record) bool) error {
	defer s.records.clear()
	defer s.tags.clear()
	kept := []byte("records-kept")
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := recreate(tx, append([][]byte{bucketUnsynced}, relationBuckets...)...); err != nil {
			return err
		}
		aside, err := tx.CreateBucket(kept)
		if err != nil {
			return err
		}
		err = tx.Bucket(bucketRecords).ForEach(func(k, v []byte) error {
			var rec catalog.Record
			if json.Unmarshal(v, &rec) != nil || !keep(&rec) {
				return nil
			}
			if err := putRelations(tx, &rec); err != nil {
				return err
			}
			return aside.Put(k, v)
		})
		if err != nil {
			return err
		}
		if err := recreate(tx, bucketRecords); err != nil {
			return err
		}
		records := tx.Bucket(bucketRecords)
		if err := aside.ForEach(records.Put); err != nil {
			return err
		}
		return tx.DeleteBucket(kept)
	})
}

func recreate(tx *bolt.Tx, buckets ...[]byte) error {
	for _, b := range buckets {
		if err := tx.DeleteBucket(b); err != nil {
			return err
		}
		if _, err := tx.CreateBucket(b); err != nil {
			return err
		}
	}
	return nil
}

func join(parts ...string) []byte { return []byte(strings.Join(parts, "\x00")) }

func key(ref catalog.Ref) []byte { return []byte(ref.String()) }

// Record returns the record of ref, or nil.
func (s *Store) Record(ref catalog.Ref) (*catalog.Record, error) {
	if rec, ok := s.records.get(ref); ok {
		cp := *rec
		return &cp, nil
	}
	gen := s.records.generation()
	var rec *catalog.Record
	var size int64
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		size = int64(len(tx.Bucket(bucketRecords).Get(key(ref))))
		rec, err = getRecord(tx, ref)
		return err
	})
	if rec != nil && err == nil {
		s.records.put(ref, rec, gen, size)
		cp := *rec
		return &cp, nil
	}
	return rec, err
}

func getRecord(tx *bolt.Tx, ref catalog.Ref) (*catalog.Record, error) {
	raw := tx.Bucket(bucketRecords).Get(key(ref))
	if raw == nil {
		return nil, nil
	}
	rec := &catalog.Record{}
	if err := json.Unmarshal(raw, rec); err != nil {
		return nil, fmt.Errorf("corrupt record %s: %w", ref, err)
	}
	return rec, nil
}

// PutRecord stores rec with its tags and relations, and journals that the
// search index must follow (see Unsynced).
func (s *Store) PutRecord(rec *catalog.Record) error {
	raw, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	ref := rec.Ref()
	defer s.forget(ref) // after the commit, so no reader caches the old one
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := deleteRelations(tx, ref); err != nil {
			return err
		}
		if err := tx.Bucket(bucketRecords).Put(key(ref), raw); err != nil {
			return err
		}
		if err := journal(tx, ref); err != nil {
			return err
		}
		return putRelations(tx, rec)
	})
}

// DeleteRecord removes the record of ref and its relations.
func (s *Store) DeleteRecord(ref catalog.Ref) error {
	defer s.forget(ref)
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := deleteRelations(tx, ref); err != nil {
			return err
		}
		if err := journal(tx, ref); err != nil {
			return err
		}
		return tx.Bucket(bucketRecords).Delete(key(ref))
	})
}

// forget drops what the caches hold of ref: its record and its
// repository's tags.
func (s *Store) forget(ref catalog.Ref) {
	s.records.drop(ref)
	s.tags.drop(ref.Repo)
}

// Records calls fn for every record, in key order, optionally only those
// of one repository.
func (s *Store) Records(repo string, fn func(*catalog.Record) error) error {
	prefix := []byte{}
	if repo != "" {
		prefix = []byte(repo + "@")
	}
	return s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRecords).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var rec catalog.Record
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

// RepositoryNames lists the repositories that have records, by name,
// reading keys only. A repository's keys are contiguous ("@" is in no
// repository name), though not in name order ("a-b@" sorts before "a@").
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
	sort.Strings(names)
	return names, err
}

// Tag resolves repo:tag through the tag index.
func (s *Store) Tag(repo, tag string) (digest.Digest, error) {
	tags, err := s.tagIndex(repo)
	return tags[tag], err
}

// tagIndex is repo's part of the tag index, tag → digest, read in one go
// and cached: the hub resolves every tag it offers. Callers must not
// change it.
func (s *Store) tagIndex(repo string) (map[string]digest.Digest, error) {
	if tags, ok := s.tags.get(repo); ok {
		return tags, nil
	}
	gen := s.tags.generation()
	tags := map[string]digest.Digest{}
	err := s.db.View(func(tx *bolt.Tx) error {
		p := append(join(repo), 0)
		c := tx.Bucket(bucketTags).Cursor()
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			tags[string(k[len(p):])] = digest.Digest(v)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.tags.put(repo, tags, gen, 0)
	return tags, nil
}

// RepositoryTags resolves repo's tags through the tag index and reads only
// the records they point at (through the record cache); the untagged ones
// are counted from keys alone.
func (s *Store) RepositoryTags(repo string) ([]catalog.TaggedRecord, int, error) {
	tags, err := s.tagIndex(repo)
	if err != nil {
		return nil, 0, err
	}
	out := make([]catalog.TaggedRecord, 0, len(tags))
	tagged := map[digest.Digest]bool{}
	for tag, d := range tags {
		rec, err := s.Record(catalog.Ref{Repo: repo, Digest: d})
		if err != nil {
			return nil, 0, err
		}
		if rec != nil {
			tagged[d] = true
			out = append(out, catalog.TaggedRecord{Tag: tag, Record: rec})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !a.Record.Updated.Equal(b.Record.Updated) {
			return a.Record.Updated.After(b.Record.Updated)
		}
		return a.Tag < b.Tag
	})
	untagged := 0
	err = s.repositoryKeys(repo, func(ref catalog.Ref) {
		if !tagged[ref.Digest] {
			untagged++
		}
	})
	return out, untagged, err
}

// repositoryKeys calls fn with the ref of every record of repo, reading
// keys only.
func (s *Store) repositoryKeys(repo string, fn func(catalog.Ref)) error {
	prefix := []byte(repo + "@")
	return s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRecords).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			fn(catalog.Ref{Repo: repo, Digest: digest.Digest(k[len(prefix):])})
		}
		return nil
	})
}

// NameTags sets each empty Tag of refs to its record's first tag.
func (s *Store) NameTags(refs []catalog.ImageRef) ([]catalog.ImageRef, error) {
	out := make([]catalog.ImageRef, len(refs))
	for i, ref := range refs {
		out[i] = ref
		if ref.Tag != "" {
			continue
		}
		rec, err := s.Record(catalog.Ref{Repo: ref.Repository, Digest: ref.Digest})
		if err != nil {
			return nil, err
		}
		if rec != nil && len(rec.Tags) > 0 {
			out[i].Tag = rec.Tags[0]
		}
	}
	return out, nil
}

// putRelations indexes what rec says about other keys: its tags, its layer
// chains, its children.
func putRelations(tx *bolt.Tx, rec *catalog.Record) error {
	k := rec.Ref().String()
	for _, tag := range rec.Tags {
		if err := tx.Bucket(bucketTags).Put(join(rec.Repository, tag), []byte(rec.Digest)); err != nil {
			return err
		}
	}
	for _, c := range rec.Children {
		child := catalog.Ref{Repo: rec.Repository, Digest: c.Digest}
		if err := tx.Bucket(bucketParents).Put(join(child.String(), k), nil); err != nil {
			return err
		}
	}
	if rec.Kind != catalog.KindImage || len(rec.Layers) == 0 {
		return nil
	}
	if err := tx.Bucket(bucketChains).Put(join(chainHash(rec.Layers, len(rec.Layers)), k), nil); err != nil {
		return err
	}
	for n := 1; n <= len(rec.Layers); n++ {
		if err := tx.Bucket(bucketPrefixes).Put(join(chainHash(rec.Layers, n), k), nil); err != nil {
			return err
		}
	}
	return nil
}

// deleteRelations undoes putRelations for the stored record of ref. A tag
// is dropped only while it still names ref: another record may have taken
// it since.
func deleteRelations(tx *bolt.Tx, ref catalog.Ref) error {
	old, err := getRecord(tx, ref)
	if err != nil || old == nil {
		return nil //nolint:nilerr // a corrupt record has no relations to remove
	}
	k := ref.String()
	tags := tx.Bucket(bucketTags)
	for _, tag := range old.Tags {
		if tk := join(old.Repository, tag); string(tags.Get(tk)) == string(old.Digest) {
			if err := tags.Delete(tk); err != nil {
				return err
			}
		}
	}
	for _, c := range old.Children {
		child := catalog.Ref{Repo: old.Repository, Digest: c.Digest}
		if err := tx.Bucket(bucketParents).Delete(join(child.String(), k)); err != nil {
			return err
		}
	}
	if old.Kind != catalog.KindImage || len(old.Layers) == 0 {
		return nil
	}
	if err := tx.Bucket(bucketChains).Delete(join(chainHash(old.Layers, len(old.Layers)), k)); err != nil {
		return err
	}
	for n := 1; n <= len(old.Layers); n++ {
		if err := tx.Bucket(bucketPrefixes).Delete(join(chainHash(old.Layers, n), k)); err != nil {
			return err
		}
	}
	return nil
}

// chainHash names the first n layers of an image.
func chainHash(layers []catalog.Layer, n int) string {
	h := sha256.New()
	for _, l := range layers[:n] {
		h.Write([]byte(l.Digest))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// refsWithPrefix lists the refs stored after prefix \0 in bucket.
func refsWithPrefix(tx *bolt.Tx, bucket []byte, prefix string) ([]catalog.Ref, error) {
	var refs []catalog.Ref
	p := append([]byte(prefix), 0)
	c := tx.Bucket(bucket).Cursor()
	for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
		ref, err := catalog.ParseRef(string(k[len(p):]))
		if err != nil {
			return refs, fmt.Errorf("corrupt %s entry: %w", bucket, err)
		}
		refs = append(refs, ref)
	}
	return refs, nil
}

// BaseImages returns the tagged images whose whole layer list is a strict
// prefix of layers: the images this one was built on.
func (s *Store) BaseImages(layers []catalog.Layer) ([]catalog.ImageRef, error) {
	var refs []catalog.Ref
	err := s.db.View(func(tx *bolt.Tx) error {
		for n := 1; n < len(layers); n++ {
			found, err := refsWithPrefix(tx, bucketChains, chainHash(layers, n))
			if err != nil {
				return err
			}
			refs = append(refs, found...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.taggedImages(refs)
}

// DerivedImages returns the tagged images whose layers start with all of
// layers and add more: the images built on this one.
func (s *Store) DerivedImages(layers []catalog.Layer) ([]catalog.ImageRef, error) {
	refs, err := s.BuiltOn(layers)
	if err != nil {
		return nil, err
	}
	return s.taggedImages(refs)
}

// BuiltOn returns every image whose layers start with all of layers and
// add more.
func (s *Store) BuiltOn(layers []catalog.Layer) ([]catalog.Ref, error) {
	if len(layers) == 0 {
		return nil, nil
	}
	var refs []catalog.Ref
	err := s.db.View(func(tx *bolt.Tx) error {
		h := chainHash(layers, len(layers))
		same, err := refsWithPrefix(tx, bucketChains, h)
		if err != nil {
			return err
		}
		longer, err := refsWithPrefix(tx, bucketPrefixes, h)
		for _, r := range longer {
			if !contains(same, r) {
				refs = append(refs, r)
			}
		}
		return err
	})
	return refs, err
}

func contains(refs []catalog.Ref, r catalog.Ref) bool {
	for _, x := range refs {
		if x == r {
			return true
		}
	}
	return false
}

// taggedImages turns refs into references to those records that have a
// tag, naming their first tag: untagged manifests sharing layers (an image
// whose tag moved on, say) are not worth a link.
func (s *Store) taggedImages(refs []catalog.Ref) ([]catalog.ImageRef, error) {
	var out []catalog.ImageRef
	for _, r := range refs {
		rec, err := s.Record(r)
		if err != nil {
			return out, err
		}
		if rec != nil && len(rec.Tags) > 0 {
			out = append(out, catalog.ImageRef{Repository: rec.Repository, Digest: rec.Digest, Tag: rec.Tags[0], Via: catalog.ViaLayers})
		}
	}
	return out, nil
}

// Parents lists the image indexes that have child among their manifests.
func (s *Store) Parents(child catalog.Ref) ([]catalog.Ref, error) {
	var refs []catalog.Ref
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		refs, err = refsWithPrefix(tx, bucketParents, child.String())
		return err
	})
	return refs, err
}

// LayerFacts returns cached facts for a layer digest, if any.
func (s *Store) LayerFacts(layer digest.Digest) (*scan.LayerFacts, error) {
	var facts *scan.LayerFacts
	err := s.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketLayers).Get([]byte(layerCacheVersion + ":" + string(layer)))
		if raw == nil {
			return nil
		}
		facts = &scan.LayerFacts{}
		return json.Unmarshal(raw, facts)
	})
	return facts, err
}

// PutLayerFacts caches what a layer holds.
func (s *Store) PutLayerFacts(layer digest.Digest, facts scan.LayerFacts) error {
	raw, err := json.Marshal(facts)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketLayers).Put([]byte(layerCacheVersion+":"+string(layer)), raw)
	})
}

// journal notes, in the transaction that changes a record, that the search
// index has yet to be told: a crash before the index has the change on
// disk would otherwise leave the two apart for good (a later identical
// record is not written again).
func journal(tx *bolt.Tx, ref catalog.Ref) error {
	return tx.Bucket(bucketUnsynced).Put(key(ref), []byte(strconv.FormatInt(time.Now().UnixNano(), 10)))
}

// Unsynced lists the refs journalled before the given time.
func (s *Store) Unsynced(before time.Time) ([]catalog.Ref, error) {
	var refs []catalog.Ref
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketUnsynced).ForEach(func(k, v []byte) error {
			if at, err := strconv.ParseInt(string(v), 10, 64); err != nil || at < before.UnixNano() {
				ref, err := catalog.ParseRef(string(k))
				if err != nil {
					return fmt.Errorf("corrupt journal entry: %w", err)
				}
				refs = append(refs, ref)
			}
			return nil
		})
	})
	return refs, err
}

// Synced clears journal entries once the search index surely has them.
func (s *Store) Synced(refs []catalog.Ref) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, r := range refs {
			if err := tx.Bucket(bucketUnsynced).Delete(key(r)); err != nil {
				return err
			}
		}
		return nil
	})
}
