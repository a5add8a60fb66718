package state_test

import (
	"testing"

	"github.com/oyster-registry/oyster/catalog"
)

// ResetKeeping keeps the selected records with their tags and relations,
// and drops every other record and relation.
func TestResetKeeping(t *testing.T) {
	s := open(t)
	base := []catalog.Layer{{Digest: "sha256:l1"}}
	kept := &catalog.Record{Repository: "poison/a", Digest: "sha256:a", Kind: catalog.KindImage, Tags: []string{"1"},
		Layers: append(base, catalog.Layer{Digest: "sha256:l2"}), Partial: true}
	gone := &catalog.Record{Repository: "lab/b", Digest: "sha256:b", Kind: catalog.KindImage, Tags: []string{"1"},
		Layers: append(base, catalog.Layer{Digest: "sha256:l3"})}
	for _, rec := range []*catalog.Record{kept, gone} {
		if err := s.PutRecord(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.ResetKeeping(func(rec *catalog.Record) bool { return rec.Partial }); err != nil {
		t.Fatal(err)
	}
	var left []string
	if err := s.Records("", func(rec *catalog.Record) error { left = append(left, rec.Ref().String()); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || left[0] != kept.Ref().String() {
		t.Errorf("records left: %q", left)
	}
	if d, err := s.Tag("poison/a", "1"); err != nil || d != kept.Digest {
		t.Errorf("kept tag: %q, %v", d, err)
	}
	if d, err := s.Tag("lab/b", "1"); err != nil || d != "" {
		t.Errorf("dropped tag: %q, %v", d, err)
	}
	if refs, err := s.BuiltOn(base); err != nil || len(refs) != 1 || refs[0] != kept.Ref() {
		t.Errorf("images on the layers: %v, %v", refs, err)
	}
	if rec, err := s.Record(gone.Ref()); err != nil || rec != nil {
		t.Errorf("dropped record: %+v, %v", rec, err)
	}
}
