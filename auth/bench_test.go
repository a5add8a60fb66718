package auth

import (
	"net/http"
	"net/http/httptest"
	"testing"
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
