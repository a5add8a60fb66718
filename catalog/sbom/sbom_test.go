package sbom

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oyster-registry/oyster/catalog/pkgdb"
)

var update = flag.Bool("update", false, "rewrite the .golden files from the parser's output")

// golden renders packages one a line: ecosystem, name, version, arch,
// origin and, for Python, the normalized name.
func golden(pkgs []pkgdb.Package) string {
	var b strings.Builder
	for _, p := range pkgs {
		fmt.Fprintf(&b, "%s %s %s arch=%s origin=%s", p.Ecosystem, p.Name, p.Version, p.Arch, p.Origin)
		if p.NormalizedName != "" {
			fmt.Fprintf(&b, " normalized=%s", p.NormalizedName)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// TestDocuments parses SBOMs as syft, trivy, docker buildx and cosign write
// them and compares every package with the reviewed .golden files.
func TestDocuments(t *testing.T) {
	for _, tc := range []struct {
		file, mediaType string
		count           int
	}{
		{"syft-ubuntu-spdx-2.3.json", "application/spdx+json", 41},
		{"syft-alpine-spdx-2.2.json", "text/spdx+json; charset=utf-8", 17},
		{"trivy-ubuntu-cyclonedx-1.5.json", "application/vnd.cyclonedx+json; version=1.5", 20},
		{"syft-mixed-cyclonedx-1.6.json", "application/vnd.cyclonedx+json", 16},
		{"buildkit-intoto-spdx.json", "application/vnd.in-toto+json", 3},
		{"cosign-dsse-cyclonedx.json", "application/vnd.dsse.envelope.v1+json", 3},
		{"syft-ubuntu-spdx-2.3.json", "application/json", 41},
		{"trivy-ubuntu-cyclonedx-1.5.json", "application/vnd.oci.image.manifest.v1+json", 20},
	} {
		t.Run(tc.file+" as "+tc.mediaType, func(t *testing.T) {
			doc, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			pkgs, err := Parse(tc.mediaType, bytes.NewReader(doc), int64(len(doc)))
			if err != nil {
				t.Fatal(err)
			}
			if len(pkgs) != tc.count {
				t.Errorf("%d packages, want %d", len(pkgs), tc.count)
			}
			goldenFile := filepath.Join("testdata", strings.TrimSuffix(tc.file, ".json")+".golden")
			if *update {
				if err := os.WriteFile(goldenFile, []byte(golden(pkgs)), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(goldenFile)
			if err != nil {
				t.Fatal(err)
			}
			if got := golden(pkgs); got != string(want) {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestSupported(t *testing.T) {
	for mt, want := range map[string]bool{
		"application/spdx+json":                      true,
		"text/spdx+json":                             true,
		"application/vnd.cyclonedx+json":             true,
		"application/vnd.cyclonedx+json; v=1.6":      true,
		"application/json":                           true,
		"application/vnd.in-toto+json":               true,
		"application/vnd.dsse.envelope.v1+json":      true,
		"application/vnd.oci.image.manifest.v1+json": true,
		"":                              true,
		"application/vnd.cyclonedx+xml": false,
		"text/spdx":                     false,
		"application/vnd.syft+json":     false,
		"application/vnd.dev.cosign.simplesigning.v1+json": false,
		"application/vnd.oci.image.layer.v1.tar+gzip":      false,
		"application/vnd.dev.sigstore.bundle.v0.3+json":    false,
		"application/vnd.sylabs.sif.layer.v1.sif":          false,
		"application/vnd.oci.image.config.v1+json":         false,
	} {
		if got := Supported(mt); got != want {
			t.Errorf("Supported(%q) = %v", mt, got)
		}
	}
}

func TestRejects(t *testing.T) {
	spdx, _ := os.ReadFile("testdata/syft-ubuntu-spdx-2.3.json")
	provenance, _ := os.ReadFile("testdata/buildkit-provenance.json")
	for _, tc := range []struct {
		name, mediaType, doc string
		want                 error
	}{
		{"xml type", "application/vnd.cyclonedx+xml", `<bom/>`, ErrUnsupported},
		{"signature type", "application/vnd.dev.cosign.simplesigning.v1+json", `{}`, ErrNotSBOM},
		{"spdx declared as cyclonedx", "application/vnd.cyclonedx+json", string(spdx), ErrNotSBOM},
		{"provenance", "application/vnd.in-toto+json", string(provenance), ErrNotSBOM},
		{"plain json", "application/json", `{"name":"x","packages":[]}`, ErrNotSBOM},
		{"dsse of a signature", "", `{"payloadType":"application/vnd.dev.cosign.simplesigning.v1+json","payload":"e30="}`, ErrNotSBOM},
		{"envelopes too deep", "", nested(4), ErrNotSBOM},
	} {
		if _, err := Parse(tc.mediaType, strings.NewReader(tc.doc), 1<<20); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

// nested wraps a CycloneDX document in n in-toto statements.
func nested(n int) string {
	doc := `{"bomFormat":"CycloneDX","components":[{"name":"a"}]}`
	for range n {
		doc = `{"predicateType":"https://cyclonedx.org/bom","predicate":` + doc + `}`
	}
	return doc
}

func TestMalformed(t *testing.T) {
	spdx, _ := os.ReadFile("testdata/syft-ubuntu-spdx-2.3.json")
	for name, doc := range map[string]string{
		"truncated":          string(spdx[:len(spdx)/2]),
		"not json":           "SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\n",
		"packages a string":  `{"spdxVersion":"SPDX-2.3","packages":"numpy"}`,
		"components object":  `{"bomFormat":"CycloneDX","components":{"name":"numpy"}}`,
		"bad base64 payload": `{"payloadType":"application/vnd.in-toto+json","payload":"%%%"}`,
		"empty":              ``,
	} {
		if pkgs, err := Parse("application/json", strings.NewReader(doc), 1<<20); err == nil {
			t.Errorf("%s: no error, %d packages", name, len(pkgs))
		}
	}
}

func TestSizeLimit(t *testing.T) {
	doc, _ := os.ReadFile("testdata/syft-ubuntu-spdx-2.3.json")
	if _, err := Parse("application/spdx+json", bytes.NewReader(doc), int64(len(doc))-1); !errors.Is(err, ErrTooLarge) {
		t.Errorf("one byte over: %v", err)
	}
	// An endless stream is cut at the limit, not read to its end.
	if _, err := Parse("application/spdx+json", endless{}, 1<<20); !errors.Is(err, ErrTooLarge) {
		t.Errorf("endless: %v", err)
	}
}

type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

func TestPURL(t *testing.T) {
	for in, want := range map[string]purl{
		"pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&upstream=glibc": {typ: "deb", name: "libc6", version: "2.36-9+deb12u4"},
		"pkg:npm/%40babel/core@7.24.0":                                    {typ: "npm", name: "core", version: "7.24.0"},
		"pkg:golang/github.com/sylabs/sif/v2@v2.15.1#pkg/sif":             {typ: "golang", name: "v2", version: "v2.15.1"},
		"pkg:PyPI/Django": {typ: "pypi", name: "Django"},
		"pkg://maven/org.apache/commons-lang3@3.12.0": {typ: "maven", name: "commons-lang3", version: "3.12.0"},
	} {
		got, ok := parsePURL(in)
		if !ok || got.typ != want.typ || got.name != want.name || got.version != want.version {
			t.Errorf("%s: %+v, %v", in, got, ok)
		}
	}
	if p := newPackage("curl", "", mustPURL(t, "pkg:rpm/fedora/curl@8.6.0-1.fc40?epoch=1&arch=aarch64")); p.Version != "1:8.6.0-1.fc40" || p.Arch != "aarch64" {
		t.Errorf("rpm without a document version: %+v", p)
	}
	for _, bad := range []string{"", "pkg:", "pkg:deb", "pkg:deb/", "cpe:2.3:a:x", "https://pypi.org/numpy"} {
		if _, ok := parsePURL(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

func mustPURL(t *testing.T, s string) purl {
	u, ok := parsePURL(s)
	if !ok {
		t.Fatalf("%q did not parse", s)
	}
	return u
}

// TestStringPredicate reads an in-toto statement whose SPDX predicate is a
// JSON string, as cosign before 2.0 wrote it.
func TestStringPredicate(t *testing.T) {
	doc := `{"predicateType":"https://spdx.dev/Document","predicate":"{\"spdxVersion\":\"SPDX-2.3\",\"packages\":[{\"name\":\"zlib\",\"versionInfo\":\"1.3-r0\",` +
		`\"externalRefs\":[{\"referenceType\":\"purl\",\"referenceLocator\":\"pkg:apk/alpine/zlib@1.3-r0?arch=aarch64\"}]}]}"}`
	pkgs, err := Parse("application/vnd.in-toto+json", strings.NewReader(doc), 1<<20)
	if err != nil || golden(pkgs) != "apk zlib 1.3-r0 arch=aarch64 origin=\n" {
		t.Errorf("%q, %v", golden(pkgs), err)
	}
}
