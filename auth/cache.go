package auth

import (
	"sync"
	"time"
)

// maxVerified bounds the verified-token cache; past it, expired entries
// go, and if none had, everything does.
const maxVerified = 10000

// verifiedTokens remembers tokens whose signature and claims were checked,
// until they expire: a client sends the same token on every request of a
// pull, and an ECDSA verification costs far more than the request it
// guards (85 µs against a HEAD's few dozen; auth/bench_test.go).
type verifiedTokens struct {
	mu     sync.RWMutex
	claims map[string]Claims
}

func (v *verifiedTokens) get(token string, now time.Time) (Claims, bool) {
	v.mu.RLock()
	c, ok := v.claims[token]
	v.mu.RUnlock()
	if !ok || now.Unix() >= c.ExpiresAt || now.Unix() < c.NotBefore {
		return Claims{}, false
	}
	return c, true
}

func (v *verifiedTokens) put(token string, c Claims, now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.claims == nil {
		v.claims = map[string]Claims{}
	}
	if len(v.claims) >= maxVerified {
		for t, old := range v.claims {
			if now.Unix() >= old.ExpiresAt {
				delete(v.claims, t)
			}
		}
		if len(v.claims) >= maxVerified {
			clear(v.claims)
		}
	}
	v.claims[token] = c
}
