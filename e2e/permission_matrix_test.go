package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oyster-registry/oyster/auth/oidctest"
)

// The permission matrix over HTTP: every caller × action × repository
// against the registry binary, with the catalog on, checked against the
// outcome a small rule table predicts.

// matrixPublic are the repositories anyone may pull; alice/priv is
// private by a per-repository rule and lab/code by its namespace.
var matrixPublic = []string{"alice/pub", "lab/tutorial"}

var matrixRepos = []string{"alice/pub", "alice/priv", "lab/code", "lab/tutorial"}

// matrixRoles is the rule table: what each caller may do in each
// namespace beyond pulling public repositories ("*": every namespace).
// Search, hub lists and /v2/_catalog show exactly what the caller may
// pull.
var matrixRoles = map[string]map[string][]string{
	"anonymous":                 {},
	"owner alice":               {"alice": {"pull", "push", "delete"}},
	"other user bob":            {},
	"robot alice:pull,push":     {"alice": {"pull", "push"}},
	"group member (lab writer)": {"lab": {"pull", "push"}},
	"admin":                     {"*": {"pull", "push", "delete"}},
}

var matrixActions = []string{"pull", "push", "delete", "search", "hub list", "_catalog"}

// matrixExpect is the rule table's answer for one cell.
func matrixExpect(caller, repo, action string) bool {
	if action == "search" || action == "hub list" || action == "_catalog" {
		action = "pull"
	}
	if action == "pull" && slices.Contains(matrixPublic, repo) {
		return true
	}
	ns, _, _ := strings.Cut(repo, "/")
	roles := matrixRoles[caller]
	return slices.Contains(roles[ns], action) || slices.Contains(roles["*"], action)
}

// matrixCaller is how a caller logs in: Basic credentials at the realm
// and at the API; none for anonymous.
type matrixCaller struct{ user, password string }

func TestPermissionMatrixHTTP(t *testing.T) {
	requireTool(t, "crane")
	p := oidctest.Start(t, oidctest.Options{})
	p.AddUser(oidctest.User{Username: "gwen", Groups: []string{"lab-writers"}})
	reg := startAuthRegistry(t, "OYSTER_CATALOG_ENABLED=true", "OYSTER_HUB_QUERY=type:image",
		"OYSTER_AUTH_OIDC_ISSUER="+p.Issuer, "OYSTER_AUTH_OIDC_AUDIENCE=oyster",
		"OYSTER_AUTH_OIDC_INTROSPECTION_CLIENT_ID="+p.IntrospectionClientID,
		"OYSTER_AUTH_OIDC_INTROSPECTION_CLIENT_SECRET="+p.IntrospectionSecret,
		"OYSTER_AUTH_NAMESPACES={alice: {private_repositories: [alice/priv]}, lab: {private: true, public_repositories: [lab/tutorial], groups: {lab-writers: write}}}")
	h := reg.Host
	callers := map[string]matrixCaller{
		"anonymous":                 {},
		"owner alice":               {"alice", authUsers["alice"]},
		"other user bob":            {"bob", authUsers["bob"]},
		"robot alice:pull,push":     {"ci", robotToken(t, reg, "ci", "alice:pull,push")},
		"group member (lab writer)": {"oauth2accesstoken", p.Token(t, oidctest.Mint{User: "gwen", Opaque: true, Lifetime: time.Hour})},
		"admin":                     {"admin", authUsers["admin"]},
	}
	pushMatrixImages(t, h)

	var rows []string
	failed := false
	for _, name := range slices.Sorted(maps.Keys(callers)) {
		c := callers[name]
		searchHits := matrixSearch(t, h, c)
		hubList := matrixHub(t, h, c)
		registryCatalog := basicCatalog(t, h, c.user, c.password, "", http.StatusOK)
		for _, repo := range matrixRepos {
			row := fmt.Sprintf("%-26s %-13s", name, repo)
			for _, action := range matrixActions {
				var got bool
				switch action {
				case "search":
					got = slices.Contains(searchHits, repo)
				case "hub list":
					got = strings.Contains(hubList, "/"+repo+"@")
				case "_catalog":
					got = slices.Contains(registryCatalog, repo)
				default:
					got = matrixV2(t, h, c, repo, action)
				}
				want := matrixExpect(name, repo, action)
				mark := map[bool]string{true: "yes", false: "no"}[got]
				if got != want {
					mark, failed = mark+"(want "+map[bool]string{true: "yes", false: "no"}[want]+")", true
				}
				row += fmt.Sprintf(" %-9s", mark)
			}
			rows = append(rows, row)
		}
	}
	if failed {
		head := fmt.Sprintf("%-26s %-13s", "caller", "repository")
		for _, a := range matrixActions {
			head += fmt.Sprintf(" %-9s", a)
		}
		t.Errorf("the permission matrix differs from the rule table:\n%s\n%s", head, strings.Join(rows, "\n"))
	}
	checkNoSecrets(t, reg, callers["robot alice:pull,push"].password, callers["group member (lab writer)"].password)
}

