// Package evict chooses which staged images leave the cache: least
// recently used first, once usage passes the high watermark, until it is
// under the low one. Pinned images and images under a lease never go.
package evict

import (
	"slices"
	"time"
)

// Item is one evictable unit of the cache.
type Item struct {
	Key      string
	Bytes    int64
	LastUsed time.Time
	// Pinned images are wanted by the cluster or the node's config; Leased
	// ones are in use by a job.
	Pinned, Leased bool
}

// Watermarks are usage levels in bytes.
type Watermarks struct{ High, Low int64 }

// Select returns the items to evict, oldest use first, given the cache's
// total usage. Nothing goes while usage is at or below the high mark; if
// what may go does not reach the low mark, all of it goes.
func Select(items []Item, usage int64, w Watermarks) []Item {
	if usage <= w.High {
		return nil
	}
	candidates := slices.DeleteFunc(slices.Clone(items), func(it Item) bool { return it.Pinned || it.Leased })
	slices.SortStableFunc(candidates, func(a, b Item) int { return a.LastUsed.Compare(b.LastUsed) })
	var out []Item
	for _, it := range candidates {
		if usage <= w.Low {
			break
		}
		out = append(out, it)
		usage -= it.Bytes
	}
	return out
}
