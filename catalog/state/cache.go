package state

import (
	"sync"

	"github.com/oyster-registry/oyster/catalog"
)

// maxCachedRecords bounds the decoded records kept in memory: the hub and
// the UI read the same few thousand records over and over, and decoding a
// record with a thousand packages costs far more than serving it.
const maxCachedRecords = 10000

// recordCache keeps decoded records by key. The store drops an entry on
// every write of that key, so the cache never serves a stale record.
type recordCache struct {
	mu sync.Mutex
	m  map[catalog.Ref]*catalog.Record
	// gen counts invalidations; a record read from the store is cached only
	// if none happened while it was read, so a reader racing a writer never
	// caches what the writer just replaced.
	gen uint64
}

// generation is taken before reading the store, for put.
func (c *recordCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// get returns a shallow copy, so callers can set fields freely.
func (c *recordCache) get(key catalog.Ref) *catalog.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	rec := c.m[key]
	if rec == nil {
		return nil
	}
	cp := *rec
	return &cp
}

func (c *recordCache) put(key catalog.Ref, rec *catalog.Record, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.m) >= maxCachedRecords {
		for k := range c.m { // evict an arbitrary entry: map order is random
			delete(c.m, k)
			break
		}
	}
	c.m[key] = rec
}

func (c *recordCache) drop(key catalog.Ref) {
	c.mu.Lock()
	delete(c.m, key)
	c.gen++
	c.mu.Unlock()
}

func (c *recordCache) clear() {
	c.mu.Lock()
	c.m = map[catalog.Ref]*catalog.Record{}
	c.gen++
	c.mu.Unlock()
}
