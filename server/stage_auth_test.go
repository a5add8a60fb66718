package server_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/oyster-registry/oyster/api"
	"github.com/oyster-registry/oyster/auth/authtest"
	"github.com/oyster-registry/oyster/config"
	"github.com/oyster-registry/oyster/internal/testlayers"
	"github.com/oyster-registry/oyster/stager/remote"
)

// TestStageListAsCaller asks for a staging list the way the stager does
// (stager/remote, credentials from its registry.username and password),
// with auth on and namespace lab private: a stager with a robot token
// that may pull lab gets lab's pin and the public one, an anonymous
// stager only the public one, and a bad token is refused.
func TestStageListAsCaller(t *testing.T) {
	var data string
	ts, _ := startServer(t, func(c *config.Config) {
		c.Auth.Htpasswd.Path = authtest.WriteHtpasswd(t, t.TempDir(), map[string]string{"admin": "admin-pw"})
		c.Auth.PrivateNamespaces = []string{"lab"}
		c.Stage.Pins = []string{"lab/sci/secret:latest", "pub/sci/tool:latest"}
		data = c.Data
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
	if se := (*remote.StatusError)(nil); !errors.As(err, &se) || se.Status != http.StatusUnauthorized {
		t.Errorf("a stager with a bad token: %v, want a 401", err)
	}
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
