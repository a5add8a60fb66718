package sbom

import (
	"bytes"
	"testing"
)

// FuzzSBOM parses arbitrary documents under arbitrary media types. The
// seed corpus in testdata/fuzz/FuzzSBOM holds syft, trivy, buildx and
// cosign documents and their envelopes. Whatever the input, Parse must
// return an error or packages that all have a name and an ecosystem.
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
	})
}
