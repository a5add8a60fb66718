package search

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/oyster-registry/oyster/catalog"
)

// search runs q over ix and returns the ids of every hit, sorted.
func search(t *testing.T, ix *Index, q string) []string {
	t.Helper()
	res, err := ix.Search(context.Background(), Request{Query: q, PerPage: MaxPerPage, Facets: []string{"type"}})
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	got := ids(res.Results)
	if res.Total != len(got) {
		t.Errorf("%s: total %d, %d results", q, res.Total, len(got))
	}
	slices.Sort(got)
	return got
}

func sorted(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	if out == nil {
		out = []string{}
	}
	return out
}

var (
	withNumpy   = []string{"np126", "np124", "np2", "nprc", "pmg12", "pmg11", "alpy", "torch"}
	withPython  = []string{"np126", "np124", "np2", "nprc", "pmg12", "pmg11", "alpy", "torch", "sklearn"}
	python311   = []string{"np126", "nprc", "pmg12", "alpy", "torch"}
	onUbuntu    = []string{"np2", "nprc", "pmg12", "pmg11", "r42", "jdk", "torch"}
	onDebian12  = []string{"np126", "np124", "r43", "julia", "sklearn"}
	onArm64     = []string{"np2", "pmg11", "r42", "alpy"}
	plainImages = []string{"np126", "np124", "nprc", "pmg12", "r43", "r42", "alpy", "julia", "jdk", "torch", "sklearn"}
)

