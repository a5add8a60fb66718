package e2e

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestRegistryCatalogPerCaller lists /v2/_catalog with crane (logged in
// through the realm, or anonymous) and with Basic credentials as curl
// sends them: each caller sees the repositories they may pull, and only
// those. Namespace secret is private; a robot granted secret:pull owns
// it for listing; admin sees everything.
func TestRegistryCatalogPerCaller(t *testing.T) {
	requireTool(t, "crane")
	reg := startAuthRegistry(t)
	h := reg.Host
	login := func(user, password string) func(args ...string) (string, error) {
		cfg := t.TempDir()
		if user != "" {
			if out, err := runEnv([]string{"DOCKER_CONFIG=" + cfg}, "crane", "auth", "login", h, "-u", user, "-p", password); err != nil {
				t.Fatalf("crane auth login %s: %v\n%s", user, err, out)
			}
		}
		return func(args ...string) (string, error) {
			return runEnv([]string{"DOCKER_CONFIG=" + cfg}, "crane", append(args, "--insecure")...)
		}
	}
	admin := login("admin", authUsers["admin"])
	layer := busyboxLayer(t, t.TempDir(), "catalog")
	for _, repo := range []string{"alice/tools", "bob/tools", "secret/data", "secret/more"} {
		if out, err := admin("append", "--oci-empty-base", "-f", layer, "-t", h+"/"+repo+":1"); err != nil {
			t.Fatalf("admin pushing %s: %v\n%s", repo, err, out)
		}
	}
	robot := robotToken(t, reg, "lab-reader", "secret:pull")
	public := []string{"alice/tools", "bob/tools"}
	all := []string{"alice/tools", "bob/tools", "secret/data", "secret/more"}
	callers := []struct {
		name, user, password string
		want                 []string
	}{
		{"anonymous", "", "", public},
		{"alice", "alice", authUsers["alice"], public},
		{"robot with secret:pull", "lab-reader", robot, all},
		{"admin", "admin", authUsers["admin"], all},
	}
	for _, c := range callers {
		out, err := login(c.user, c.password)("catalog", h)
		if got := strings.Fields(out); err != nil || !slices.Equal(got, c.want) {
			t.Errorf("crane catalog as %s: %v %q, want %q", c.name, err, got, c.want)
		}
		if got := basicCatalog(t, h, c.user, c.password, "", http.StatusOK); !slices.Equal(got, c.want) {
			t.Errorf("GET /v2/_catalog with Basic credentials as %s: %q, want %q", c.name, got, c.want)
		}
	}
	// Pages hold what the caller may see, and the Link goes on after the
	// last repository read.
	if got := basicCatalog(t, h, "", "", "?n=1", http.StatusOK); !slices.Equal(got, public[:1]) {
		t.Errorf("first page of one: %q", got)
	}
	if got := basicCatalog(t, h, "", "", "?n=1&last=alice/tools", http.StatusOK); !slices.Equal(got, public[1:]) {
		t.Errorf("second page of one: %q", got)
	}
	// A registry token issued for something else is sent back to the
	// realm for a catalog token.
	_, pullToken := getToken(t, h, "alice", authUsers["alice"], "repository:alice/tools:pull")
	code, hdr := v2Status(t, http.MethodGet, "http://"+h+"/v2/_catalog", pullToken)
	if challenge := hdr.Get("WWW-Authenticate"); code != http.StatusUnauthorized ||
		!strings.Contains(challenge, `scope="registry:catalog:*"`) || !strings.Contains(challenge, `error="insufficient_scope"`) {
		t.Errorf("_catalog with a pull token: %d %q", code, challenge)
	}
	basicCatalog(t, h, "alice", "wrong", "", http.StatusUnauthorized)
	basicCatalog(t, h, "", "", "?n=1000000", http.StatusBadRequest)
	checkNoSecrets(t, reg, robot, authUsers["alice"])
}

// basicCatalog GETs /v2/_catalog with Basic credentials (none when user
// is empty), wants status, and returns the repositories.
func basicCatalog(t *testing.T, host, user, password, query string, status int) []string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+host+"/v2/_catalog"+query, nil)
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != status {
		t.Fatalf("GET /v2/_catalog%s as %q: %d, want %d", query, user, resp.StatusCode, status)
	}
	var body struct{ Repositories []string }
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return body.Repositories
}
