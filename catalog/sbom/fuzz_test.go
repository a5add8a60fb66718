package sbom

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/oyster-registry/oyster/catalog/pkgdb"
)

// FuzzSBOM parses arbitrary documents under arbitrary media types. The
// seed corpus in testdata/fuzz/FuzzSBOM holds syft, trivy, buildx and
// cosign documents and their envelopes. Whatever the input, Parse must
// return an error or packages that all have a name and an ecosystem; a
// document one byte over the size limit is refused as too large; and a
// bare SPDX or CycloneDX document yields the same packages wrapped in an
// in-toto statement and in a DSSE envelope around one.
func FuzzSBOM(f *testing.F) {
	f.Fuzz(func(t *testing.T, mediaType string, doc []byte) {
		pkgs, err := Parse(mediaType, bytes.NewReader(doc), 1<<20)
		if err != nil {
			return
		}
		for _, p := range pkgs {
			if p.Name == "" || p.Ecosystem == "" {
				t.Fatalf("package without name or ecosystem: %+v", p)
			}
		}
		if len(doc) > 0 {
			if _, err := Parse(mediaType, bytes.NewReader(doc), int64(len(doc)-1)); !errors.Is(err, ErrTooLarge) {
				t.Fatalf("a %d-byte document under a limit of %d: %v, want ErrTooLarge", len(doc), len(doc)-1, err)
			}
		}
		checkEnvelopes(t, doc)
	})
}

// checkEnvelopes wraps a bare document as buildx and cosign attach one and
// requires the same packages from each wrapping.
func checkEnvelopes(t *testing.T, doc []byte) {
	t.Helper()
	var d document
	if json.Unmarshal(doc, &d) != nil || d.format() == formatSniff {
		return // not bare: already an envelope, or no SBOM
	}
	bare, err := parseDocument(formatSniff, doc, maxUnwrap)
	if err != nil {
		return
	}
	predicateType := map[format]string{formatSPDX: "https://spdx.dev/Document", formatCycloneDX: "https://cyclonedx.org/bom"}[d.format()]
	statement, err := json.Marshal(map[string]any{
		"_type": "https://in-toto.io/Statement/v0.1", "predicateType": predicateType, "predicate": json.RawMessage(doc),
	})
	if err != nil {
		t.Fatalf("wrapping %q: %v", doc, err)
	}
	envelope, err := json.Marshal(map[string]any{
		"payloadType": "application/vnd.in-toto+json", "payload": base64.StdEncoding.EncodeToString(statement), "signatures": []any{},
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, wrapped := range map[string][]byte{"in-toto statement": statement, "DSSE envelope": envelope} {
		got, err := parseDocument(formatSniff, wrapped, maxUnwrap)
		if err != nil || !samePackages(got, bare) {
			t.Fatalf("in a %s: %+v, %v\nbare: %+v", name, got, err, bare)
		}
	}
}

func samePackages(a, b []pkgdb.Package) bool {
	return len(a) == 0 && len(b) == 0 || reflect.DeepEqual(a, b)
}
