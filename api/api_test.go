package api

import (
	"encoding/json"
	"go/build"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestImportsNothingOfOurs keeps this package usable by any client: the
// standard library and go-digest only.
func TestImportsNothingOfOurs(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range append(pkg.Imports, pkg.TestImports...) {
		first, _, _ := strings.Cut(imp, "/")
		if strings.Contains(first, ".") && imp != "github.com/opencontainers/go-digest" {
			t.Errorf("package api imports %s; it may import only the standard library and go-digest", imp)
		}
	}
	if len(pkg.Imports) == 0 {
		t.Fatal("no imports found: is the test looking at the right directory?")
	}
}

func TestOrderedKeepsOrder(t *testing.T) {
	in := AllowedImages{{"zeta", "r/z@sha256:1"}, {"alpha", "r/a@sha256:2"}, {"<&>", "r/x@sha256:3"}}
	raw, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"zeta":"r/z@sha256:1","alpha":"r/a@sha256:2","\u003c\u0026\u003e":"r/x@sha256:3"}`; string(raw) != want {
		t.Fatalf("marshalled %s, want %s", raw, want)
	}
	var out AllowedImages
	if err := json.Unmarshal(raw, &out); err != nil || !slices.Equal(in, out) {
		t.Fatalf("round trip: %v %v", out, err)
	}
	var choices Ordered[ProfileChoice]
	if err := json.Unmarshal([]byte(`{"b":{"display_name":"B","default":true},"a":{"display_name":"A"}}`), &choices); err != nil {
		t.Fatal(err)
	}
	if len(choices) != 2 || choices[0].Key != "b" || !choices[0].Value.Default || choices[1].Value.DisplayName != "A" {
		t.Fatalf("choices: %+v", choices)
	}
	for _, bad := range []string{`[]`, `"x"`, `{"a":1}`, `{"a":"x"`} {
		if err := json.Unmarshal([]byte(bad), &out); err == nil {
			t.Errorf("%s decoded without error", bad)
		}
	}
	out = AllowedImages{{"kept", "x"}}
	if err := json.Unmarshal([]byte(`null`), &out); err != nil || len(out) != 1 {
		t.Errorf("null: %v %v, want no change", out, err)
	}
}

func TestErrorCodes(t *testing.T) {
	codes := ErrorCodes()
	if len(codes) < 8 || !slices.IsSorted(codes) {
		t.Fatalf("codes %v", codes)
	}
	for _, c := range codes {
		s := c.HTTPStatus()
		if (s < 400 || s > 599) || http.StatusText(s) == "" {
			t.Errorf("%s: status %d", c, s)
		}
		if strings.HasPrefix(string(c), "INVALID_") != (s == http.StatusBadRequest) {
			t.Errorf("%s answers %d: INVALID_ codes, and only they, are 400", c, s)
		}
	}
	if CodeNotFound.HTTPStatus() != 404 || ErrorCode("NO_SUCH_CODE").HTTPStatus() != 500 {
		t.Error("statuses of NOT_FOUND and of an undeclared code")
	}
	var body ErrorBody
	if err := json.Unmarshal([]byte(`{"error":{"code":"INVALID_PAGING","message":"page must be 1 to 10000"}}`), &body); err != nil {
		t.Fatal(err)
	}
	var err error = &body.Error
	if body.Error.Code != CodeInvalidPaging || err.Error() != "INVALID_PAGING: page must be 1 to 10000" {
		t.Errorf("decoded %+v: %v", body, err)
	}
}
