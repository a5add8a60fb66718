package search

import (
	"context"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/version"
)

// The oracle tests index generated records and compare every answer with
// a brute-force scan of the same records: what the index resolves through
// its term dictionaries must equal what a loop over the records finds.

type pred func(*catalog.Record) bool

func hasPkg(eco, name, cons string) pred {
	return func(rec *catalog.Record) bool {
		for _, p := range rec.Packages {
			if (eco == "" || p.Ecosystem == eco) && normName(p.Ecosystem, p.Name) == normName(p.Ecosystem, name) {
				if ok, _ := version.Matches(version.SchemeFor(p.Ecosystem), p.Version, cons); cons == "" || ok {
					return true
				}
			}
		}
		return false
	}
}

func runtimeIs(name, cons string) pred {
	return func(rec *catalog.Record) bool {
		v := rec.Runtimes[name]
		if name == "cuda" {
			v = rec.CUDA
		}
		scheme := version.Generic
		if name == "python" {
			scheme = version.PEP440
		}
		ok, _ := version.Matches(scheme, v, cons)
		return v != "" && (cons == "*" || ok)
	}
}

func osIs(id, ver string) pred {
	return func(rec *catalog.Record) bool {
		return rec.OS.ID == id && (ver == "" || rec.OS.VersionID == ver)
	}
}

func kindIs(k string) pred { return func(rec *catalog.Record) bool { return rec.Kind == k } }

func hasPlatformArch(arch string) pred {
	return func(rec *catalog.Record) bool {
		return slices.ContainsFunc(rec.Platforms, func(p string) bool { return strings.Split(p, "/")[1] == arch }) ||
			(len(rec.Platforms) == 0 && rec.SIF != nil && rec.SIF.Arch == arch)
	}
}

func all(ps ...pred) pred {
	return func(rec *catalog.Record) bool {
		for _, p := range ps {
			if !p(rec) {
				return false
			}
		}
		return true
	}
}

func not(p pred) pred { return func(rec *catalog.Record) bool { return !p(rec) } }

func generated(n int) []*catalog.Record {
	g := generator{seed: 7, sysPkgs: 40, langPkgs: 25, perRepo: 4}
	recs := make([]*catalog.Record, n)
	for i := range recs {
		recs[i] = g.record(i)
	}
	return recs
}

func TestSearchMatchesScan(t *testing.T) {
	recs := generated(800)
	ix, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if err := ix.PutBatch(recs); err != nil {
		t.Fatal(err)
	}
	ns := namespace(recs[0].Repository)
	// An openssl version in the middle of Debian 12's updates.
	openssl := sysVersion(3, "openssl") + "-1~deb12u2"
	cases := []struct {
		q    string
		want pred
	}{
		{"pkg:numpy>=1.26", hasPkg("", "numpy", ">=1.26")},
		{"pkg:numpy>=1.20,<2", hasPkg("", "numpy", ">=1.20,<2")},
		{"pkg:python/numpy==1.26.*", hasPkg("python", "numpy", "==1.26.*")},
		{"pkg:conda/numpy", hasPkg("conda", "numpy", "")},
		{"pkg:deb/openssl>=" + openssl, hasPkg("deb", "openssl", ">="+openssl)},
		{"numpy pkg:scipy>=1.11 arch:arm64", all(hasPkg("", "numpy", ""), hasPkg("", "scipy", ">=1.11"), hasPlatformArch("arm64"))},
		{"pkg:numpy>=1.26 os:ubuntu -type:sif", all(hasPkg("", "numpy", ">=1.26"), osIs("ubuntu", ""), not(kindIs("sif")))},
		{"pymatgen", hasPkg("", "pymatgen", "")},
		{"pymatgen python:3.11 cuda:12", all(hasPkg("", "pymatgen", ""), runtimeIs("python", "3.11"), runtimeIs("cuda", "12"))},
		{"python:>=3.10,<3.12 -cuda:*", all(runtimeIs("python", ">=3.10,<3.12"), not(runtimeIs("cuda", "*")))},
		{"r:4.3", runtimeIs("r", "4.3")},
		{"java:>=17", runtimeIs("java", ">=17")},
		{"os:debian:12 type:index", all(osIs("debian", "12"), kindIs("index"))},
		{"label:org.example.gpu=true", func(rec *catalog.Record) bool { return rec.Labels["org.example.gpu"] == "true" }},
		{"repo:" + ns + "/*", func(rec *catalog.Record) bool { return strings.HasPrefix(rec.Repository, ns+"/") }},
		{"tag:latest -arch:amd64", all(func(rec *catalog.Record) bool { return slices.Contains(rec.Tags, "latest") }, not(hasPlatformArch("amd64")))},
	}
	for _, c := range cases {
		var want []string
		for _, rec := range recs {
			if c.want(rec) {
				want = append(want, rec.Digest.Encoded())
			}
		}
		if len(want) == 0 {
			t.Errorf("%s: the generator makes no record for it", c.q)
		}
		if got := searchAll(t, ix, c.q); !reflect.DeepEqual(got, sorted(want...)) {
			t.Errorf("%s: %d results, scan finds %d", c.q, len(got), len(want))
		}
	}
}