// pushMatrixImages pushes one image to each repository as admin and
// waits until the catalog has indexed them all.
func pushMatrixImages(t *testing.T, h string) {
	t.Helper()
	env := []string{"DOCKER_CONFIG=" + t.TempDir()}
	mustEnv(t, env, "crane", "auth", "login", h, "-u", "admin", "-p", authUsers["admin"])
	layer := busyboxLayer(t, t.TempDir(), "matrix")
	for _, repo := range matrixRepos {
		mustEnv(t, env, "crane", "append", "--insecure", "--oci-empty-base", "-f", layer, "-t", h+"/"+repo+":1")
	}
	admin := matrixCaller{"admin", authUsers["admin"]}
	deadline := time.Now().Add(time.Minute)
	for len(matrixSearch(t, h, admin)) < len(matrixRepos) {
		if time.Now().After(deadline) {
			t.Fatalf("the catalog indexed %v of %v within a minute", matrixSearch(t, h, admin), matrixRepos)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// matrixV2 tries one action on /v2/ with a token from the realm (none
// for anonymous callers): pull reads the manifest, push starts a blob
// upload, delete asks to delete a manifest that does not exist (a 404
// says the caller got past the check). Refusals are 401 or 403.
func matrixV2(t *testing.T, h string, c matrixCaller, repo, action string) bool {
	t.Helper()
	token, scope := "", action
	if action == "push" {
		scope = "pull,push" // an upload needs both, as clients ask
	}
	if c.user != "" {
		code, tok := getToken(t, h, c.user, c.password, "repository:"+repo+":"+scope)
		if code != http.StatusOK {
			t.Fatalf("%s: realm answered %d", c.user, code)
		}
		token = tok
	}
	base := "http://" + h + "/v2/" + repo
	var code int
	switch action {
	case "pull":
		code, _ = v2Status(t, http.MethodGet, base+"/manifests/1", token)
		return code == http.StatusOK
	case "push":
		code, _ = v2Status(t, http.MethodPost, base+"/blobs/uploads/", token)
		return code == http.StatusAccepted
	default:
		code, _ = v2Status(t, http.MethodDelete, base+"/manifests/sha256:"+strings.Repeat("0", 64), token)
		return code == http.StatusNotFound
	}
}

// matrixSearch lists the repositories the catalog's search API shows
// the caller.
func matrixSearch(t *testing.T, h string, c matrixCaller) []string {
	t.Helper()
	var res struct {
		Results []struct{ Repository string }
	}
	if err := json.Unmarshal([]byte(matrixGet(t, h, c, "/api/v1/search?per_page=100")), &res); err != nil {
		t.Fatal(err)
	}
	var repos []string
	for _, r := range res.Results {
		repos = append(repos, r.Repository)
	}
	return repos
}

// matrixHub is the hub's image list as the caller gets it.
func matrixHub(t *testing.T, h string, c matrixCaller) string {
	t.Helper()
	return matrixGet(t, h, c, "/api/v1/hub/images")
}

func matrixGet(t *testing.T, h string, c matrixCaller, path string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+h+path, nil)
	if c.user != "" {
		req.SetBasicAuth(c.user, c.password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s as %q: %d %s", path, c.user, resp.StatusCode, body)
	}
	return string(body)
}