var searchCases = []struct {
	q    string
	want []string
}{
	{"", allIDs},
	{"   ", allIDs},

	// Free text: every word must match a text field or a package name.
	{"pymatgen", []string{"pmg12", "pmg11"}},
	{"numpy", withNumpy},
	{"NumPy stack", []string{"np126", "np124"}},
	{"GPU accelerated", []string{"pmg12"}},
	{`"molecular dynamics"`, []string{"lammps"}},
	{`"dynamics molecular"`, nil},
	{"bookworm", onDebian12},
	{"python 3.11", python311},
	{"pymatgen python 3.11 cuda 12", []string{"pmg12"}},
	{"arm64", onArm64},
	{"scikit-learn", []string{"sklearn"}},
	{"ggplot2", []string{"r43"}},
	{"nothing-like-this", nil},

	// Packages and version constraints, each ecosystem by its own rules.
	{"pkg:numpy", withNumpy},
	{"pkg:numpy>=1.26", []string{"np126", "np2", "pmg12", "alpy", "torch"}},
	{"pkg:python/numpy>=1.26", []string{"np126", "np2", "pmg12", "alpy"}},
	{"pkg:conda/numpy", []string{"torch"}},
	{"pkg:numpy>=1.20,<2", []string{"np126", "np124", "nprc", "pmg12", "pmg11", "alpy", "torch"}},
	{"pkg:numpy==1.26.*", []string{"np126", "nprc", "pmg12", "alpy", "torch"}},
	{"pkg:numpy!=1.26.4", []string{"np124", "np2", "nprc", "pmg11", "alpy"}},
	{"pkg:numpy<1.26", []string{"np124", "nprc", "pmg11"}},
	{"pkg:numpy=2.0.1", []string{"np2"}},
	{"pkg:numpy>2", []string{"np2"}},
	{"pkg:numpy<=1.24.0", []string{"np124"}},
	{"pkg:numpy>=99", nil},
	{"pkg:nonexistent>=1", nil},
	{"pkg:deb/openssl>=3.0.11-1~deb12u2", []string{"np126", "np2"}},
	{"pkg:deb/openssl<3.0.11-1~deb12u2", []string{"np124", "nprc"}},
	{"pkg:openssl", []string{"np126", "np124", "np2", "nprc", "lammps", "alpy"}},
	{"pkg:apk/openssl>=3.1", []string{"alpy"}},
	{"pkg:rpm/openssl", []string{"lammps"}},
	{"pkg:scikit_learn", []string{"sklearn"}},
	{"pkg:Scikit.Learn>=1.4", []string{"sklearn"}},
	{"pkg:python/scikit-learn<1.4", nil},
	{"pkg:r/matrix>=1.6", []string{"r43"}},
	{"pkg:Matrix", []string{"r43", "r42"}},
	{"pkg:pytorch>=2", []string{"torch"}},

	// Runtimes: a bare version is a prefix on whole components.
	{"python:3.11", python311},
	{"python:3.1", nil},
	{"python:>=3.12", []string{"np2", "sklearn"}},
	{"python:>=3.10,<3.11", []string{"np124", "pmg11"}},
	{"python:*", withPython},
	{"cuda:12", []string{"pmg12", "torch"}},
	{"cuda:12.2", []string{"pmg12"}},
	{"cuda:<12", []string{"pmg11"}},
	{"cuda:*", []string{"pmg12", "pmg11", "torch"}},
	{"r:4.3", []string{"r43"}},
	{"r:>=4", []string{"r43", "r42"}},
	{"julia:1.10", []string{"julia"}},
	{"java:>=17", []string{"jdk"}},

	{"os:ubuntu", onUbuntu},
	{"os:Debian:12", onDebian12},
	{"os:ubuntu:>=22.04", []string{"np2", "nprc", "pmg12", "pmg11", "jdk", "torch"}},
	{"os:alpine:3.19", []string{"alpy"}},
	{"os:rocky:9", []string{"lammps"}},
	{"arch:arm64", onArm64},
	{"arch:aarch64", onArm64},
	{"arch:amd64", []string{"np126", "np124", "np2", "nprc", "pmg12", "pmg11", "r43", "lammps", "julia", "jdk", "torch", "sklearn"}},
	{"platform:linux/arm64", onArm64},
	{"platform:linux/arm64/v8", []string{"np2"}},

	{"label:org.example.team=chem", []string{"np126"}},
	{"label:org.example.team", []string{"np126", "np124"}},
	{`label:"org.example.note=two words"`, []string{"np126", "torch"}},
	{`label:org.example.note="two words"`, []string{"np126", "torch"}},
	{"label:org.example.note=two", nil},
	{"label:org.example.app=lammps", []string{"lammps"}},
	{"annotation:org.example.gpu=none", []string{"julia"}},
	{"annotation:org.example.gpu", []string{"julia"}},

	{"base:library/ubuntu:22.04", []string{"pmg12"}},
	{"base:library/debian", []string{"np126", "np124"}},
	{"base:sha256:u2204", []string{"pmg12"}},
	{"base:ubuntu:22.04", []string{"pmg12"}},
	{"base:docker.io/library/ubuntu:22.04", []string{"pmg12"}},

	{"repo:sci/numpy-stack", []string{"np126", "np124"}},
	{"repo:sci/numpy", nil},
	{"repo:sci/*", []string{"np126", "np124", "np2", "nprc"}},
	{"namespace:ml", []string{"julia", "jdk", "torch", "sklearn"}},
	{"tag:latest", []string{"np126", "np2"}},
	{"digest:sha256:np2", []string{"np2"}},
	{"type:sif", []string{"lammps"}},
	{"type:index", []string{"np2", "pmg11"}},
	{"type:artifact", []string{"sbom"}},
	{"type:IMAGE", plainImages},
	{"license:mit", []string{"np126", "np124", "pmg12", "pmg11"}},
	{"license:Apache-2.0", []string{"pmg12"}},
	{"license:gpl-2.0-or-later", []string{"r43"}},

	// Negation and combinations.
	{"-numpy os:ubuntu", []string{"r42", "jdk"}},
	{"-pkg:numpy", []string{"r43", "r42", "lammps", "julia", "jdk", "sbom", "sklearn"}},
	{"-type:image", []string{"np2", "pmg11", "lammps", "sbom"}},
	{"-type:image -type:index", []string{"lammps", "sbom"}},
	{"numpy -python:3.11", []string{"np124", "np2", "pmg11"}},
	{"pkg:numpy>=1.26 os:ubuntu -type:index", []string{"pmg12", "torch"}},
	{"pymatgen python:3.11 cuda:12", []string{"pmg12"}},
	{"numpy pkg:scipy>=1.11 arch:arm64", []string{"np2"}},
}

func TestSearchFilters(t *testing.T) {
	ix := openFixtures(t)
	for _, c := range searchCases {
		if got, want := search(t, ix, c.q), sorted(c.want...); !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %v\nwant %v", c.q, got, want)
		}
	}
}

