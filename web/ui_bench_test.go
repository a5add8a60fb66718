package web

import (
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/catalogtest"
	"github.com/oyster-registry/oyster/catalog/pkgdb"
)

// uiBenchRecords is the catalog size the search page's goal is stated for.
const uiBenchRecords = 10000

// uiSearchPageGoal is the p99 server time goal for the results page.
const uiSearchPageGoal = 50 * time.Millisecond

// uiBenchQueries are what people type: nothing, words, filters, negation,
// another sort, a later page.
var uiBenchQueries = []url.Values{
	{"q": {""}},
	{"q": {"numpy"}},
	{"q": {"pymatgen python:3.11"}},
	{"q": {"pkg:numpy>=1.26 cuda:12"}},
	{"q": {"scientific python"}, "sort": {"updated"}},
	{"q": {"os:ubuntu -type:sif"}, "page": {"3"}},
	{"q": {"arch:arm64 pkg:torch"}},
	{"q": {"label:org.example.team=chem"}, "sort": {"name"}},
}

// BenchmarkSearchPage measures the server time of GET /search over a
// catalog of uiBenchRecords images and reports the p50 and p99 of single
// requests against uiSearchPageGoal. One iteration serves every query of
// uiBenchQueries once, so that even a short run has enough requests for a
// p99. Run it with
//
//	go test -run XXX -bench BenchmarkSearchPage ./web
func BenchmarkSearchPage(b *testing.B) {
	h := uiBenchSite(b)
	var times []time.Duration
	for b.Loop() {
		for _, q := range uiBenchQueries {
			req := httptest.NewRequest(http.MethodGet, "/search?"+q.Encode(), nil)
			w := httptest.NewRecorder()
			start := time.Now()
			h.ServeHTTP(w, req)
			times = append(times, time.Since(start))
			if w.Code != http.StatusOK {
				b.Fatalf("%s: %d\n%s", req.URL, w.Code, w.Body)
			}
		}
	}
	slices.Sort(times)
	p99 := times[len(times)*99/100]
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(p99)/float64(uiSearchPageGoal), "p99/goal")
}

// uiBenchSite builds a catalog of uiBenchRecords made-up but realistic records
// (store and index, as the indexer would) and returns the web handler.
func uiBenchSite(b *testing.B) http.Handler {
	b.Helper()
	c := catalogtest.New(b)
	rng := rand.New(rand.NewPCG(1, 2))
	recs := make([]*catalog.Record, uiBenchRecords)
	for i := range recs {
		recs[i] = uiBenchRecord(rng, i)
	}
	c.Put(b, recs...)
	return New(Options{Store: c.Store, Search: c.Search, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

var (
	uiBenchNamespaces = []string{"lab", "materials", "chem", "bio", "physics", "hpc", "ml", "climate", "astro", "stats"}
	uiBenchTools      = []string{"numpy", "scipy", "pandas", "pymatgen", "torch", "tensorflow", "jax", "xarray", "dask", "ase", "rdkit", "biopython", "scikit-learn", "matplotlib", "jupyterlab"}
	uiBenchOS         = []pkgdb.OSRelease{
		{ID: "debian", VersionID: "12", PrettyName: "Debian GNU/Linux 12 (bookworm)"},
		{ID: "ubuntu", VersionID: "22.04", PrettyName: "Ubuntu 22.04.4 LTS"},
		{ID: "ubuntu", VersionID: "24.04", PrettyName: "Ubuntu 24.04 LTS"},
		{ID: "rocky", VersionID: "9.3", PrettyName: "Rocky Linux 9.3 (Blue Onyx)"},
	}
	uiBenchPython = []string{"3.9.18", "3.10.13", "3.11.7", "3.12.1"}
	uiBenchCUDA   = []string{"", "", "11.8.0", "12.2.0", "12.4.1"}
)

func uiBenchRecord(rng *rand.Rand, i int) *catalog.Record {
	ns := uiBenchNamespaces[rng.IntN(len(uiBenchNamespaces))]
	tool := uiBenchTools[rng.IntN(len(uiBenchTools))]
	rec := &catalog.Record{
		Repository: fmt.Sprintf("%s/%s-%d", ns, tool, i/4), Digest: digest.Digest(fmt.Sprintf("sha256:%064x", i+1)),
		Kind: catalog.KindImage, Tags: []string{fmt.Sprintf("v%d", i%4)},
		Updated:   time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour),
		Platforms: []string{"linux/amd64"}, Size: int64(200+rng.IntN(4000)) << 20, OS: uiBenchOS[rng.IntN(len(uiBenchOS))],
		OCI:      catalog.OCIInfo{Title: tool + " environment", Description: "Scientific Python with " + tool + " for " + ns + " research", Licenses: "MIT"},
		Labels:   map[string]string{"org.example.team": uiBenchNamespaces[rng.IntN(3)]},
		Runtimes: map[string]string{"python": uiBenchPython[rng.IntN(len(uiBenchPython))]},
		CUDA:     uiBenchCUDA[rng.IntN(len(uiBenchCUDA))],
	}
	if i%5 == 0 {
		rec.Platforms = append(rec.Platforms, "linux/arm64")
		rec.Kind = catalog.KindIndex
	}
	if i%23 == 0 {
		rec.Kind = catalog.KindSIF
	}
	for _, t := range append([]string{tool}, uiBenchTools[rng.IntN(len(uiBenchTools))], "numpy", "pip", "setuptools") {
		rec.Packages = append(rec.Packages, catalog.Package{Name: t, Version: fmt.Sprintf("1.%d.%d", rng.IntN(30), rng.IntN(10)), Ecosystem: "python"})
	}
	for j := range 150 { // a distribution's worth of system packages
		rec.Packages = append(rec.Packages, catalog.Package{Name: fmt.Sprintf("lib%03d", j), Version: "2.36-9", Ecosystem: "deb"})
	}
	return rec
}
