package referrers

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "referrers.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func desc(i int, artifactType string) v1.Descriptor {
	return v1.Descriptor{
		MediaType: v1.MediaTypeImageManifest, Digest: digest.FromString(fmt.Sprint(i)),
		Size: int64(100 + i), ArtifactType: artifactType,
	}
}

var subject = digest.FromString("subject")

func add(t *testing.T, s *Store, repo string, d v1.Descriptor) {
	t.Helper()
	if err := s.PrepareAdd(repo, subject, d); err != nil {
		t.Fatal(err)
	}
	if err := s.CommitAdd(repo, d.Digest); err != nil {
		t.Fatal(err)
	}
}

func TestPreparedReferrerIsInvisibleUntilCommitted(t *testing.T) {
	s, _ := openTemp(t)
	d := desc(1, "application/spdx+json")
	if err := s.PrepareAdd("r", subject, d); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.List("r", subject, "", "", 10); len(p.Descriptors) != 0 {
		t.Fatalf("pending referrer visible: %v", p.Descriptors)
	}
	if err := s.CommitAdd("r", d.Digest); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.List("r", subject, "", "", 10); len(p.Descriptors) != 1 || p.Descriptors[0].Digest != d.Digest {
		t.Fatalf("committed referrer not listed: %v", p.Descriptors)
	}
	if p, _ := s.List("other", subject, "", "", 10); len(p.Descriptors) != 0 {
		t.Fatalf("referrer leaked into another repository: %v", p.Descriptors)
	}
}

// A crash between the journal entry and the storage write leaves pending
// entries; after reopening, Resolve settles each by what storage has.
func TestPendingSurvivesReopenAndResolves(t *testing.T) {
	s, path := openTemp(t)
	stored, lost, deleting := desc(1, "a"), desc(2, "a"), desc(3, "a")
	add(t, s, "r", deleting)
	for _, d := range []v1.Descriptor{stored, lost} {
		if err := s.PrepareAdd("r", subject, d); err != nil {
			t.Fatal(err)
		}
	}
	if found, err := s.PrepareDelete("r", deleting.Digest); err != nil || !found {
		t.Fatalf("PrepareDelete: %v %v", found, err)
	}
	s.Close() // the crash

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pending, err := s.Pending()
	if err != nil || len(pending) != 3 {
		t.Fatalf("pending after reopen: %v %v", pending, err)
	}
	inStorage := map[digest.Digest]bool{stored.Digest: true, lost.Digest: false, deleting.Digest: false}
	for _, p := range pending {
		if err := s.Resolve(p, inStorage[p.Referrer]); err != nil {
			t.Fatal(err)
		}
	}
	page, _ := s.List("r", subject, "", "", 10)
	if len(page.Descriptors) != 1 || page.Descriptors[0].Digest != stored.Digest {
		t.Fatalf("after resolving: %v", page.Descriptors)
	}
	if p, _ := s.Pending(); len(p) != 0 {
		t.Fatalf("still pending: %v", p)
	}
}

func TestAbortRestoresPreviousState(t *testing.T) {
	s, _ := openTemp(t)
	kept, failed := desc(1, "a"), desc(2, "a")
	add(t, s, "r", kept)
	if _, err := s.PrepareDelete("r", kept.Digest); err != nil {
		t.Fatal(err)
	}
	if err := s.PrepareAdd("r", subject, failed); err != nil {
		t.Fatal(err)
	}
	for _, d := range []digest.Digest{kept.Digest, failed.Digest} {
		if err := s.Abort("r", d); err != nil {
			t.Fatal(err)
		}
	}
	page, _ := s.List("r", subject, "", "", 10)
	if len(page.Descriptors) != 1 || page.Descriptors[0].Digest != kept.Digest {
		t.Fatalf("after aborts: %v", page.Descriptors)
	}
}

func TestListFiltersAndPaginates(t *testing.T) {
	s, _ := openTemp(t)
	for i := 0; i < 25; i++ {
		typ := "application/spdx+json"
		if i%5 == 0 {
			typ = "application/vnd.dev.cosign.signature"
		}
		add(t, s, "r", desc(i, typ))
	}
	var all []v1.Descriptor
	var last digest.Digest
	for pages := 0; ; pages++ {
		p, err := s.List("r", subject, "application/spdx+json", last, 7)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, p.Descriptors...)
		if p.Next == "" {
			break
		}
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
		last = p.Next
	}
	if len(all) != 20 {
		t.Fatalf("listed %d SBOM referrers across pages, want 20", len(all))
	}
	seen := map[digest.Digest]bool{}
	for _, d := range all {
		if d.ArtifactType != "application/spdx+json" || seen[d.Digest] {
			t.Fatalf("bad or repeated entry %v", d)
		}
		seen[d.Digest] = true
	}
}

func TestRebuildReplacesEverythingAndMarksComplete(t *testing.T) {
	s, _ := openTemp(t)
	if ok, _ := s.Complete(); ok {
		t.Fatal("new index claims to be complete")
	}
	add(t, s, "r", desc(1, "stale"))
	err := s.Rebuild(func(yield func(Manifest) error) error {
		return yield(Manifest{Repository: "r", Subject: subject, Descriptor: desc(2, "fresh")})
	})
	if err != nil {
		t.Fatal(err)
	}
	page, _ := s.List("r", subject, "", "", 10)
	if len(page.Descriptors) != 1 || page.Descriptors[0].ArtifactType != "fresh" {
		t.Fatalf("after rebuild: %v", page.Descriptors)
	}
	if ok, _ := s.Complete(); !ok {
		t.Fatal("rebuilt index not marked complete")
	}
}
