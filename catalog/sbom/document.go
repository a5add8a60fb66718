package sbom

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/oyster-registry/oyster/catalog/pkgdb"
)

// maxUnwrap is how many envelopes may surround a document: a DSSE envelope
// around an in-toto statement around the SBOM.
const maxUnwrap = 2

// document holds the top-level fields of every format read here, so that
// one decode both recognises a document and reads it.
type document struct {
	// SPDX
	SPDXVersion       string         `json:"spdxVersion"`
	Packages          []spdxPackage  `json:"packages"`
	DocumentDescribes []string       `json:"documentDescribes"`
	Relationships     []relationship `json:"relationships"`
	// CycloneDX
	BOMFormat  string      `json:"bomFormat"`
	Components []component `json:"components"`
	// in-toto statement
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate"`
	// DSSE envelope
	PayloadType string `json:"payloadType"`
	Payload     string `json:"payload"`
}

// parseDocument decodes b and hands it to the reader its content calls
// for; declared is what the media type said.
func parseDocument(declared format, b []byte, unwrap int) ([]pkgdb.Package, error) {
	var d document
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("SBOM JSON: %w", err)
	}
	found := d.format()
	if declared != formatSniff && found != declared {
		return nil, fmt.Errorf("%w: media type says %s, content is %s", ErrNotSBOM, declared, found)
	}
	switch {
	case found == formatSPDX:
		return d.spdxPackages(), nil
	case found == formatCycloneDX:
		return cycloneDXPackages(d.Components), nil
	case unwrap == 0:
		return nil, fmt.Errorf("%w: envelopes nested too deep", ErrNotSBOM)
	case d.PredicateType != "":
		return parsePredicate(d.PredicateType, d.Predicate, unwrap-1)
	case d.PayloadType != "":
		return parseDSSE(d.PayloadType, d.Payload, unwrap-1)
	}
	return nil, fmt.Errorf("%w: JSON without spdxVersion, bomFormat, predicate or payload", ErrNotSBOM)
}

func (d *document) format() format {
	switch {
	case d.SPDXVersion != "":
		return formatSPDX
	case strings.EqualFold(d.BOMFormat, "CycloneDX"):
		return formatCycloneDX
	}
	return formatSniff
}

func (f format) String() string {
	switch f {
	case formatSPDX:
		return "SPDX"
	case formatCycloneDX:
		return "CycloneDX"
	}
	return "neither"
}

// parsePredicate reads the SBOM inside an in-toto statement, as docker
// buildx and cosign attach them; other predicates (provenance, vulnerability
// scans) are not SBOMs.
func parsePredicate(predicateType string, predicate json.RawMessage, unwrap int) ([]pkgdb.Package, error) {
	t := strings.ToLower(predicateType)
	var f format
	switch {
	case strings.Contains(t, "spdx"):
		f = formatSPDX
	case strings.Contains(t, "cyclonedx"):
		f = formatCycloneDX
	default:
		return nil, fmt.Errorf("%w: in-toto predicate %q", ErrNotSBOM, predicateType)
	}
	// cosign before 2.0 stored the SPDX predicate as a JSON string.
	var s string
	if json.Unmarshal(predicate, &s) == nil {
		predicate = json.RawMessage(s)
	}
	return parseDocument(f, predicate, unwrap)
}

// parseDSSE opens a DSSE envelope (cosign attest) holding an in-toto
// statement. Its signature is not checked: the catalog only reads.
func parseDSSE(payloadType, payload string, unwrap int) ([]pkgdb.Package, error) {
	if !strings.Contains(strings.ToLower(payloadType), "in-toto") {
		return nil, fmt.Errorf("%w: DSSE payload %q", ErrNotSBOM, payloadType)
	}
	b, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return nil, fmt.Errorf("DSSE payload: %w", err)
	}
	return parseDocument(formatSniff, b, unwrap)
}