func TestFacets(t *testing.T) {
	ix := openFixtures(t)
	res, err := ix.Search(context.Background(), Request{Query: "os:ubuntu"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"arch":      "arch:amd64=6 arch:arm64=3",
		"os":        "os:ubuntu:22.04=5 os:ubuntu:20.04=1 os:ubuntu:24.04=1",
		"type":      "type:image=5 type:index=2",
		"namespace": "namespace:materials=2 namespace:ml=2 namespace:sci=2 namespace:stats=1",
		"python":    "python:3.11=3 python:3.10=1 python:3.12=1",
		"cuda":      "cuda:11.8=1 cuda:12.1=1 cuda:12.2=1",
		"license":   "license:BSD-3-Clause=2 license:MIT=2 license:Apache-2.0=1",
		"packages":  "pkg:numpy=5 pkg:pymatgen=2 pkg:scipy=2 pkg:matrix=1 pkg:pytorch=1",
	}
	if len(res.Facets) != len(want) {
		t.Errorf("facets %v, want %d", res.Facets, len(want))
	}
	for name, w := range want {
		var got []string
		for _, fc := range res.Facets[name] {
			got = append(got, fc.Filter+"="+strconv.Itoa(fc.Count))
		}
		if g := strings.Join(got, " "); g != w {
			t.Errorf("facet %s:\n got %s\nwant %s", name, g, w)
		}
	}
}

func TestFacetFiltersRoundTrip(t *testing.T) {
	ix := openFixtures(t)
	res, err := ix.Search(context.Background(), Request{})
	if err != nil {
		t.Fatal(err)
	}
	for name, counts := range res.Facets {
		for _, fc := range counts {
			got := search(t, ix, fc.Filter)
			if len(got) != fc.Count {
				t.Errorf("facet %s: %s counts %d, finds %d", name, fc.Filter, fc.Count, len(got))
			}
		}
	}
}

func TestSort(t *testing.T) {
	ix := openFixtures(t)
	cases := []struct {
		q, sort string
		want    []string
	}{
		{"pkg:numpy", SortUpdated, []string{"np2", "torch", "pmg12", "np126", "alpy", "nprc", "pmg11", "np124"}},
		{"pkg:numpy", "", []string{"np2", "torch", "pmg12", "np126", "alpy", "nprc", "pmg11", "np124"}},
		{"os:debian", SortName, []string{"julia", "sklearn", "np126", "np124", "r43"}},
	}
	for _, c := range cases {
		res, err := ix.Search(context.Background(), Request{Query: c.q, Sort: c.sort})
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(res.Results); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s sort %q:\n got %v\nwant %v", c.q, c.sort, got, c.want)
		}
	}
}

// TestRelevance checks that a match in the repository name ranks above a
// match in a description, and that hits carry scores and highlights.
func TestRelevance(t *testing.T) {
	ix := openFixtures(t)
	res, err := ix.Search(context.Background(), Request{Query: "materials"})
	if err != nil {
		t.Fatal(err)
	}
	got := ids(res.Results)
	if len(got) != 3 || got[2] != "lammps" {
		t.Fatalf("materials: %v, want pymatgen images then lammps", got)
	}
	if res.Results[0].Score <= res.Results[2].Score {
		t.Errorf("scores %v, %v", res.Results[0].Score, res.Results[2].Score)
	}
	if hl := res.Results[2].Highlights["description"]; len(hl) != 1 || !strings.Contains(hl[0], "<mark>materials</mark>") {
		t.Errorf("lammps highlights %v", res.Results[2].Highlights)
	}
}

func TestHit(t *testing.T) {
	ix := openFixtures(t)
	res, err := ix.Search(context.Background(), Request{Query: "digest:sha256:pmg12"})
	if err != nil {
		t.Fatal(err)
	}
	want := Hit{
		Repository: "materials/pymatgen-cuda", Digest: "sha256:pmg12", Tags: []string{"2024.2.8-cuda12"},
		Kind: "image", Title: "pymatgen on CUDA", Description: "Materials analysis with pymatgen, GPU accelerated",
		Platforms: []string{"linux/amd64"}, Updated: day("2024-04-01"), Size: 5 << 20,
		Python: "3.11.9", CUDA: "12.2.2", OS: "Ubuntu 22.04.4 LTS",
	}
	if len(res.Results) != 1 || !reflect.DeepEqual(res.Results[0], want) {
		t.Errorf("hit\n got %+v\nwant %+v", res.Results, want)
	}
	res, err = ix.Search(context.Background(), Request{Query: "digest:sha256:np2"})
	if err != nil {
		t.Fatal(err)
	}
	if p := res.Results[0].Platforms; !reflect.DeepEqual(p, []string{"linux/amd64", "linux/arm64/v8"}) {
		t.Errorf("np2 platforms %v", p)
	}
}

