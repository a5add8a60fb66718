package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oyster-registry/oyster/catalog"
)

// The benchmark searches 100,000 generated records of about 300 packages
// each through a minimal JSON handler, as the web layer will, and reports
// p50 and p99 latency per query. The goal is p99 ≤ 10 ms.
//
//	go test -run XXX -bench BenchmarkSearch ./catalog/search
//
// The index takes minutes to build, so it is kept under .cache/bench/ at
// the module root, named by generator and mapping version; delete it to
// rebuild.

const benchRecords = 100_000

var benchGen = generator{seed: 2024, sysPkgs: 200, langPkgs: 100, perRepo: 20}

// benchQueries are typical searches: free text, two filters, facets.
var benchQueries = []string{
	"pymatgen python:3.11 cuda:12",
	"numpy pkg:scipy>=1.11 arch:arm64",
	"pkg:numpy>=1.26 os:ubuntu -type:sif",
	"jupyter pkg:pandas>=2 license:mit",
	"pkg:deb/openssl>=1.0 os:debian:12 type:index",
	"",
}

func BenchmarkSearch(b *testing.B) {
	dir := benchIndex(b)
	// The first search after Open reads the sort columns and builds the
	// facet bitsets of every segment; later ones reuse them.
	b.Run("first-after-open", func(b *testing.B) {
		for b.Loop() {
			ix := openBench(b, dir)
			if _, err := ix.Search(context.Background(), Request{}); err != nil {
				b.Fatal(err)
			}
			ix.Close()
		}
	})
	ix := openBench(b, dir)
	defer ix.Close()
	srv := httptest.NewServer(searchHandler(ix))
	defer srv.Close()
	for _, q := range benchQueries {
		name := strings.NewReplacer(" ", "_", "/", "|").Replace(q)
		b.Run("q="+name, func(b *testing.B) {
			var lat []time.Duration
			var body []byte
			for b.Loop() {
				start := time.Now()
				body = get(b, srv.URL+"/search?q="+url.QueryEscape(q))
				lat = append(lat, time.Since(start))
			}
			var res Response
			if err := json.Unmarshal(body, &res); err != nil {
				b.Fatal(err)
			}
			slices.Sort(lat)
			b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
			b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
			b.ReportMetric(float64(res.Total), "hits")
		})
	}
	benchVisible(b, ix)
}

// benchVisible times each query with and without a caller's filter that
// hides every tenth namespace, alternating the two in one loop so that
// both see the same machine, and reports the filtered latencies and their
// ratio to the unfiltered ones.
func benchVisible(b *testing.B, ix *Index) {
	hidden := map[string]bool{}
	for i := 0; i < len(namespaces); i += 10 {
		hidden[namespaces[i]] = true
	}
	visible := func(repo string) bool { return !hidden[namespace(repo)] }
	for _, q := range benchQueries {
		name := strings.NewReplacer(" ", "_", "/", "|").Replace(q)
		b.Run("visible/q="+name, func(b *testing.B) {
			var plain, filtered []time.Duration
			for b.Loop() {
				for _, v := range []func(string) bool{nil, visible} {
					start := time.Now()
					if _, err := ix.Search(context.Background(), Request{Query: q, Visible: v}); err != nil {
						b.Fatal(err)
					}
					if v == nil {
						plain = append(plain, time.Since(start))
					} else {
						filtered = append(filtered, time.Since(start))
					}
				}
			}
			slices.Sort(plain)
			slices.Sort(filtered)
			p50, p99 := len(plain)/2, len(plain)*99/100
			b.ReportMetric(ms(filtered[p50]), "p50-ms")
			b.ReportMetric(ms(filtered[p99]), "p99-ms")
			b.ReportMetric(float64(filtered[p50])/float64(plain[p50]), "p50-ratio")
			b.ReportMetric(float64(filtered[p99])/float64(plain[p99]), "p99-ratio")
		})
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// get fetches one page of results, as a browser would before parsing it.
func get(b *testing.B, u string) []byte {
	resp, err := http.Get(u)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("%s: %d %v %s", u, resp.StatusCode, err, body)
	}
	return body
}

// searchHandler is the smallest JSON API over Search, standing in for the
// web layer so that the figures include HTTP and JSON encoding.
func searchHandler(ix *Index) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := r.URL.Query()
		page, _ := strconv.Atoi(v.Get("page"))
		res, err := ix.Search(r.Context(), Request{Query: v.Get("q"), Sort: v.Get("sort"), Page: page})
		var qe *QueryError
		switch {
		case errors.As(err, &qe):
			http.Error(w, qe.Msg, http.StatusBadRequest)
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		default:
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(res)
		}
	})
}

// benchIndex returns the directory of the cached benchmark index, building
// it first if it is missing. It is built aside and renamed into place, so
// an interrupted build is never mistaken for a complete one.
func benchIndex(b *testing.B) string {
	dir := filepath.Join(moduleRoot(b), ".cache", "bench", fmt.Sprintf("search-%s-%s-%d", genVersion, mappingVersion, benchRecords))
	if _, err := os.Stat(dir); err != nil {
		buildBenchIndex(b, dir)
	}
	return dir
}

func openBench(b *testing.B, dir string) *Index {
	ix, err := Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	if n, err := ix.Count(); err != nil || n != benchRecords {
		b.Fatalf("%s holds %d records (%v); delete it to rebuild", dir, n, err)
	}
	return ix
}

func buildBenchIndex(b *testing.B, dir string) {
	tmp := dir + ".building"
	if err := os.RemoveAll(tmp); err != nil {
		b.Fatal(err)
	}
	ix, err := Open(tmp)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	const batch = 500
	for i := 0; i < benchRecords; i += batch {
		recs := make([]*catalog.Record, 0, batch)
		for j := i; j < i+batch; j++ {
			recs = append(recs, benchGen.record(j))
		}
		if err := ix.PutBatch(recs); err != nil {
			b.Fatal(err)
		}
		if (i+batch)%10000 == 0 {
			fmt.Fprintf(os.Stderr, "search bench index: %d/%d records, %s\n", i+batch, benchRecords, time.Since(start).Round(time.Second))
		}
	}
	if err := ix.Compact(context.Background()); err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "search bench index: built and compacted in %s\n", time.Since(start).Round(time.Second))
	if err := ix.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		b.Fatal(err)
	}
}

// moduleRoot finds the directory holding go.mod above the test's own.
func moduleRoot(b *testing.B) string {
	dir, err := os.Getwd()
	if err != nil {
		b.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			b.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// BenchmarkPutBatch measures indexing, per record, in batches as a
// reindex does, into a fresh index.
func BenchmarkPutBatch(b *testing.B) {
	ix, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	i := 0
	for b.Loop() {
		recs := make([]*catalog.Record, 0, 100)
		for range 100 {
			recs = append(recs, benchGen.record(i))
			i++
		}
		if err := ix.PutBatch(recs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(i), "ms/record")
}
