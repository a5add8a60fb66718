package stage

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/oyster-registry/oyster/api"
	"github.com/oyster-registry/oyster/auth"
	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/catalogtest"
)

func record(repo, tag, body string, labels map[string]string) *catalog.Record {
	return &catalog.Record{Repository: repo, Digest: digest.FromString(body), Kind: "image", Tags: []string{tag},
		Updated: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Labels: labels}
}

type listed struct {
	Ref, Reason string
	Pinned      bool
}

func summary(l api.StageList) []listed {
	var out []listed
	for _, im := range l.Images {
		out = append(out, listed{im.Ref, im.Reason, im.Pinned})
	}
	return out
}

func TestList(t *testing.T) {
	c := catalogtest.New(t)
	base, sci, hub := record("lab/base", "1", "base", nil), record("lab/sci", "2", "sci", map[string]string{"stage": "yes"}),
		record("lab/nb", "3", "nb", nil)
	c.Put(t, base, sci, hub)
	path := filepath.Join(t.TempDir(), "stage.json")
	p, err := Open(path, c.Store, c.Search, Config{Pins: []string{"lab/base:1", "lab/missing:1"}, Query: "label:stage=yes", HubWindow: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC)
	p.now = func() time.Time { return now }
	if _, err := p.Select("oyster.example:5000/lab/nb@"+hub.Digest.String(), nil); err != nil {
		t.Fatal(err)
	}
	if err := p.Pin(api.StagePin{Cluster: "gpu", Ref: "lab/sci:2"}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	l, err := p.List(ctx, "cpu", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []listed{{"lab/base@" + base.Digest.String(), "pinned", true}, {"lab/sci@" + sci.Digest.String(), "query", false},
		{"lab/nb@" + hub.Digest.String(), "hub", false}}
	if got := summary(l); !reflect.DeepEqual(got, want) {
		t.Errorf("cpu list\n got %v\nwant %v", got, want)
	}
	gpu, _ := p.List(ctx, "gpu", nil)
	if got := summary(gpu); len(got) != 3 || !got[1].Pinned || got[1].Reason != "pinned" {
		t.Errorf("gpu list: the API pin does not apply: %v", got)
	}
	now = now.Add(25 * time.Hour) // the selection ages out
	l, _ = p.List(ctx, "cpu", nil)
	if len(l.Images) != 2 {
		t.Errorf("after the hub window: %v", summary(l))
	}
	// The state survives a restart.
	p2, err := Open(path, c.Store, c.Search, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p2.Pins(), []api.StagePin{{Cluster: "gpu", Ref: "lab/sci:2"}}) {
		t.Errorf("pins after reopening: %v", p2.Pins())
	}
}

func TestRefusals(t *testing.T) {
	c := catalogtest.New(t)
	p, err := Open(filepath.Join(t.TempDir(), "stage.json"), c.Store, c.Search, Config{})
	if err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[string]error{"lab/none:1": ErrUnknownImage, "lab/none": ErrBadRef, "lab/x@sha256:bad": ErrBadRef} {
		if err := p.Pin(api.StagePin{Ref: ref}); !errors.Is(err, want) {
			t.Errorf("Pin(%q): %v, want %v", ref, err, want)
		}
		if _, err := p.Select(ref, nil); !errors.Is(err, want) {
			t.Errorf("Select(%q): %v, want %v", ref, err, want)
		}
	}
	if len(p.Pins()) != 0 {
		t.Errorf("refused pins were kept: %v", p.Pins())
	}
	if ok, err := p.Unpin(api.StagePin{Ref: "lab/none:1"}); ok || err != nil {
		t.Errorf("Unpin of nothing: %v, %v", ok, err)
	}
}

// TestListVisible filters a list by what the caller may pull, as the
// registry's policy says with namespace lab private: anonymous stagers
// get the public image only, a robot with pull on lab gets lab's pin,
// query match and hub selection too.
func TestListVisible(t *testing.T) {
	c := catalogtest.New(t)
	secret, sci, nb, tool := record("lab/secret", "1", "secret", nil), record("lab/sci", "2", "sci", map[string]string{"stage": "yes"}),
		record("lab/nb", "3", "nb", nil), record("pub/tool", "4", "tool", map[string]string{"stage": "yes"})
	c.Put(t, secret, sci, nb, tool)
	p, err := Open(filepath.Join(t.TempDir(), "stage.json"), c.Store, c.Search, Config{Pins: []string{"lab/secret:1"}, Query: "label:stage=yes", HubWindow: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	policy := auth.Policy{Private: []string{"lab"}}
	mayPull := func(id auth.Identity) func(string) bool {
		return func(repo string) bool {
			return policy.Allowed(id, auth.Access{Type: "repository", Name: repo, Action: auth.ActionPull})
		}
	}
	robot := auth.Identity{Name: "robot:stager", Robot: []auth.NamespaceGrant{{Namespace: "lab", Actions: []string{auth.ActionPull}}}}
	// An anonymous hub user cannot select lab's image, nor learn it exists.
	if im, err := p.Select("lab/nb:3", mayPull(auth.Identity{})); !errors.Is(err, ErrUnknownImage) || im.Digest != "" {
		t.Fatalf("an anonymous selection of a private image: %+v, %v", im, err)
	}
	if _, err := p.Select("lab/nb@"+nb.Digest.String(), mayPull(robot)); err != nil {
		t.Fatal(err)
	}
	for who, want := range map[string][]string{
		"anonymous": {"pub/tool"},
		"robot":     {"lab/secret", "lab/sci", "pub/tool", "lab/nb"},
	} {
		id := map[string]auth.Identity{"robot": robot}[who]
		l, err := p.List(context.Background(), "cpu", mayPull(id))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, im := range l.Images {
			got = append(got, im.Repository)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s's list: %v, want %v", who, got, want)
		}
	}
}
