package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/oyster-registry/oyster/auth/oidctest"
)

// BenchmarkAuthorize is the cost auth adds to one /v2/ request: a pull
// with a bearer token, and an anonymous pull of a public repository.
func BenchmarkAuthorize(b *testing.B) {
	f := newFixture(b, nil)
	_, token := f.login(b, "alice", passwords["alice"], "repository:alice/tools:pull")
	access := []Access{pull("alice/tools")}
	b.Run("bearer", func(b *testing.B) {
		r := httptest.NewRequest(http.MethodHead, "/v2/alice/tools/manifests/1", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		for b.Loop() {
			if _, err := f.svc.Authorize(r, access); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("anonymous", func(b *testing.B) {
		r := httptest.NewRequest(http.MethodHead, "/v2/alice/tools/manifests/1", nil)
		for b.Loop() {
			if _, err := f.svc.Authorize(r, access); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkOIDC is the cost of checking an OIDC access token: from the
// cache (every request after the first), a JWT's signature and claims,
// and an introspection round trip to the in-process provider.
func BenchmarkOIDC(b *testing.B) {
	p := startProvider(b)
	f := oidcFixture(b, p, nil)
	ctx := context.Background()
	jwt := p.Token(b, oidctest.Mint{User: "walt"})
	opaque := p.Token(b, oidctest.Mint{User: "walt", Opaque: true})
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			if _, err := f.svc.IdentifyToken(ctx, jwt); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("jwt", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := f.svc.oidc.verifyJWT(ctx, jwt); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("introspection", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := f.svc.oidc.introspect(ctx, opaque, f.clock.t); err != nil {
				b.Fatal(err)
			}
		}
	})
}
