package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oyster-registry/oyster/api"
	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/catalogtest"
	"github.com/oyster-registry/oyster/catalog/extract"
	"github.com/oyster-registry/oyster/internal/testlayers"
)

// millionProblems is the record the catalog makes of an image whose dpkg
// status holds a million malformed stanzas, built as the indexer builds
// it, and the site serving it.
func millionProblems(tb testing.TB) (http.Handler, *catalog.Record) {
	tb.Helper()
	src := catalogtest.NewSource()
	status := testlayers.File("var/lib/dpkg/status", strings.Repeat("x\n\n", 1_000_000))
	ref := src.PushImage("lab/poison", "1", `{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers"}}`,
		testlayers.Gzip(tb, testlayers.Tar(tb, status)))
	c := catalogtest.New(tb)
	x := &extract.Extractor{Source: src, Store: c.Store, Layers: c.Store}
	rec, _, err := x.Record(context.Background(), ref)
	if err != nil {
		tb.Fatal(err)
	}
	rec.Tags = []string{"1"}
	c.Put(tb, rec)
	return New(Options{Store: c.Store, Search: c.Search, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}), rec
}

func serve(tb testing.TB, h http.Handler, path string) *bytes.Buffer {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		tb.Fatalf("GET %s: %d\n%s", path, w.Code, w.Body)
	}
	return w.Body
}

// The page and the API of an image with a million problems list the
// budget's number of them, count the rest and say the image is partially
// indexed; both stay small.
func TestImageWithAMillionProblems(t *testing.T) {
	h, rec := millionProblems(t)
	kept, omitted := catalog.DefaultMaxProblemsPerFile, 1_000_000-catalog.DefaultMaxProblemsPerFile
	page := serve(t, h, imageURL(rec.Repository, string(rec.Digest))).String()
	if n := strings.Count(page, "<li><code>layer 0: var/lib/dpkg/status: line "); n != kept {
		t.Errorf("%d problems listed on the page, want %d", n, kept)
	}
	mustContain(t, page, fmt.Sprintf("And %d more, counted but not listed.", omitted), "Partially indexed",
		fmt.Sprintf("index errors: 1000000, over the limit of %d; %d were counted, not listed", catalog.DefaultMaxProblems, omitted))
	if len(page) > 64<<10 {
		t.Errorf("page of %d bytes", len(page))
	}
	body := serve(t, h, "/api/v1/images/"+rec.Repository+"@"+string(rec.Digest))
	var img api.Image
	if err := json.Unmarshal(body.Bytes(), &img); err != nil {
		t.Fatal(err)
	}
	if len(img.IndexErrors) != kept || img.IndexErrorsOmitted != omitted || !img.Partial || len(img.Truncated) != 1 || body.Len() > 16<<10 {
		t.Errorf("API: %d errors, %d omitted, partial %v, truncated %q, %d bytes", len(img.IndexErrors), img.IndexErrorsOmitted, img.Partial, img.Truncated, body.Len())
	}
}

// imagePageGoal is issue 9's goal for the page and the API of an image
// with a million problems.
const imagePageGoal = 100 * time.Millisecond

// BenchmarkImagePageMillionProblems measures the server time of the image
// page and of its API over the record of an image with a million
// problems, and reports the p99 of each against imagePageGoal.
func BenchmarkImagePageMillionProblems(b *testing.B) {
	h, rec := millionProblems(b)
	paths := map[string]string{
		"page": imageURL(rec.Repository, string(rec.Digest)),
		"api":  "/api/v1/images/" + rec.Repository + "@" + string(rec.Digest),
	}
	times := map[string][]time.Duration{}
	for b.Loop() {
		for name, p := range paths {
			start := time.Now()
			serve(b, h, p)
			times[name] = append(times[name], time.Since(start))
		}
	}
	for name, ts := range times {
		slices.Sort(ts)
		p99 := ts[len(ts)*99/100]
		b.ReportMetric(float64(p99.Microseconds())/1000, name+"-p99-ms")
		b.ReportMetric(float64(p99)/float64(imagePageGoal), name+"-p99/goal")
	}
}
