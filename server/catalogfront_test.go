package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/oyster-registry/oyster/auth/authtest"
	"github.com/oyster-registry/oyster/auth/oidctest"
	"github.com/oyster-registry/oyster/config"
)

// TestRegistryCatalogProviderDown: /v2/_catalog with an OIDC token the
// provider can no longer check is 503, not a 401 the caller cannot fix.
func TestRegistryCatalogProviderDown(t *testing.T) {
	p := oidctest.Start(t, oidctest.Options{})
	p.AddUser(oidctest.User{Username: "walt"})
	ts, _ := startServer(t, func(c *config.Config) {
		c.Auth.Htpasswd.Path = authtest.WriteHtpasswd(t, t.TempDir(), map[string]string{"admin": "admin-pw"})
		c.Auth.OIDC.Issuer, c.Auth.OIDC.Audience = p.Issuer, "oyster"
		c.Auth.OIDC.Introspection.ClientID, c.Auth.OIDC.Introspection.ClientSecret = p.IntrospectionClientID, p.IntrospectionSecret
		c.Catalog.Enabled = false
	})
	token := p.Token(t, oidctest.Mint{User: "walt", Opaque: true})
	if r := do(t, http.MethodGet, ts.URL+"/v2/_catalog", nil, "Authorization", "Bearer "+token); r.status != http.StatusOK {
		t.Fatalf("with the provider up: %d %s", r.status, r.body)
	}
	late := p.Token(t, oidctest.Mint{User: "walt", Opaque: true})
	p.Close()
	r := do(t, http.MethodGet, ts.URL+"/v2/_catalog", nil, "Authorization", "Bearer "+late)
	if r.status != http.StatusServiceUnavailable || !strings.Contains(string(r.body), "UNAVAILABLE") {
		t.Errorf("with the provider down: %d %s", r.status, r.body)
	}
}
