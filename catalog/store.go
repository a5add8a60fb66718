package catalog

import (
	"time"

	"github.com/opencontainers/go-digest"
)

// Store keeps the records and what is derived from them: the tag index,
// relations between images, pull counts and the search journal. Everything
// in it can be rebuilt from storage. The state package implements it over
// bbolt; statetest is the suite a second implementation must pass.
//
// Records returned are shared with a cache: callers may set a returned
// record's fields but must not change its slices or maps in place.
type Store interface {
	// Record returns the record of ref, or nil.
	Record(ref Ref) (*Record, error)
	// PutRecord stores rec with its tags and relations, and journals that
	// the search index must follow (see Unsynced).
	PutRecord(rec *Record) error
	// DeleteRecord removes the record of ref, its tags and relations.
	DeleteRecord(ref Ref) error
	// Records calls fn for every record in Ref order, only those of repo
	// unless repo is empty.
	Records(repo string, fn func(*Record) error) error
	// RepositoryNames lists the repositories that have records, in order.
	RepositoryNames() ([]string, error)
	// Tag resolves repo:tag to the digest whose record has that tag; ""
	// when none has.
	Tag(repo, tag string) (digest.Digest, error)
	// RepositoryTags resolves every tag of repo through the tag index to
	// its record, newest first and by tag among equals, and counts the
	// records of repo no tag points at.
	RepositoryTags(repo string) (tags []TaggedRecord, untagged int, err error)
	// NameTags returns refs with each empty Tag set to the first tag of
	// the record it points at, when that record has one.
	NameTags(refs []ImageRef) ([]ImageRef, error)

	// BaseImages are the tagged images whose whole layer list is a strict
	// prefix of layers: what an image with these layers was built on.
	BaseImages(layers []Layer) ([]ImageRef, error)
	// DerivedImages are the tagged images whose layers start with all of
	// layers and add more: what was built on an image with these layers.
	DerivedImages(layers []Layer) ([]ImageRef, error)
	// BuiltOn is every image, tagged or not, that DerivedImages would
	// consider.
	BuiltOn(layers []Layer) ([]Ref, error)
	// Parents are the image indexes that list child among their manifests.
	Parents(child Ref) ([]Ref, error)

	// AddPulls adds counted pulls to each ref's total.
	AddPulls(counts map[Ref]uint64) error
	// Pulls returns ref's pull count.
	Pulls(ref Ref) (uint64, error)
	// MostPulled returns up to n records with the most pulls, most first.
	MostPulled(n int) ([]Pulled, error)

	// Unsynced lists the refs whose change was journalled before the given
	// time and not yet marked Synced.
	Unsynced(before time.Time) ([]Ref, error)
	// Synced clears journal entries once the search index surely has them.
	Synced(refs []Ref) error

	// Reset drops every record, tag and relation; pull counts and caches
	// of layer content stay.
	Reset() error
}

// TaggedRecord is one tag and the record it points at.
type TaggedRecord struct {
	Tag    string
	Record *Record
}

// Pulled is a record and how often it was pulled.
type Pulled struct {
	Record *Record
	Pulls  uint64
}

// SearchIndex is where records go to be found; the search package
// implements it.
type SearchIndex interface {
	Put(rec *Record) error
	PutBatch(recs []*Record) error
	Delete(ref Ref) error
	// Reset drops every document, for a full reindex.
	Reset() error
	// Fresh reports whether the index was created empty at open (missing,
	// or written by another mapping), so that it must be rebuilt.
	Fresh() bool
}
