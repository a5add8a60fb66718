package state

import "sync"

// Bounds of the caches: the hub and the UI read the same few thousand
// records over and over, and decoding a record with a thousand packages
// costs far more than serving it; a repository's tags are a few entries.
// Records are bounded by their encoded bytes too: one may be a budget's
// 32 MiB (catalog.Budget.MaxRecordBytes), and ten thousand of them must
// not stay in memory. A typical record is tens of KiB, so the byte bound
// holds thousands.
const (
	maxCachedRecords     = 10000
	maxCachedRecordBytes = 128 << 20
	maxCachedRepos       = 10000
	noCostBound          = 0
)

// entryShare: an entry costing more than a cache's maxCost/entryShare is
// not cached, so that one huge record never empties the cache.
const entryShare = 16

// cache keeps values read from the store by key. The store drops an entry
// on every write that changes it, so the cache never serves a stale value.
type cache[K comparable, V any] struct {
	mu  sync.Mutex
	max int
	// maxCost bounds the sum of the costs given to put (0: no bound).
	maxCost int64
	cost    int64
	m       map[K]cached[V]
	// gen counts invalidations; a value read from the store is cached only
	// if none happened while it was read, so a reader racing a writer never
	// caches what the writer just replaced.
	gen uint64
}

type cached[V any] struct {
	v    V
	cost int64
}

func newCache[K comparable, V any](max int, maxCost int64) *cache[K, V] {
	return &cache[K, V]{max: max, maxCost: maxCost, m: map[K]cached[V]{}}
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
	e, ok := c.m[key]
	return e.v, ok
}

// put caches v, which costs cost of maxCost, unless a write happened since
// gen or v alone costs more than maxCost/entryShare. Arbitrary entries
// make room (map order is random).
func (c *cache[K, V]) put(key K, v V, gen uint64, cost int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen || (c.maxCost > 0 && cost > c.maxCost/entryShare) {
		return
	}
	c.remove(key)
	for k := range c.m {
		if len(c.m) < c.max && (c.maxCost == 0 || c.cost+cost <= c.maxCost) {
			break
		}
		c.remove(k)
	}
	c.m[key] = cached[V]{v, cost}
	c.cost += cost
}

func (c *cache[K, V]) remove(key K) {
	if e, ok := c.m[key]; ok {
		c.cost -= e.cost
		delete(c.m, key)
	}
}

func (c *cache[K, V]) drop(key K) {
	c.mu.Lock()
	c.remove(key)
	c.gen++
	c.mu.Unlock()
}

func (c *cache[K, V]) clear() {
	c.mu.Lock()
	c.m = map[K]cached[V]{}
	c.cost = 0
	c.gen++
	c.mu.Unlock()
}
