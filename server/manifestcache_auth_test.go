package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/oyster-registry/oyster/config"
)

// TestManifestCacheAfterAuthorization warms the cache with an allowed pull
// from a private namespace, then asks again without a token and with a
// token that may not pull: both are refused, by tag and by digest.
func TestManifestCacheAfterAuthorization(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("admin-pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	bobHash, _ := bcrypt.GenerateFromPassword([]byte("bob-pw"), bcrypt.MinCost)
	htpasswd := filepath.Join(t.TempDir(), "htpasswd")
	if err := os.WriteFile(htpasswd, []byte("admin:"+string(hash)+"\nbob:"+string(bobHash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ts, _ := startServer(t, func(c *config.Config) {
		c.Auth.Htpasswd.Path = htpasswd
		c.Auth.PrivateNamespaces = []string{"secret"}
		c.Catalog.Enabled = false
	})
	token := func(user, pw, scope string) string {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/auth/token?"+url.Values{"service": {"oyster"}, "scope": {scope}}.Encode(), nil)
		req.SetBasicAuth(user, pw)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct{ Token string }
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Token == "" {
			t.Fatalf("token for %s: %d %v", user, resp.StatusCode, err)
		}
		return body.Token
	}
	admin := "Bearer " + token("admin", "admin-pw", "repository:secret/data:pull,push")
	bob := "Bearer " + token("bob", "bob-pw", "repository:secret/data:pull")

	cfg := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	post := do(t, http.MethodPost, ts.URL+"/v2/secret/data/blobs/uploads/", nil, "Authorization", admin)
	if r := do(t, http.MethodPut, post.header.Get("Location")+"&digest="+digestOf(cfg), cfg,
		"Authorization", admin, "Content-Type", "application/octet-stream"); r.status != http.StatusCreated {
		t.Fatalf("blob push: %d %s", r.status, r.body)
	}
	m, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": ociManifestType, "layers": []any{},
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digestOf(cfg), "size": len(cfg)},
	})
	if r := do(t, http.MethodPut, ts.URL+"/v2/secret/data/manifests/1", m, "Authorization", admin, "Content-Type", ociManifestType); r.status != http.StatusCreated {
		t.Fatalf("manifest push: %d %s", r.status, r.body)
	}
	for _, ref := range []string{"1", digestOf(m)} {
		u := ts.URL + "/v2/secret/data/manifests/" + ref
		expectManifest(t, "admin warming "+ref, do(t, http.MethodGet, u, nil, "Authorization", admin, "Accept", ociManifestType), m)
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			for who, headers := range map[string][]string{"anonymous": {"Accept", ociManifestType}, "bob": {"Accept", ociManifestType, "Authorization", bob}} {
				if r := do(t, method, u, nil, headers...); r.status != http.StatusUnauthorized {
					t.Errorf("%s %s %s after the cache was warmed: %d, want 401", who, method, ref, r.status)
				}
			}
		}
	}
}
