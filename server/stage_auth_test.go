package server_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/oyster-registry/oyster/api"
	"github.com/oyster-registry/oyster/config"
	"github.com/oyster-registry/oyster/internal/testlayers"
	"github.com/oyster-registry/oyster/stager/remote"
)

// TestStageListAsCaller asks for a staging list the way the stager does
// (stager/remote, credentials from its registry.username and password),
// with auth on and namespace lab private: a stager with a robot token
// that may pull lab gets lab's pin and the public one, an anonymous
// stager only the public one, and a bad token is refused. The stager's
// inventory then shows lab's image only to callers who may pull it, in
// the API and on the UI's nodes page. Reports need credentials, pins a
// site admin.
func TestStageListAsCaller(t *testing.T) {
	ts, data := startLabPrivate(t, func(c *config.Config) {
		c.Stage.Pins = []string{"lab/sci/secret:latest", "pub/sci/tool:latest"}
	})
	libPush(t, libClient(t, ts.URL, robotToken(t, data, "lab-ci", "lab:pull,push")),
		testlayers.SIF(t, time.Now(), testlayers.DefFile("Bootstrap: scratch\n# lab's\n")), "lab/sci/secret")
	libPush(t, libClient(t, ts.URL, robotToken(t, data, "pub-ci", "pub:pull,push")),
		testlayers.SIF(t, time.Now(), testlayers.DefFile("Bootstrap: scratch\n# everyone's\n")), "pub/sci/tool")
	stagerToken := robotToken(t, data, "stager", "lab:pull")

	both := []string{"lab/sci/secret", "pub/sci/tool"}
	var got []string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && !slices.Equal(got, both); time.Sleep(50 * time.Millisecond) {
		got = stageList(t, ts.URL, "stager", stagerToken) // waits for the catalog to index the pins
	}
	if !slices.Equal(got, both) {
		t.Fatalf("the lab stager's list: %v, want %v", got, both)
	}
	if got := stageList(t, ts.URL, "", ""); !slices.Equal(got, []string{"pub/sci/tool"}) {
		t.Errorf("an anonymous stager's list: %v, want only pub/sci/tool", got)
	}
	var list api.StageList
	_, _, err := stageClient(t, ts.URL, "stager", stagerToken+"x").GetJSON(context.Background(), "/api/v1/stage?cluster=default", "", &list)
	if !isStatus(err, http.StatusUnauthorized) {
		t.Errorf("a stager with a bad token: %v, want a 401", err)
	}

	inv := api.StagerInventory{Node: "node-1", Cluster: "default"}
	for _, repo := range both {
		inv.Images = append(inv.Images, api.StagedImage{Repository: repo, Refs: []string{repo + ":latest"}, Digest: digest.FromString(repo)})
	}
	// The stager turns a 401 it has no credentials for into advice.
	if err := stageClient(t, ts.URL, "", "").PutJSON(context.Background(), "/api/v1/stagers/node-1", inv); err == nil || !strings.Contains(err.Error(), "asks for credentials") {
		t.Errorf("an anonymous inventory report: %v, want a refusal", err)
	}
	if err := stageClient(t, ts.URL, "stager", stagerToken).PutJSON(context.Background(), "/api/v1/stagers/node-1", inv); err != nil {
		t.Fatalf("reporting the inventory: %v", err)
	}
	for who, want := range map[string][]string{"stager": both, "": {"pub/sci/tool"}} {
		var nodes api.StagerList
		if _, _, err := stageClient(t, ts.URL, who, map[string]string{"stager": stagerToken}[who]).GetJSON(context.Background(), "/api/v1/stagers", "", &nodes); err != nil || len(nodes.Stagers) != 1 {
			t.Fatalf("inventories as %q: %v %+v", who, err, nodes)
		}
		var got []string
		for _, im := range nodes.Stagers[0].Images {
			got = append(got, im.Repository)
		}
		if !slices.Equal(got, want) {
			t.Errorf("node-1's inventory as %q: %v, want %v", who, got, want)
		}
	}
	for ref, want := range map[string]int{"lab/sci/secret:latest": http.StatusNotFound, "pub/sci/tool:latest": http.StatusOK} {
		if r := do(t, http.MethodPost, ts.URL+"/api/v1/hub/selections", []byte(`{"ref":"`+ref+`"}`)); r.status != want || (want != http.StatusOK && strings.Contains(string(r.body), "sha256:")) {
			t.Errorf("an anonymous hub selection of %s: %d %s, want %d", ref, r.status, r.body, want)
		}
	}
	pin := api.StagePin{Ref: "pub/sci/tool:latest"}
	if err := stageClient(t, ts.URL, "", "").PutJSON(context.Background(), "/api/v1/stage/pins", pin); err == nil || !strings.Contains(err.Error(), "asks for credentials") {
		t.Errorf("pinning anonymously: %v, want a refusal", err)
	}
	if err := stageClient(t, ts.URL, "stager", stagerToken).PutJSON(context.Background(), "/api/v1/stage/pins", pin); !isStatus(err, http.StatusForbidden) {
		t.Errorf("pinning as a robot: %v, want a 403", err)
	}
	if err := stageClient(t, ts.URL, "admin", "admin-pw").PutJSON(context.Background(), "/api/v1/stage/pins", pin); err != nil {
		t.Errorf("pinning as the site admin: %v", err)
	}
	if page := do(t, http.MethodGet, ts.URL+"/stagers", nil); page.status != http.StatusOK || !strings.Contains(string(page.body), "pub/sci/tool") || strings.Contains(string(page.body), "lab/sci/secret") {
		t.Errorf("the nodes page for an anonymous caller: %d, lab's image shown or pub's missing", page.status)
	}
}

func isStatus(err error, status int) bool {
	var se *remote.StatusError
	return errors.As(err, &se) && se.Status == status
}

func stageClient(t *testing.T, base, user, password string) *remote.Client {
	t.Helper()
	c, err := remote.New(remote.Options{URL: base, Insecure: true, Username: user, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// stageList returns the repositories on the default cluster's list.
func stageList(t *testing.T, base, user, password string) []string {
	t.Helper()
	var list api.StageList
	if _, _, err := stageClient(t, base, user, password).GetJSON(context.Background(), "/api/v1/stage?cluster=default", "", &list); err != nil {
		t.Fatalf("staging list as %q: %v", user, err)
	}
	var repos []string
	for _, im := range list.Images {
		repos = append(repos, im.Repository)
	}
	return repos
}