// searchAll pages through every result of q and returns the ids, sorted.
func searchAll(t *testing.T, ix *Index, q string) []string {
	t.Helper()
	got := []string{}
	for page := 1; ; page++ {
		res, err := ix.Search(context.Background(), Request{Query: q, Page: page, PerPage: MaxPerPage, Facets: []string{"type"}})
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if len(res.Results) == 0 {
			break
		}
		got = append(got, ids(res.Results)...)
	}
	slices.Sort(got)
	return got
}

func TestGeneratedFacetsRoundTrip(t *testing.T) {
	ix, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if err := ix.PutBatch(generated(300)); err != nil {
		t.Fatal(err)
	}
	res, err := ix.Search(context.Background(), Request{Query: "-type:artifact"})
	if err != nil {
		t.Fatal(err)
	}
	for name, counts := range res.Facets {
		if len(counts) == 0 {
			t.Errorf("facet %s is empty", name)
		}
		for _, fc := range counts {
			r, err := ix.Search(context.Background(), Request{Query: "-type:artifact " + fc.Filter, Facets: []string{"type"}})
			if err != nil {
				t.Fatal(err)
			}
			if r.Total != fc.Count {
				t.Errorf("facet %s: %s counts %d, finds %d", name, fc.Filter, fc.Count, r.Total)
			}
		}
	}
}

// TestFacetCountingWays checks that counting per hit and per term agree,
// whichever the cost estimate would pick.
func TestFacetCountingWays(t *testing.T) {
	ix, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if err := ix.PutBatch(generated(400)); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"", "pymatgen", "pkg:numpy>=1.26 -arch:arm64", "r:4.3", "type:sif"} {
		p, err := plan(Request{Query: q})
		if err != nil {
			t.Fatal(err)
		}
		r, done, err := ix.start(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		for name, spec := range facetSpecs {
			cols := make([]*facetColumn, len(r.views))
			for i, v := range r.views {
				if cols[i], err = v.cache.facet(v, spec.field); err != nil {
					t.Fatal(err)
				}
			}
			perHit, perTerm := r.countPerHit(cols), r.countPerTerm(cols, spec)
			if spec.group {
				perHit, perTerm = groupCounts(perHit), groupCounts(perTerm)
			}
			if a, b := sortCounts(perHit, spec.size), sortCounts(perTerm, spec.size); !reflect.DeepEqual(a, b) {
				t.Errorf("%q facet %s: per hit %v, per term %v", q, name, a, b)
			}
		}
		done()
	}
}

// TestChurnMatchesScan indexes records one by one, retags and deletes some
// while searching, so that searches run over many segments, in memory and
// on disk, with deleted documents, and checks every answer against a scan.
func TestChurnMatchesScan(t *testing.T) {
	recs := generated(240)
	ix, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	live := map[catalog.Ref]*catalog.Record{}
	check := func(stage string) {
		t.Helper()
		for _, c := range []struct {
			q    string
			want pred
		}{
			{"", func(*catalog.Record) bool { return true }},
			{"tag:latest", func(rec *catalog.Record) bool { return slices.Contains(rec.Tags, "latest") }},
			{"pkg:numpy>=1.26 -type:index", all(hasPkg("", "numpy", ">=1.26"), not(kindIs("index")))},
		} {
			var want []string
			for _, rec := range live {
				if c.want(rec) {
					want = append(want, rec.Digest.Encoded())
				}
			}
			if got := searchAll(t, ix, c.q); !reflect.DeepEqual(got, sorted(want...)) {
				t.Errorf("%s, %q: %d results, scan finds %d", stage, c.q, len(got), len(want))
			}
		}
	}
	for i, rec := range recs {
		if err := ix.Put(rec); err != nil {
			t.Fatal(err)
		}
		live[rec.Ref()] = rec
		if i%60 == 59 {
			check("after put " + strconv.Itoa(i))
		}
	}
	for i, rec := range recs {
		switch i % 3 {
		case 0:
			rec.Tags = append(rec.Tags, "latest")
			if err := ix.Put(rec); err != nil {
				t.Fatal(err)
			}
		case 1:
			if err := ix.Delete(rec.Ref()); err != nil {
				t.Fatal(err)
			}
			delete(live, rec.Ref())
		}
	}
	check("after retag and delete")
	assertCount(t, ix, len(live))
}
