package server_test

import (
	"net/http"
	"testing"

	"github.com/oyster-registry/oyster/config"
)

// TestBlobFilesAnswerLikeDistribution compares, request by request, blob
// GET and HEAD served from the data files with distribution's answers
// (direct_blob_reads off): whole blobs, ranges, a range past the end,
// If-None-Match, a blob only another repository holds, a deleted blob.
func TestBlobFilesAnswerLikeDistribution(t *testing.T) {
	plain, _ := startServer(t, func(c *config.Config) { c.Storage.Filesystem.DirectBlobReads = false })
	direct, _ := startServer(t, nil)
	content := []byte("a blob served from its data file, with ranges")
	var d string
	for _, ts := range []string{plain.URL, direct.URL} {
		d = pushBlob(t, ts, "lab/blobs", content)
		pushBlob(t, ts, "lab/gone", content)
		if r := do(t, http.MethodDelete, ts+"/v2/lab/gone/blobs/"+d, nil); r.status != http.StatusAccepted {
			t.Fatalf("blob DELETE: %d %s", r.status, r.body)
		}
	}
	requests := []struct {
		method, repo string
		headers      []string
	}{
		{http.MethodGet, "lab/blobs", nil},
		{http.MethodHead, "lab/blobs", nil},
		{http.MethodGet, "lab/blobs", []string{"Range", "bytes=2-9"}},
		{http.MethodHead, "lab/blobs", []string{"Range", "bytes=2-9"}},
		{http.MethodGet, "lab/blobs", []string{"Range", "bytes=5-"}},
		{http.MethodGet, "lab/blobs", []string{"Range", "bytes=1000-2000"}},
		{http.MethodGet, "lab/blobs", []string{"If-None-Match", `"` + d + `"`}},
		{http.MethodGet, "lab/other", nil},
		{http.MethodGet, "lab/gone", nil},
		{http.MethodHead, "lab/gone", nil},
	}
	for _, req := range requests {
		want := answer(do(t, req.method, plain.URL+"/v2/"+req.repo+"/blobs/"+d, nil, req.headers...))
		got := answer(do(t, req.method, direct.URL+"/v2/"+req.repo+"/blobs/"+d, nil, req.headers...))
		if got != want {
			t.Errorf("%s %s %q:\n direct %s\n plain  %s", req.method, req.repo, req.headers, got, want)
		}
	}
	if r := do(t, http.MethodGet, direct.URL+"/v2/lab/blobs/blobs/"+d, nil, "Range", "bytes=2-9"); r.status != http.StatusPartialContent || string(r.body) != string(content[2:10]) {
		t.Fatalf("range GET: %d %q", r.status, r.body)
	}
}
