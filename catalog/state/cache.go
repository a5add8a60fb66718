package state

import "sync"

// Bounds of the caches: the hub and the UI read the same few thousand
// records over and over, and decoding a record with a thousand packages
// costs far more than serving it; a repository's tags are a few entries.
const (
	maxCachedRecords = 10000
	maxCachedRepos   = 10000
)

// cache keeps values read from the store by key. The store drops an entry
// on every write that changes it, so the cache never serves a stale value.
type cache[K comparable, V any] struct {
	mu  sync.Mutex
	max int
	m   map[K]V
	// gen counts invalidations; a value read from the store is cached only
	// if none happened while it was read, so a reader racing a writer never
	// caches what the writer just replaced.
	gen uint64
}

func newCache[K comparable, V any](max int) *cache[K, V] {
	return &cache[K, V]{max: max, m: map[K]V{}}
}

// generation is taken before reading the store, for put.
func (c *cache[K, V]) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func (c *cache[K, V]) get(key K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[key]
	return v, ok
}

func (c *cache[K, V]) put(key K, v V, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.m) >= c.max {
		for k := range c.m { // evict an arbitrary entry: map order is random
			delete(c.m, k)
			break
		}
	}
	c.m[key] = v
}

func (c *cache[K, V]) drop(key K) {
	c.mu.Lock()
	delete(c.m, key)
	c.gen++
	c.mu.Unlock()
}

func (c *cache[K, V]) clear() {
	c.mu.Lock()
	c.m = map[K]V{}
	c.gen++
	c.mu.Unlock()
}
