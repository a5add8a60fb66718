package auth

import (
	"container/list"
	"sync"
	"time"
)

// identityCache remembers checked OIDC access tokens, by their sha256,
// until an expiry the caller picks: a client sends the same token on
// every request, and introspection is a round trip to the provider. It
// holds at most max entries, dropping the least recently used; refusals
// are never cached, so a token refused once is asked about again.
type identityCache struct {
	mu      sync.Mutex
	max     int
	entries map[[32]byte]*list.Element
	lru     *list.List // front: most recently used
	stats   CacheStats
}

// CacheStats count what the OIDC token cache did.
type CacheStats struct {
	Hits, Misses, Evictions uint64
	Entries                 int
}

type cachedIdentity struct {
	key     [32]byte
	id      Identity
	expires time.Time
}

func newIdentityCache(max int) *identityCache {
	return &identityCache{max: max, entries: map[[32]byte]*list.Element{}, lru: list.New()}
}

func (c *identityCache) get(key [32]byte, now time.Time) (Identity, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if ok && now.Before(el.Value.(*cachedIdentity).expires) {
		c.stats.Hits++
		c.lru.MoveToFront(el)
		return el.Value.(*cachedIdentity).id, true
	}
	if ok {
		c.remove(el)
	}
	c.stats.Misses++
	return Identity{}, false
}

func (c *identityCache) put(key [32]byte, id Identity, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		c.remove(el)
	}
	c.entries[key] = c.lru.PushFront(&cachedIdentity{key: key, id: id, expires: expires})
	for c.lru.Len() > c.max {
		c.remove(c.lru.Back())
		c.stats.Evictions++
	}
}

func (c *identityCache) remove(el *list.Element) {
	delete(c.entries, el.Value.(*cachedIdentity).key)
	c.lru.Remove(el)
}

func (c *identityCache) snapshot() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Entries = c.lru.Len()
	return s
}
