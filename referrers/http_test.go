package referrers

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// serveStore serves s's referrers API for the repository "r".
func serveStore(t *testing.T, s *Store) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.Serve(w, r, "r", strings.TrimPrefix(r.URL.Path, "/v2/r/referrers/")); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	}))
	t.Cleanup(ts.Close)
	return ts
}

// bigReferrers indexes count referrers of subject whose annotations hold
// about annotationBytes each, as large as a 4 MiB manifest allows.
func bigReferrers(t *testing.T, s *Store, count, annotationBytes int) {
	t.Helper()
	for i := 0; i < count; i++ {
		d := desc(i, "application/spdx+json")
		d.Annotations = map[string]string{"pad": strings.Repeat(fmt.Sprint(i%10), annotationBytes)}
		add(t, s, "r", d)
	}
}

var nextLink = regexp.MustCompile(`^<([^>]+)>; rel="next"$`)

// fetchPage GETs one page, checks it is a well-formed index and returns its
// descriptors and the next page's URL.
func fetchPage(t *testing.T, url string) ([]v1.Descriptor, int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var index v1.Index
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &index) != nil ||
		index.SchemaVersion != 2 || index.MediaType != v1.MediaTypeImageIndex || index.Manifests == nil {
		t.Fatalf("GET %s: %d %.200s", url, resp.StatusCode, body)
	}
	if resp.ContentLength != int64(len(body)) {
		t.Fatalf("Content-Length %d for a body of %d bytes", resp.ContentLength, len(body))
	}
	next := ""
	if link := resp.Header.Get("Link"); link != "" {
		m := nextLink.FindStringSubmatch(link)
		if m == nil {
			t.Fatalf("malformed Link %q", link)
		}
		next = m[1]
	}
	return index.Manifests, len(body), next
}

// 25 referrers with 4 MB of annotations each: a page asked for 10000 is
// cut by bytes, and a client following Link gets all 25, in order.
func TestServePagesByBytes(t *testing.T) {
	s, _ := openTemp(t)
	const count, annotation = 25, 4_000_000
	bigReferrers(t, s, count, annotation)
	ts := serveStore(t, s)

	first, size, next := fetchPage(t, ts.URL+"/v2/r/referrers/"+subject.String()+"?n=10000")
	if len(first) == 0 || len(first) == count || size > MaxPageBytes+annotation+4096 || next == "" {
		t.Fatalf("first page: %d descriptors, %d bytes, Link %q", len(first), size, next)
	}
	if !strings.Contains(next, "n=10000") || !strings.HasPrefix(next, "/v2/r/referrers/"+subject.String()+"?") {
		t.Fatalf("Link %q does not continue the same query", next)
	}
	got := first
	for pages := 1; next != ""; pages++ {
		if pages > count {
			t.Fatal("paging does not end")
		}
		var page []v1.Descriptor
		page, size, next = fetchPage(t, ts.URL+next)
		if len(page) == 0 || size > MaxPageBytes+annotation+4096 {
			t.Fatalf("page %d: %d descriptors, %d bytes", pages, len(page), size)
		}
		got = append(got, page...)
	}
	if len(got) != count {
		t.Fatalf("following Link gave %d referrers, want %d", len(got), count)
	}
	for i := 1; i < len(got); i++ {
		if got[i-1].Digest >= got[i].Digest {
			t.Fatalf("referrers out of order or repeated at %d: %s, %s", i, got[i-1].Digest, got[i].Digest)
		}
	}
	for _, d := range got {
		if len(d.Annotations["pad"]) != annotation || d.ArtifactType != "application/spdx+json" {
			t.Fatalf("descriptor %s lost its annotations or artifact type", d.Digest)
		}
	}
}

// discard is a ResponseWriter that keeps nothing, so that only the
// handler's own allocations are measured.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

// One request for 10000 referrers of 4 MB each allocates about one page
// (MaxPageBytes) plus one descriptor, not the 100 MB of all 25: the bound
// asserted is 2 × MaxPageBytes.
func TestServeMemoryIsBoundedByAPage(t *testing.T) {
	s, _ := openTemp(t)
	bigReferrers(t, s, 25, 4_000_000)
	req := httptest.NewRequest(http.MethodGet, "/v2/r/referrers/"+subject.String()+"?n=10000", nil)
	serve := func() {
		if err := s.Serve(&discard{h: http.Header{}}, req, "r", subject.String()); err != nil {
			t.Fatal(err)
		}
	}
	serve() // warm up: bbolt's and encoding/json's first-use allocations
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	serve()
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("one request for 25 referrers of 4 MB: %d bytes allocated", alloc)
	if alloc > 2*MaxPageBytes {
		t.Fatalf("one request allocated %d bytes, over the bound of %d", alloc, 2*MaxPageBytes)
	}
}

// Small referrers page by count; the byte bound never cuts them.
func TestListRawPagesByCount(t *testing.T) {
	s, _ := openTemp(t)
	for i := 0; i < 25; i++ {
		add(t, s, "r", desc(i, "a"))
	}
	var all []digest.Digest
	var last digest.Digest
	for pages := 0; ; pages++ {
		page, err := s.ListRaw("r", subject, "", last, 10, MaxPageBytes)
		if err != nil {
			t.Fatal(err)
		}
		if pages < 2 && len(page.Descriptors) != 10 || pages > 2 {
			t.Fatalf("page %d holds %d descriptors", pages, len(page.Descriptors))
		}
		for _, raw := range page.Descriptors {
			var d v1.Descriptor
			if err := json.Unmarshal(raw, &d); err != nil {
				t.Fatal(err)
			}
			all = append(all, d.Digest)
		}
		if page.Next == "" {
			break
		}
		last = page.Next
	}
	if len(all) != 25 {
		t.Fatalf("listed %d, want 25", len(all))
	}
}
