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

	"github.com/oyster-registry/oyster/auth/authtest"
)

// authUsers are the htpasswd users every auth test's registry has.
var authUsers = map[string]string{"admin": "admin-Secret-1", "alice": "alice-Secret-2", "bob": "bob-Secret-3"}

// startAuthRegistry runs a registry with auth on (auth.htpasswd.path set
// through its environment variable), namespace "secret" private, and the
// catalog off, to start fast; extraEnv may turn it on
// (OYSTER_CATALOG_ENABLED=true: the last setting wins).
func startAuthRegistry(t *testing.T, extraEnv ...string) *registryProc {
	t.Helper()
	path := authtest.WriteHtpasswd(t, t.TempDir(), authUsers)
	env := append([]string{"OYSTER_AUTH_HTPASSWD_PATH=" + path, "OYSTER_AUTH_PRIVATE_NAMESPACES=secret", "OYSTER_CATALOG_ENABLED=false"}, extraEnv...)
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
	if code, _ := v2Status(t, "GET", base+"_catalog", aliceCat); code != http.StatusOK { // what she may pull: TestRegistryCatalogPerCaller
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

// authLogin is one way to log in: an htpasswd user or a robot token,
// with the namespace it may push to.
type authLogin struct{ name, user, password, ns string }

// startAuthClients starts a registry with auth on (and extraEnv), a
// robot token for namespace lab, and a public image pushed as alice
// (returned as seed).
func startAuthClients(t *testing.T, extraEnv ...string) (*registryProc, string, []authLogin) {
	t.Helper()
	reg := startAuthRegistry(t, extraEnv...)
	h := reg.Host
	robot := robotToken(t, reg, "builder", "lab:pull,push")
	seedEnv := []string{"DOCKER_CONFIG=" + t.TempDir()}
	seed := h + "/alice/seed:1"
	mustEnv(t, seedEnv, "crane", "auth", "login", h, "-u", "alice", "-p", authUsers["alice"])
	mustEnv(t, seedEnv, "crane", "append", "--insecure", "--oci-empty-base", "-f", busyboxLayer(t, t.TempDir(), "seed"), "-t", seed)
	return reg, seed, []authLogin{
		{"htpasswd", "alice", authUsers["alice"], "alice"},
		{"robot", "builder", robot, "lab"},
	}
}

// TestAuthClients logs each client in through the token service, once as
// an htpasswd user and once with a robot token, and pushes and pulls
// (podman in TestAuthPodman: its run directory needs a short path).
func TestAuthClients(t *testing.T) {
	for _, tool := range []string{"crane", "oras", "skopeo"} {
		requireTool(t, tool)
	}
	requireDocker(t)
	reg, seed, logins := startAuthClients(t)
	clientsPushPull(t, reg.Host, seed, logins)
	checkNoSecrets(t, reg, authUsers["alice"], logins[1].password)
}

// clientsPushPull has crane, oras, skopeo and docker log in as each of
// logins, push to its namespace and pull, and fail to push to bob's.
func clientsPushPull(t *testing.T, h, seed string, logins []authLogin) {
	for _, l := range logins {
		t.Run("crane/"+l.name, func(t *testing.T) {
			env := []string{"DOCKER_CONFIG=" + t.TempDir()}
			mustEnv(t, env, "crane", "auth", "login", h, "-u", l.user, "-p", l.password)
			mustEnv(t, env, "crane", "copy", "--insecure", seed, h+"/"+l.ns+"/crane:1")
			if out, err := runEnv(env, "crane", "copy", "--insecure", seed, h+"/bob/crane:1"); err == nil {
				t.Fatalf("pushed outside the grant: %s", out)
			}
		})
		t.Run("oras/"+l.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			conf := filepath.Join(dir, "auth.json")
			write(t, "hello.txt", "hello "+l.name)
			mustEnv(t, nil, "oras", "login", "--plain-http", "--registry-config", conf, "-u", l.user, "-p", l.password, h)
			mustEnv(t, nil, "oras", "push", "--plain-http", "--registry-config", conf, h+"/"+l.ns+"/oras:1", "hello.txt")
			os.Remove("hello.txt")
			mustEnv(t, nil, "oras", "pull", "--plain-http", "--registry-config", conf, h+"/"+l.ns+"/oras:1")
			if b, _ := os.ReadFile("hello.txt"); string(b) != "hello "+l.name {
				t.Fatalf("oras pulled %q", b)
			}
		})
		t.Run("skopeo/"+l.name, func(t *testing.T) {
			authfile := filepath.Join(t.TempDir(), "auth.json")
			mustEnv(t, nil, "skopeo", "login", "--tls-verify=false", "--authfile", authfile, "-u", l.user, "-p", l.password, h)
			mustEnv(t, nil, "skopeo", "copy", "--preserve-digests", "--src-tls-verify=false", "--dest-tls-verify=false", "--authfile", authfile,
				"docker://"+seed, "docker://"+h+"/"+l.ns+"/skopeo:1")
			mustEnv(t, nil, "skopeo", "inspect", "--tls-verify=false", "--authfile", authfile, "docker://"+h+"/"+l.ns+"/skopeo:1")
		})
		t.Run("docker/"+l.name, func(t *testing.T) {
			cfg := t.TempDir()
			login := exec.Command("docker", "--config", cfg, "login", "--username", l.user, "--password-stdin", h)
			login.Stdin = strings.NewReader(l.password + "\n")
			if out, err := login.CombinedOutput(); err != nil || !strings.Contains(string(out), "Login Succeeded") {
				t.Fatalf("docker login: %v\n%s", err, out)
			}
			ref := h + "/" + l.ns + "/docker-" + uniqueName() + ":1"
			dockerForget(t, seed, ref)
			mustEnv(t, nil, "docker", "--config", cfg, "pull", seed)
			dockerTag(t, seed, ref)
			mustEnv(t, nil, "docker", "--config", cfg, "push", ref)
			dockerRemove(t, ref)
			mustEnv(t, nil, "docker", "--config", cfg, "pull", ref)
			denied := h + "/bob/docker-" + uniqueName() + ":1"
			dockerTag(t, seed, denied)
			if out, err := runErr("docker", "--config", cfg, "push", denied); err == nil {
				t.Fatalf("docker pushed outside the grant: %s", out)
			}
		})
	}
}

func TestAuthPodman(t *testing.T) {
	requireTool(t, "podman")
	requireTool(t, "crane")
	reg, seed, logins := startAuthClients(t)
	podmanPushPull(t, reg.Host, seed, logins)
	checkNoSecrets(t, reg, authUsers["alice"], logins[1].password)
}

// podmanPushPull is clientsPushPull for podman.
func podmanPushPull(t *testing.T, h, seed string, logins []authLogin) {
	p := newPodman(t)
	p.run(t, "pull", "--tls-verify=false", seed) // anonymous: seed is public
	for _, l := range logins {
		authfile := filepath.Join(t.TempDir(), "auth.json")
		p.run(t, "login", "--tls-verify=false", "--authfile", authfile, "-u", l.user, "-p", l.password, h)
		ref := h + "/" + l.ns + "/podman:1"
		p.run(t, "tag", seed, ref)
		p.run(t, "push", "--tls-verify=false", "--authfile", authfile, ref)
		p.run(t, "rmi", ref)
		p.run(t, "pull", "--tls-verify=false", "--authfile", authfile, ref)
		denied := h + "/bob/podman:1"
		p.run(t, "tag", seed, denied)
		if out, err := p.runErr("push", "--tls-verify=false", "--authfile", authfile, denied); err == nil {
			t.Fatalf("podman pushed outside the grant (%s): %s", l.name, out)
		}
	}
}

func mustEnv(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	out, err := runEnv(env, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}
