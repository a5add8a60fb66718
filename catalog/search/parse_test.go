package search

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		q    string
		want []Term
	}{
		{"", nil},
		{` "" -"" `, nil},
		{"pymatgen  -GPU", []Term{{Pos: 0, Value: "pymatgen"}, {Pos: 10, Negated: true, Value: "GPU"}}},
		{`"two words" -"x y"`, []Term{{Pos: 0, Value: "two words", Phrase: true}, {Pos: 12, Negated: true, Value: "x y", Phrase: true}}},
		{"PKG:numpy>=1.20,<2", []Term{{Filter: "pkg", Value: "numpy>=1.20,<2"}}},
		{`label:k="a \"b\" \\"`, []Term{{Filter: "label", Value: `k=a "b" \`}}},
		{`label:"k=two words"x`, []Term{{Filter: "label", Value: "k=two wordsx"}}},
		{"os:debian:12\t-type:sif", []Term{{Filter: "os", Value: "debian:12"}, {Pos: 13, Negated: true, Filter: "type", Value: "sif"}}},
		{`"ubuntu:22.04" 10:30 c++ a-b`, []Term{
			{Value: "ubuntu:22.04", Phrase: true}, {Pos: 15, Value: "10:30"}, {Pos: 21, Value: "c++"}, {Pos: 25, Value: "a-b"},
		}},
		{"python:* cuda:12 r:>=4.3 julia:1.10 java:21", []Term{
			{Filter: "python", Value: "*"}, {Pos: 9, Filter: "cuda", Value: "12"}, {Pos: 17, Filter: "r", Value: ">=4.3"},
			{Pos: 25, Filter: "julia", Value: "1.10"}, {Pos: 36, Filter: "java", Value: "21"},
		}},
		{"repo:ns/* namespace:ns tag:v1 digest:sha256:ab base:ubuntu:22.04 license:MIT arch:x86_64 platform:linux/arm64", []Term{
			{Filter: "repo", Value: "ns/*"}, {Pos: 10, Filter: "namespace", Value: "ns"}, {Pos: 23, Filter: "tag", Value: "v1"},
			{Pos: 30, Filter: "digest", Value: "sha256:ab"}, {Pos: 47, Filter: "base", Value: "ubuntu:22.04"},
			{Pos: 65, Filter: "license", Value: "MIT"}, {Pos: 77, Filter: "arch", Value: "x86_64"},
			{Pos: 89, Filter: "platform", Value: "linux/arm64"},
		}},
	}
	for _, c := range cases {
		q, err := Parse(c.q)
		if err != nil {
			t.Errorf("%q: %v", c.q, err)
			continue
		}
		got := q.Terms
		for i := range got {
			if got[i].clause == nil {
				t.Errorf("%q: term %d has no meaning", c.q, i)
			}
			got[i].clause = nil
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", c.q, got, c.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	long := strings.Repeat("a ", MaxQueryBytes/2+1)
	many := strings.Repeat("w ", MaxQueryTerms) + "last"
	cases := []struct {
		q   string
		pos int
		msg string
	}{
		{"pgk:numpy", 0, `unknown filter "pgk"; known filters: annotation, arch, base, cuda, digest, java, julia, label, license, namespace, os, pkg, platform, python, r, repo, tag, type`},
		{"ubuntu:22.04", 0, `unknown filter "ubuntu"; known filters: ` + knownFilters()},
		{"numpy pkg:numpy>>1", 6, `bad version constraint ">>1" in pkg:numpy>>1`},
		{"-pkg:numpy>=", 0, `bad version constraint ">=" in pkg:numpy>=`},
		{"pkg:numpy>=1.20,", 0, `bad version constraint "" in pkg:numpy>=1.20,`},
		{"pkg:numpy=>1", 0, `bad version constraint "=>1" in pkg:numpy=>1`},
		{"pkg:", 0, `missing value after "pkg:"`},
		{`x pkg:""`, 2, `missing value after "pkg:"`},
		{"pkg:>=1", 0, "missing package name in pkg:>=1"},
		{"pkg:deb/", 0, "missing package name in pkg:deb/"},
		{"pkg:npm/left-pad", 0, `unknown package ecosystem "npm" in pkg:npm/left-pad; known: apk, conda, deb, python, r, rpm`},
		{"python:>=3.10,,<4", 0, `bad version constraint "" in python:>=3.10,,<4`},
		{"cuda:>>12", 0, `bad version constraint ">>12" in cuda:>>12`},
		{"r:4.3 java:!", 6, `bad version constraint "!" in java:!`},
		{"os::12", 0, "missing OS name in os::12; e.g. os:debian or os:debian:12"},
		{"os:debian:", 0, `bad version constraint "" in os:debian:`},
		{"os:debian:<<12", 0, `bad version constraint "<<12" in os:debian:<<12`},
		{"type:docker", 0, `unknown type "docker" in type:docker; known: artifact, image, index, sif`},
		{"label:=x", 0, "missing key in label:=x; write label:KEY=VALUE or label:KEY"},
		{"annotation:=", 0, "missing key in annotation:=; write annotation:KEY=VALUE or annotation:KEY"},
		{`label:"unterminated`, 6, "unterminated quote at position 6"},
		{`ok "open`, 3, "unterminated quote at position 3"},
		{"foo -", 4, `nothing after "-"; write -word or -filter:value`},
		{"- foo", 0, `nothing after "-"; write -word or -filter:value`},
		{long, MaxQueryBytes, "query is too long (2050 bytes; at most 2048)"},
		{many, 2 * MaxQueryTerms, "too many terms (at most 32)"},
	}
	for _, c := range cases {
		q, err := Parse(c.q)
		var qe *QueryError
		if !errors.As(err, &qe) {
			t.Errorf("%.40q: got %v, %v; want error %q", c.q, q, err, c.msg)
			continue
		}
		if qe.Msg != c.msg || qe.Pos != c.pos || qe.Error() != c.msg {
			t.Errorf("%.40q:\n got %q at %d\nwant %q at %d", c.q, qe.Msg, qe.Pos, c.msg, c.pos)
		}
	}
}

func TestQuoteValueRoundTrip(t *testing.T) {
	for _, v := range []string{"MIT", "two words", `say "hi"`, `back\slash`, `both \ and "`, "tab\there"} {
		q, err := Parse("label:" + quoteValue(v))
		if err != nil {
			t.Errorf("%q: %v", v, err)
			continue
		}
		if len(q.Terms) != 1 || q.Terms[0].Value != v {
			t.Errorf("%q came back as %+v", v, q.Terms)
		}
	}
}

// FuzzParse checks that no query makes Parse panic or misreport, and that
// every query Parse accepts also searches without error.
func FuzzParse(f *testing.F) {
	ix := openFixtures(f)
	for _, s := range []string{"", "numpy", `pkg:numpy>=1.20,<2 -type:sif "a b"`, `label:"k=v w"`, "os:debian:12", "-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(s)
		if err != nil {
			var qe *QueryError
			if !errors.As(err, &qe) || qe.Msg == "" || qe.Pos < 0 || qe.Pos > len(s) {
				t.Fatalf("%q: error %#v", s, err)
			}
			return
		}
		if len(q.Terms) > MaxQueryTerms {
			t.Fatalf("%q: %d terms", s, len(q.Terms))
		}
		for _, term := range q.Terms {
			if term.Pos < 0 || term.Pos >= len(s) {
				t.Fatalf("%q: term at %d", s, term.Pos)
			}
		}
		if _, err := ix.Search(context.Background(), Request{Query: s}); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
	})
}
