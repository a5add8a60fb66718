package server_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	library "github.com/apptainer/container-library-client/client"

	"github.com/oyster-registry/oyster/auth"
	"github.com/oyster-registry/oyster/auth/authtest"
	"github.com/oyster-registry/oyster/config"
	"github.com/oyster-registry/oyster/internal/testlayers"
)

// TestLibraryAsCaller drives the Library API with apptainer's client
// library and auth on, namespace lab private: every request, and every
// in-process /v2/ call made for it, is the caller's. A robot with push on
// lab pushes and pulls lab's private image; it may not push to pub; a
// robot of pub pushes a public image; anonymous callers pull and find
// only that one; bad tokens are refused.
func TestLibraryAsCaller(t *testing.T) {
	ts, data := startLabPrivate(t, nil)
	labToken := robotToken(t, data, "lab-ci", "lab:pull,push")
	pubToken := robotToken(t, data, "pub-ci", "pub:pull,push")
	lab, pub, anonymous := libClient(t, ts.URL, labToken), libClient(t, ts.URL, pubToken), libClient(t, ts.URL, "")

	// apptainer remote login asks /v1/token-status.
	for token, want := range map[string]int{labToken: http.StatusOK, "": http.StatusUnauthorized, labToken + "x": http.StatusUnauthorized, "oyster_nope_nope": http.StatusUnauthorized} {
		if r := do(t, http.MethodGet, ts.URL+"/v1/token-status", nil, "Authorization", "Bearer "+token); r.status != want {
			t.Errorf("token-status with %.12q…: %d %s, want %d", token, r.status, r.body, want)
		}
	}

	private := testlayers.SIF(t, time.Now(), testlayers.DefFile("Bootstrap: scratch\n# lab's own lammps\n"))
	public := testlayers.SIF(t, time.Now(), testlayers.DefFile("Bootstrap: scratch\n# everyone's lammps\n"))
	libPush(t, lab, private, "lab/sci/lammps")
	libPush(t, pub, public, "pub/sci/lammps")
	if err := libTryPush(lab, private, "pub/sci/stolen"); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("the lab robot pushing to pub: %v, want a 403", err)
	}
	if err := libTryPush(anonymous, public, "pub/sci/anon"); err == nil {
		t.Error("an anonymous caller pushed")
	}

	if got, err := libPull(t, lab, "lab/sci/lammps"); err != nil || !bytes.Equal(got, private) {
		t.Errorf("the lab robot pulling its image: %v (%d bytes)", err, len(got))
	}
	if _, err := libPull(t, anonymous, "lab/sci/lammps"); !errors.Is(err, library.ErrUnauthorized) {
		t.Errorf("an anonymous caller pulling lab's private image: %v, want unauthorized (log in)", err)
	}
	if _, err := libPull(t, pub, "lab/sci/lammps"); err == nil {
		t.Error("the pub robot pulled lab's private image")
	}
	if got, err := libPull(t, anonymous, "pub/sci/lammps"); err != nil || !bytes.Equal(got, public) {
		t.Errorf("an anonymous caller pulling the public image: %v (%d bytes)", err, len(got))
	}
	if err := lab.DeleteImage(context.Background(), "lab/sci/lammps:latest", "amd64"); err == nil {
		t.Error("the lab robot, without delete, deleted")
	}

	// Listings: search waits until the catalog has indexed both images.
	libSearch(t, lab, "lab~sci~lammps", "pub~sci~lammps")
	if got := libSearch(t, anonymous, "pub~sci~lammps"); slices.Contains(got, "lab~sci~lammps") {
		t.Errorf("anonymous search found lab's private image: %v", got)
	}
	for who, token := range map[string]string{"anonymous": "", "pub": pubToken} {
		if r := do(t, http.MethodGet, ts.URL+"/v1/entities/lab", nil, "Authorization", "Bearer "+token); r.status < 400 {
			t.Errorf("%s read the private entity lab: %d %s", who, r.status, r.body)
		}
		r := do(t, http.MethodGet, ts.URL+"/v1/entities", nil, "Authorization", "Bearer "+token)
		if r.status != http.StatusOK || strings.Contains(string(r.body), `"lab"`) || !strings.Contains(string(r.body), `"pub"`) {
			t.Errorf("%s listing entities: %d %s", who, r.status, r.body)
		}
	}
	if r := do(t, http.MethodGet, ts.URL+"/v1/entities", nil, "Authorization", "Bearer "+labToken); !strings.Contains(string(r.body), `"lab"`) {
		t.Errorf("the lab robot listing entities: %d %s", r.status, r.body)
	}
}

// robotToken creates a robot with one scope, as `registry token create`
// does while the registry runs.
func robotToken(t testing.TB, data, name, scope string) string {
	t.Helper()
	g, err := auth.ParseGrant(scope)
	if err != nil {
		t.Fatal(err)
	}
	_, token, err := auth.OpenRobots(data).Create(name, []auth.NamespaceGrant{g}, time.Time{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func libClient(t testing.TB, base, token string) *library.Client {
	t.Helper()
	c, err := library.NewClient(&library.Config{BaseURL: base, AuthToken: token})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func libTryPush(c *library.Client, sif []byte, path string) error {
	_, err := c.UploadImage(context.Background(), bytes.NewReader(sif), "library://"+path, "amd64", []string{"latest"}, "pushed by the test", nil)
	return err
}

func libPush(t testing.TB, c *library.Client, sif []byte, path string) {
	t.Helper()
	if err := libTryPush(c, sif, path); err != nil {
		t.Fatalf("push %s: %v", path, err)
	}
}

// libPull pulls path:latest the way apptainer does.
func libPull(t *testing.T, c *library.Client, path string) ([]byte, error) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "pull-*.sif")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := c.ConcurrentDownloadImage(context.Background(), f, "amd64", path, "latest", &library.Downloader{Concurrency: 2, PartSize: 4 << 10}, nil); err != nil {
		return nil, err
	}
	return os.ReadFile(f.Name())
}

// libSearch waits until `apptainer search lammps` as c lists every
// container of want, and returns the containers it lists.
func libSearch(t *testing.T, c *library.Client, want ...string) []string {
	t.Helper()
	var got []string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		res, err := c.Search(context.Background(), map[string]string{"value": "lammps"})
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("search: %v", err)
		}
		got = got[:0]
		for _, img := range res.Images {
			got = append(got, img.Container)
		}
		if !slices.ContainsFunc(want, func(w string) bool { return !slices.Contains(got, w) }) {
			return got
		}
	}
	t.Fatalf("search lammps: got %v, want %v", got, want)
	return nil
}

// startLabPrivate starts the registry with auth on (one htpasswd user,
// admin) and namespace lab private, more editing the config further; it
// returns the server and its data directory, where robot tokens are made.
func startLabPrivate(t *testing.T, more func(*config.Config)) (*httptest.Server, string) {
	t.Helper()
	var data string
	ts, _ := startServer(t, func(c *config.Config) {
		c.Auth.Htpasswd.Path = authtest.WriteHtpasswd(t, t.TempDir(), map[string]string{"admin": "admin-pw"})
		c.Auth.PrivateNamespaces = []string{"lab"}
		if more != nil {
			more(c)
		}
		data = c.Data
	})
	return ts, data
}
