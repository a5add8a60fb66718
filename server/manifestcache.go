package server

// The manifest cache.
//
// A manifest GET or HEAD through distribution reads the tag's link file,
// the revision link and the manifest blob from storage, and parses the
// manifest, on every request. The repository middleware sees every write
// that can change those answers (manifest put and delete, tag and untag;
// Oyster has no repository delete, and sha512 aliases are only ever added
// outside it, and removed through it), so it can remember them in memory
// and forget them at the write. Distribution's handler still does the
// Accept negotiation and writes the headers, from the same manifest value
// storage would have given it, so answers are byte-for-byte the same; and
// it runs after authorization, so the cache never answers a caller who may
// not pull.
//
// Only what was found is cached; absence is always asked of storage, so
// content added behind the middleware's back (sha512 alias links) is seen.
// The cache lives in the process: with S3 storage it applies all the same,
// but it is only correct while this process is the only writer.

import (
	"container/list"
	"sync"

	"github.com/distribution/distribution/v3"
	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// entryOverhead approximates the memory an entry costs beyond its payload.
const entryOverhead = 256

type cacheKey struct {
	repo string
	tag  string        // set for a tag -> descriptor entry
	dgst digest.Digest // set for a digest -> manifest entry
}

type cacheEntry struct {
	key      cacheKey
	desc     v1.Descriptor         // of a tag entry
	manifest distribution.Manifest // of a manifest entry; never modified once stored
	size     int64
}

// manifestCache maps tags to descriptors and digests to parsed manifests,
// per repository, in at most maxBytes, evicting the least recently used.
type manifestCache struct {
	maxBytes int64

	mu      sync.Mutex
	bytes   int64
	entries map[cacheKey]*list.Element
	lru     *list.List // front: most recently used
	// generation counts invalidations. A reader notes it before reading
	// storage and stores what it read only if no invalidation happened in
	// between, so a write racing a read never leaves the old value behind.
	generation uint64
}

// newManifestCache returns nil, a cache that holds nothing, when maxBytes
// is not positive.
func newManifestCache(maxBytes int64) *manifestCache {
	if maxBytes <= 0 {
		return nil
	}
	return &manifestCache{maxBytes: maxBytes, entries: map[cacheKey]*list.Element{}, lru: list.New()}
}

// snapshot returns the generation to hand back to a store after a read.
func (c *manifestCache) snapshot() uint64 {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.generation
}

func (c *manifestCache) tag(repo, tag string) (v1.Descriptor, bool) {
	e := c.get(cacheKey{repo: repo, tag: tag})
	if e == nil {
		return v1.Descriptor{}, false
	}
	return e.desc, true
}

func (c *manifestCache) manifest(repo string, dgst digest.Digest) (distribution.Manifest, bool) {
	e := c.get(cacheKey{repo: repo, dgst: dgst})
	if e == nil {
		return nil, false
	}
	return e.manifest, true
}

func (c *manifestCache) get(k cacheKey) *cacheEntry {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[k]
	if !ok {
		return nil
	}
	c.lru.MoveToFront(el)
	return el.Value.(*cacheEntry)
}

func (c *manifestCache) storeTag(generation uint64, repo, tag string, desc v1.Descriptor) {
	size := entryOverhead + int64(len(repo)+len(tag))
	c.store(generation, &cacheEntry{key: cacheKey{repo: repo, tag: tag}, desc: desc, size: size})
}

func (c *manifestCache) storeManifest(generation uint64, repo string, dgst digest.Digest, m distribution.Manifest) {
	_, payload, err := m.Payload()
	if err != nil {
		return
	}
	// The parsed manifest keeps the payload and its decoded fields: count
	// the payload twice.
	size := entryOverhead + int64(len(repo)+2*len(payload))
	c.store(generation, &cacheEntry{key: cacheKey{repo: repo, dgst: dgst}, manifest: m, size: size})
}

func (c *manifestCache) store(generation uint64, e *cacheEntry) {
	if c == nil || e.size > c.maxBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if generation != c.generation {
		return // a write happened since the read: what was read may be old
	}
	if el, ok := c.entries[e.key]; ok {
		c.remove(el)
	}
	c.entries[e.key] = c.lru.PushFront(e)
	c.bytes += e.size
	for c.bytes > c.maxBytes {
		c.remove(c.lru.Back())
	}
}

// forgetTag drops one tag of a repository.
func (c *manifestCache) forgetTag(repo, tag string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.generation++
	if el, ok := c.entries[cacheKey{repo: repo, tag: tag}]; ok {
		c.remove(el)
	}
}

// forgetRepository drops everything cached for a repository. A manifest
// delete uses it: the content may be cached under aliases and tags.
func (c *manifestCache) forgetRepository(repo string) {
	c.forget(func(k cacheKey) bool { return k.repo == repo })
}

func (c *manifestCache) forget(match func(cacheKey) bool) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.generation++
	for k, el := range c.entries {
		if match(k) {
			c.remove(el)
		}
	}
}

func (c *manifestCache) remove(el *list.Element) {
	e := c.lru.Remove(el).(*cacheEntry)
	delete(c.entries, e.key)
	c.bytes -= e.size
}
