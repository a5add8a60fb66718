package search_test

import (
	"context"
	"errors"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/catalogtest"
	"github.com/oyster-registry/oyster/catalog/search"
)

func hubRecord(repo, kind string, hub bool, updated time.Time, tags ...string) *catalog.Record {
	rec := &catalog.Record{Repository: repo, Digest: digest.FromString(repo + updated.String()), Kind: kind, Tags: tags, Updated: updated}
	if hub {
		rec.Labels = map[string]string{"org.oyster.hub": "true"}
	}
	return rec
}

// hubImages lists what HubImages returns as "repo tags…" lines, sorted.
func hubImages(t *testing.T, h *search.HubSource, q string) []string {
	t.Helper()
	recs, err := h.HubImages(context.Background(), q, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, rec := range recs {
		line := rec.Repository
		for _, tag := range rec.Tags {
			line += " " + tag
		}
		out = append(out, line)
	}
	sort.Strings(out)
	return out
}

// A hub is offered the images and indexes its query matches, each once,
// with the tags the tag index resolves to them: not SIF files, not
// artifacts, and a tag that has just moved only with its new image.
func TestHubImages(t *testing.T) {
	c := catalogtest.New(t)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	old := hubRecord("lab/app", catalog.KindImage, true, t0, "1", "latest")
	cur := hubRecord("lab/app", catalog.KindImage, true, t0.Add(time.Hour), "latest")
	c.Put(t, old, cur, // cur takes latest while old still lists it
		hubRecord("lab/multi", catalog.KindIndex, true, t0, "v2"),
		hubRecord("lab/tool", catalog.KindSIF, true, t0, "1.0"),
		hubRecord("lab/sbom", catalog.KindArtifact, true, t0, "x"),
		hubRecord("lab/private", catalog.KindImage, false, t0, "v1"))
	h := &search.HubSource{Index: c.Search, Store: c.Store, Query: "label:org.oyster.hub=true"}

	want := []string{"lab/app 1", "lab/app latest", "lab/multi v2"}
	if got := hubImages(t, h, ""); !reflect.DeepEqual(got, want) {
		t.Errorf("hub images %q, want %q", got, want)
	}
	if got, want := hubImages(t, h, "type:index"), []string{"lab/multi v2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("narrowed by q: %q, want %q", got, want)
	}
	var qe *search.QueryError
	if _, err := h.HubImages(context.Background(), "sort:(", nil); !errors.As(err, &qe) {
		t.Errorf("bad q: %v, want a QueryError", err)
	}
}
