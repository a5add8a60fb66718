// Package sbom reads the software bills of materials that tools attach to
// images as OCI referrers (syft, trivy, docker buildx, cosign attest), so
// that the catalog can list the packages of images it cannot unpack, and
// add what an SBOM knows beyond the package databases.
//
// SPDX JSON 2.2 and 2.3 and CycloneDX JSON 1.2 to 1.6 are read, bare or
// wrapped in an in-toto statement or a DSSE envelope. Packages are returned
// as pkgdb.Package so that they index like those found in layers; package
// sbom does not import package catalog, whose indexer calls it.
package sbom

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"

	"github.com/oyster-registry/oyster/catalog/pkgdb"
)

var (
	// ErrNotSBOM marks a media type or document that is not an SBOM this
	// package reads: a signature, a provenance attestation, an image.
	ErrNotSBOM = errors.New("not an SBOM")
	// ErrUnsupported marks an SBOM in a format not read here (XML, SPDX
	// tag-value, YAML).
	ErrUnsupported = errors.New("unsupported SBOM format")
	// ErrTooLarge marks a document over the size given to Parse.
	ErrTooLarge = errors.New("SBOM exceeds the size limit")
)

// format is what a media type says about a document.
type format int

const (
	formatNone format = iota
	formatUnsupported
	formatSniff // generic type: the content decides
	formatSPDX
	formatCycloneDX
)

// Supported reports whether Parse would read a document of this media or
// artifact type, so that a caller can skip fetching other referrers. It is
// true for generic JSON types too, whose content may or may not be an
// SBOM.
func Supported(mediaType string) bool {
	f := formatOf(mediaType)
	return f != formatNone && f != formatUnsupported
}

// Parse reads at most maxBytes of an SBOM document of the given media type
// (or an OCI artifact type) and returns its packages, excluding the image it
// describes. Source is left empty for the caller to fill ("sbom:<digest>").
func Parse(mediaType string, r io.Reader, maxBytes int64) ([]pkgdb.Package, error) {
	f := formatOf(mediaType)
	switch f {
	case formatNone:
		return nil, fmt.Errorf("%w: media type %q", ErrNotSBOM, mediaType)
	case formatUnsupported:
		return nil, fmt.Errorf("%w: media type %q", ErrUnsupported, mediaType)
	}
	b, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading SBOM: %w", err)
	}
	if int64(len(b)) > maxBytes {
		return nil, fmt.Errorf("%w (%d bytes)", ErrTooLarge, maxBytes)
	}
	return parseDocument(f, b, maxUnwrap)
}

// formatOf classifies a media type by its essence, ignoring parameters
// such as "; version=1.5".
func formatOf(mediaType string) format {
	t, _, err := mime.ParseMediaType(mediaType)
	if err != nil {
		t = strings.ToLower(strings.TrimSpace(mediaType))
	}
	isJSON := strings.HasSuffix(t, "+json") || strings.HasSuffix(t, "/json")
	switch {
	case strings.Contains(t, "spdx") && isJSON:
		return formatSPDX
	case strings.Contains(t, "cyclonedx") && isJSON:
		return formatCycloneDX
	case strings.Contains(t, "spdx") || strings.Contains(t, "cyclonedx") || strings.Contains(t, "syft"):
		return formatUnsupported
	case genericTypes[t] || strings.Contains(t, "in-toto") || strings.Contains(t, "dsse"):
		return formatSniff
	}
	return formatNone
}

// genericTypes say nothing about the document, so its content decides:
// plain JSON, and the OCI types an artifact's manifest or empty config
// carry when a caller has only those to go by.
var genericTypes = map[string]bool{
	"":                         true,
	"application/json":         true,
	"text/json":                true,
	"text/plain":               true,
	"application/octet-stream": true,
	"application/vnd.oci.image.manifest.v1+json": true,
	"application/vnd.oci.empty.v1+json":          true,
}
