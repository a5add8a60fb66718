package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// authUsers are the htpasswd users every auth test's registry has.
var authUsers = map[string]string{"admin": "admin-Secret-1", "alice": "alice-Secret-2", "bob": "bob-Secret-3"}

// startAuthRegistry runs a registry with auth on (auth.htpasswd.path set
// through its environment variable), namespace "secret" private.
func startAuthRegistry(t *testing.T, extraEnv ...string) *registryProc {
	t.Helper()
	dir := t.TempDir()
	var lines []string
	for user, pw := range authUsers {
		hash, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, user+":"+string(hash))
	}
	path := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append([]string{"OYSTER_AUTH_HTPASSWD_PATH=" + path, "OYSTER_AUTH_PRIVATE_NAMESPACES=secret"}, extraEnv...)
	return startRegistry(t, "", env...)
}

// robotToken creates a robot token with `registry token create` on the
// running registry's data directory.
func robotToken(t *testing.T, reg *registryProc, name string, scopes ...string) string {
	t.Helper()
	args := []string{"token", "create", "--data", reg.Data, "--name", name, "--expires", "1h"}
	for _, s := range scopes {
		args = append(args, "--scope", s)
	}
	cmd := exec.Command(registryBin, args...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("registry token create: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// checkNoSecrets fails if the registry logged any of secrets.
func checkNoSecrets(t *testing.T, reg *registryProc, secrets ...string) {
	t.Helper()
	log := reg.Log()
	for _, s := range secrets {
		if strings.Contains(log, s) {
			t.Errorf("the registry log holds a secret (%d characters)", len(s))
		}
	}
}

func getToken(t *testing.T, host, user, password string, scopes ...string) (int, string) {
	t.Helper()
	q := url.Values{"service": {"oyster"}, "scope": scopes}
	req, _ := http.NewRequest(http.MethodGet, "http://"+host+"/auth/token?"+q.Encode(), nil)
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Token string }
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.Token
}

func v2Status(t *testing.T, method, url, token string) (int, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

// TestAuthProtocol speaks the token protocol by hand against the binary:
// challenges, the realm, anonymous pulls, private namespaces (including
// the referrers API, which distribution never sees), bad tokens, revoked
// robots and the failed-login limit.
func TestAuthProtocol(t *testing.T) {
	requireTool(t, "crane")
	reg := startAuthRegistry(t, "OYSTER_AUTH_MAX_FAILED_LOGINS=3")
	h := reg.Host
	base := "http://" + h + "/v2/"

	code, hdr := v2Status(t, "GET", base, "")
	want := `Bearer realm="http://` + h + `/auth/token",service="oyster"`
	if code != http.StatusUnauthorized || hdr.Get("WWW-Authenticate") != want {
		t.Fatalf("GET /v2/ anonymous: %d %q, want 401 %q", code, hdr.Get("WWW-Authenticate"), want)
	}
	code, hdr = v2Status(t, "PUT", base+"alice/tools/manifests/1", "")
	if code != http.StatusUnauthorized || !strings.Contains(hdr.Get("WWW-Authenticate"), `scope="repository:alice/tools:pull,push"`) {
		t.Fatalf("anonymous push: %d %q", code, hdr.Get("WWW-Authenticate"))
	}

	// Push as alice (crane logs in through the realm), pull anonymously.
	cfg := t.TempDir()
	crane := func(args ...string) (string, error) {
		return runEnv([]string{"DOCKER_CONFIG=" + cfg}, "crane", append(args, "--insecure")...)
	}
	if out, err := runEnv([]string{"DOCKER_CONFIG=" + cfg}, "crane", "auth", "login", h, "-u", "alice", "-p", authUsers["alice"]); err != nil {
		t.Fatalf("crane auth login: %v\n%s", err, out)
	}
	layer := busyboxLayer(t, t.TempDir(), "auth")
	if out, err := crane("append", "--oci-empty-base", "-f", layer, "-t", h+"/alice/tools:1"); err != nil {
		t.Fatalf("alice pushing to alice/: %v\n%s", err, out)
	}
	if out, err := crane("append", "--oci-empty-base", "-f", layer, "-t", h+"/bob/tools:1"); err == nil || !strings.Contains(out, "UNAUTHORIZED") {
		t.Fatalf("alice pushing to bob/ (err=%v): %s", err, out)
	}
	if out, err := runErr("crane", "digest", "--insecure", h+"/alice/tools:1"); err != nil {
		t.Fatalf("anonymous pull of a public repository: %v\n%s", err, out)
	}
	code, _ = v2Status(t, "GET", base+"alice/tools/manifests/1", "")
	if code != http.StatusOK {
		t.Fatalf("anonymous manifest GET without a token: %d", code)
	}

	// A private namespace: admin pushes, anonymous and bob are refused,
	// on distribution's routes and on the referrers API alike.
	_, adminTok := getToken(t, h, "admin", authUsers["admin"], "repository:secret/data:pull,push")
	if out, err := runErr("crane", "copy", "--insecure", h+"/alice/tools:1", h+"/secret/data:1"); err == nil {
		t.Fatalf("anonymous copy into a private namespace succeeded: %s", out)
	}
	if out, err := runEnv([]string{"DOCKER_CONFIG=" + cfg}, "crane", "auth", "login", h, "-u", "admin", "-p", authUsers["admin"]); err != nil {
		t.Fatalf("crane auth login admin: %v\n%s", err, out)
	}
	if out, err := crane("copy", h+"/alice/tools:1", h+"/secret/data:1"); err != nil {
		t.Fatalf("admin copy into secret/: %v\n%s", err, out)
	}
	digest := strings.TrimSpace(run(t, "crane", "digest", "--insecure", h+"/alice/tools:1"))
	_, bobTok := getToken(t, h, "bob", authUsers["bob"], "repository:secret/data:pull")
	for _, path := range []string{"secret/data/manifests/1", "secret/data/referrers/" + digest, "secret/data/tags/list"} {
		for who, tok := range map[string]string{"anonymous": "", "bob": bobTok} {
			if code, _ := v2Status(t, "GET", base+path, tok); code != http.StatusUnauthorized {
				t.Errorf("%s GET %s: %d, want 401", who, path, code)
			}
		}
		if code, _ := v2Status(t, "GET", base+path, adminTok); code != http.StatusOK {
			t.Errorf("admin GET %s: %d", path, code)
		}
	}
	_, aliceCat := getToken(t, h, "alice", authUsers["alice"], "registry:catalog:*")
	_, adminCat := getToken(t, h, "admin", authUsers["admin"], "registry:catalog:*")
	if code, _ := v2Status(t, "GET", base+"_catalog", aliceCat); code != http.StatusUnauthorized {
		t.Errorf("alice listing _catalog: %d", code)
	}
	if code, _ := v2Status(t, "GET", base+"_catalog", adminCat); code != http.StatusOK {
		t.Errorf("admin listing _catalog: %d", code)
	}

	// A revoked robot token stops working at the realm.
	robot := robotToken(t, reg, "ci", "alice:pull,push")
	if code, tok := getToken(t, h, "ci", robot, "repository:alice/tools:push"); code != http.StatusOK || tok == "" {
		t.Fatalf("robot login: %d", code)
	}
	list, err := exec.Command(registryBin, "token", "list", "--data", reg.Data).Output()
	if err != nil {
		t.Fatal(err)
	}
	id := strings.Fields(strings.Split(string(list), "\n")[1])[0]
	if out, err := exec.Command(registryBin, "token", "revoke", id, "--data", reg.Data).CombinedOutput(); err != nil {
		t.Fatalf("revoke: %v %s", err, out)
	}
	if code, _ := getToken(t, h, "ci", robot); code != http.StatusUnauthorized {
		t.Errorf("revoked robot token: %d", code)
	}
	// Forged tokens: alg none, and garbage.
	none := "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJpc3MiOiJveXN0ZXItdG9rZW4tc2VydmljZSIsImF1ZCI6Im95c3RlciIsImV4cCI6OTk5OTk5OTk5OSwiYWNjZXNzIjpbeyJ0eXBlIjoicmVwb3NpdG9yeSIsIm5hbWUiOiJzZWNyZXQvZGF0YSIsImFjdGlvbnMiOlsicHVsbCJdfV19."
	for _, tok := range []string{none, "garbage"} {
		if code, hdr := v2Status(t, "GET", base+"secret/data/manifests/1", tok); code != http.StatusUnauthorized || !strings.Contains(hdr.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("forged token: %d %q", code, hdr.Get("WWW-Authenticate"))
		}
	}
	// Failures so far: the revoked robot (1). Two more reach the limit of 3.
	for _, pw := range []string{"wrong-1-guess", "wrong-2-guess"} {
		if code, _ := getToken(t, h, "alice", pw); code != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", code)
		}
	}
	if code, _ := getToken(t, h, "alice", authUsers["alice"]); code != http.StatusTooManyRequests {
		t.Errorf("after 3 failed logins: %d, want 429", code)
	}
	checkNoSecrets(t, reg, authUsers["alice"], authUsers["admin"], authUsers["bob"], robot, adminTok, bobTok, "wrong-1-guess")
	if log := reg.Log(); !strings.Contains(log, "login refused") || !strings.Contains(log, "revoked") {
		t.Errorf("refusals not logged:\n%s", log)
	}
}