// TestPagination walks every page of a sort with many ties and checks
// that the pages add up to the single-page answer.
func TestPagination(t *testing.T) {
	ix := openFixtures(t)
	for _, q := range []string{"", "numpy", "type:image"} {
		for _, sort := range []string{SortRelevance, SortUpdated, SortName} {
			all, err := ix.Search(context.Background(), Request{Query: q, Sort: sort, PerPage: MaxPerPage})
			if err != nil {
				t.Fatal(err)
			}
			var paged []string
			for page := 1; ; page++ {
				res, err := ix.Search(context.Background(), Request{Query: q, Sort: sort, Page: page, PerPage: 4})
				if err != nil {
					t.Fatal(err)
				}
				if res.Total != all.Total {
					t.Errorf("%q page %d: total %d, want %d", q, page, res.Total, all.Total)
				}
				if len(res.Results) == 0 {
					break
				}
				paged = append(paged, ids(res.Results)...)
			}
			if want := ids(all.Results); !reflect.DeepEqual(paged, want) {
				t.Errorf("%q sort %s: pages\n %v\nsingle\n %v", q, sort, paged, want)
			}
		}
	}
}

func TestPutDeleteReset(t *testing.T) {
	dir := t.TempDir()
	ix, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !ix.Fresh() {
		t.Error("new index not fresh")
	}
	recs := fixtures()
	for _, r := range recs {
		if err := ix.Put(r); err != nil {
			t.Fatal(err)
		}
	}
	assertCount(t, ix, len(recs))

	// Put replaces: the tag moves.
	np2 := recs[2]
	np2.Tags = []string{"2.0"}
	if err := ix.Put(np2); err != nil {
		t.Fatal(err)
	}
	assertCount(t, ix, len(recs))
	if got := search(t, ix, "tag:latest"); !reflect.DeepEqual(got, []string{"np126"}) {
		t.Errorf("tag:latest after retag: %v", got)
	}
	if got := search(t, ix, "tag:2.0"); !reflect.DeepEqual(got, []string{"np2"}) {
		t.Errorf("tag:2.0 after retag: %v", got)
	}

	if err := ix.Delete(recs[4].Ref()); err != nil {
		t.Fatal(err)
	}
	if err := ix.Delete(catalog.Ref{Repo: "no/such", Digest: "sha256:0"}); err != nil {
		t.Errorf("deleting a missing key: %v", err)
	}
	assertCount(t, ix, len(recs)-1)
	if got := search(t, ix, "pymatgen"); !reflect.DeepEqual(got, []string{"pmg11"}) {
		t.Errorf("pymatgen after delete: %v", got)
	}

	// Reopening keeps the documents.
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if ix, err = Open(dir); err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if ix.Fresh() {
		t.Error("reopened index is fresh")
	}
	assertCount(t, ix, len(recs)-1)

	if err := ix.Reset(); err != nil {
		t.Fatal(err)
	}
	assertCount(t, ix, 0)
	if got := search(t, ix, ""); len(got) != 0 {
		t.Errorf("after reset: %v", got)
	}
	if err := ix.PutBatch(recs[:2]); err != nil {
		t.Fatal(err)
	}
	assertCount(t, ix, 2)
}

// TestOpenOtherMapping checks that an index written with another mapping
// version is rebuilt empty and reported fresh.
func TestOpenOtherMapping(t *testing.T) {
	dir := t.TempDir()
	ix, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.PutBatch(fixtures()); err != nil {
		t.Fatal(err)
	}
	if err := ix.bi.SetInternal(versionKey, []byte("oyster-search-0")); err != nil {
		t.Fatal(err)
	}
	ix.Close()
	ix, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if !ix.Fresh() {
		t.Error("index of another mapping not reported fresh")
	}
	assertCount(t, ix, 0)
}

