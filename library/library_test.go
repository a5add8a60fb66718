package library

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParseRef(t *testing.T) {
	hash := "sha256." + strings.Repeat("ab", 32)
	for in, want := range map[string]ref{
		"lab/sci/tool:1.0":     {repo: "lab/sci/tool", tag: "1.0"},
		"lab/sci/tool":         {repo: "lab/sci/tool", tag: "latest"},
		"hpc/lammps:stable":    {repo: "hpc/lammps", tag: "stable"},
		"alpine":               {repo: "alpine", tag: "latest"},
		"lab/sci/tool:" + hash: {repo: "lab/sci/tool", hash: hashDigest(hash)},
	} {
		got, err := parseRef(in)
		if err != nil || got != want {
			t.Errorf("parseRef(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for in, msg := range map[string]string{
		"lab/../tool:1":    "segments . and .. are not allowed",
		"lab/sci/./x":      "segments . and .. are not allowed",
		"a/b/c/d:1":        "needs 1 to 3 segments",
		"Lab/sci/tool":     "lower-case",
		"lab//tool":        "lower-case",
		"lab/sci/tool:UP":  "not a valid tag",
		"lab/sci/tool:a:b": "not a valid tag",
	} {
		if _, err := parseRef(in); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("parseRef(%q): %v, want an error saying %q", in, err, msg)
		}
	}
}

func TestImageIDRoundTrip(t *testing.T) {
	d := hashDigest("sha256." + strings.Repeat("0f", 32))
	id := imageID("lab/sci/tool", d)
	repo, got, err := parseImageID(id)
	if err != nil || repo != "lab/sci/tool" || got != d {
		t.Fatalf("parseImageID(%q) = %q, %q, %v", id, repo, got, err)
	}
	for _, bad := range []string{"lab~sci~tool", "lab~sci@" + libraryHash(d), "lab~..~tool@" + libraryHash(d), "lab~sci~tool@sha256.xyz"} {
		if _, _, err := parseImageID(bad); err == nil {
			t.Errorf("parseImageID(%q) accepted", bad)
		}
	}
}

func TestClaims(t *testing.T) {
	for target, want := range map[string]bool{
		"/version":                                     true,
		"/assets/config/config.prod.json":              true,
		"/v1/token-status":                             true,
		"/v1/entities":                                 true,
		"/v1/entities/lab":                             true,
		"/v1/imagefile/lab/sci/tool:1":                 true,
		"/v1/search?value=bash":                        true,
		"/v1/search?q=bash":                            false, // docker search
		"/v1/search?q=bash&value=x":                    false,
		"/v2/tags/lab~sci~tool":                        true,
		"/v2/imagefile/lab~sci~t@sha256.ab":            true,
		"/v2/imagefile/lab~sci~t@sha256.ab/_multipart": true,
		"/v2/tags/list":                                false, // tags of repository "tags"? no: OCI paths pass
		"/v2/tags/foo/tags/list":                       false,
		"/v2/imagefile/manifests/latest":               false,
		"/v2/lab/sci/tool/manifests/1":                 false,
		"/api/v1/search?value=x":                       false,
		"/v1/entitiesx":                                false,
	} {
		if got := Claims(httptest.NewRequest("GET", target, nil)); got != want {
			t.Errorf("Claims(%s) = %v, want %v", target, got, want)
		}
	}
}

func TestHasDotSegment(t *testing.T) {
	for p, want := range map[string]bool{
		"/v1/images/a/../b": true, "/v1/images/a/%2e%2e/b": true, "/v1/images/a/%2E./b": true,
		"/v1/images/./b": true, "/v1/images/a.b/c..d": false, "/v1/images/a/b": false,
	} {
		if got := hasDotSegment(p); got != want {
			t.Errorf("hasDotSegment(%q) = %v, want %v", p, got, want)
		}
	}
}
