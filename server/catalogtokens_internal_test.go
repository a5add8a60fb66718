package server

import (
	"fmt"
	"testing"
	"time"

	"github.com/oyster-registry/oyster/auth"
)

// TestTokenIdentitiesAreBounded: identities expire with their tokens,
// and past maxCatalogTokens the oldest go first.
func TestTokenIdentitiesAreBounded(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ids := newTokenIdentities(time.Minute)
	ids.now = func() time.Time { return now }
	for i := range maxCatalogTokens + 1 {
		ids.put(fmt.Sprint("token-", i), auth.Identity{Name: fmt.Sprint("user-", i)})
	}
	if _, ok := ids.get("token-0"); ok {
		t.Error("the oldest identity was kept past the bound")
	}
	if id, ok := ids.get("token-1"); !ok || id.Name != "user-1" {
		t.Errorf("token-1: %v %v", id, ok)
	}
	if len(ids.m) != maxCatalogTokens || len(ids.order) != maxCatalogTokens {
		t.Errorf("%d identities, %d in order; want %d", len(ids.m), len(ids.order), maxCatalogTokens)
	}
	now = now.Add(2 * time.Minute)
	if _, ok := ids.get("token-5"); ok {
		t.Error("an expired token still names its identity")
	}
	ids.put("fresh", auth.Identity{Name: "late"})
	if len(ids.m) != 1 {
		t.Errorf("expired identities kept after a put: %d", len(ids.m))
	}
}