func assertCount(t *testing.T, ix *Index, want int) {
	t.Helper()
	if n, err := ix.Count(); err != nil || n != want {
		t.Errorf("count %d, %v; want %d", n, err, want)
	}
}

func TestSearchRequestErrors(t *testing.T) {
	ix := openFixtures(t)
	cases := []struct {
		req Request
		msg string
		pos int
	}{
		{Request{Query: "pgk:numpy"}, `unknown filter "pgk"; known filters: ` + knownFilters(), 0},
		{Request{Sort: "size"}, `unknown sort "size"; known: name, relevance, updated`, -1},
		{Request{Facets: []string{"arch", "colour"}}, `unknown facet "colour"; known facets: arch, cuda, license, namespace, os, packages, python, type`, -1},
		{Request{Page: 501}, "page 501 is past the first 10000 results; refine the query", -1},
		{Request{Page: 101, PerPage: 500}, "page 101 is past the first 10000 results; refine the query", -1},
	}
	for _, c := range cases {
		_, err := ix.Search(context.Background(), c.req)
		var qe *QueryError
		if !errors.As(err, &qe) || qe.Msg != c.msg || qe.Pos != c.pos {
			t.Errorf("%+v: error %#v, want %q at %d", c.req, err, c.msg, c.pos)
		}
	}
	if _, err := ix.Search(context.Background(), Request{Page: 500}); err != nil {
		t.Errorf("last page: %v", err)
	}
}

func TestSearchCancelled(t *testing.T) {
	ix := openFixtures(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ix.Search(ctx, Request{Query: "numpy"}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled search: %v", err)
	}
}

// TestConcurrentUse searches while records are put, deleted and the index
// reset; run with -race.
func TestConcurrentUse(t *testing.T) {
	ix := openFixtures(t)
	recs := generated(60)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i, rec := range recs {
			if err := ix.Put(rec); err != nil {
				t.Error(err)
			}
			if i%20 == 19 {
				if err := ix.Reset(); err != nil {
					t.Error(err)
				}
			}
		}
	}()
	for {
		select {
		case <-done:
			return
		default:
		}
		for _, q := range []string{"", "numpy python:3.11", "pkg:numpy>=1.26 -type:sif"} {
			if _, err := ix.Search(context.Background(), Request{Query: q}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// One per repository keeps each repository's first hit in the order of
// the full list, up to PerPage, and serves only the first page.
func TestOnePerRepository(t *testing.T) {
	ix := openFixtures(t)
	ctx := context.Background()
	all, err := ix.Search(ctx, Request{Sort: SortUpdated, PerPage: MaxPerPage, NoFacets: true})
	if err != nil {
		t.Fatal(err)
	}
	first := map[string]string{} // repository → id of its first hit
	var repos []string
	for _, h := range all.Results {
		if _, ok := first[h.Repository]; !ok {
			first[h.Repository] = id(h)
			repos = append(repos, h.Repository)
		}
	}
	if len(repos) == len(all.Results) || len(repos) < 4 {
		t.Fatalf("the fixtures must have repositories with several images, and several repositories: %d of %d", len(repos), len(all.Results))
	}
	for _, per := range []int{3, MaxPerPage} {
		res, err := ix.Search(ctx, Request{Sort: SortUpdated, PerPage: per, NoFacets: true, OnePerRepository: true})
		if err != nil {
			t.Fatal(err)
		}
		var got, want []string
		for _, h := range res.Results {
			got = append(got, h.Repository+" "+id(h))
		}
		for _, repo := range repos[:min(per, len(repos))] {
			want = append(want, repo+" "+first[repo])
		}
		if !reflect.DeepEqual(got, want) || res.Total != all.Total {
			t.Errorf("per page %d: %q (total %d), want %q (total %d)", per, got, res.Total, want, all.Total)
		}
	}
	var qe *QueryError
	if _, err := ix.Search(ctx, Request{Page: 2, OnePerRepository: true}); !errors.As(err, &qe) {
		t.Errorf("page 2: %v, want a QueryError", err)
	}
}
