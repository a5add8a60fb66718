package sbom

import (
	"strings"

	"github.com/oyster-registry/oyster/catalog/pkgdb"
)

// spdxPackage is the part of an SPDX 2.2/2.3 package that is read.
type spdxPackage struct {
	SPDXID       string        `json:"SPDXID"`
	Name         string        `json:"name"`
	VersionInfo  string        `json:"versionInfo"`
	ExternalRefs []externalRef `json:"externalRefs"`
}

type externalRef struct {
	ReferenceType    string `json:"referenceType"`
	ReferenceLocator string `json:"referenceLocator"`
}

type relationship struct {
	Element string `json:"spdxElementId"`
	Type    string `json:"relationshipType"`
	Related string `json:"relatedSpdxElement"`
}

// spdxPackages returns every package but those the document describes:
// those are the image itself (syft's "DocumentRoot-Image-…").
func (d *document) spdxPackages() []pkgdb.Package {
	described := d.described()
	var out []pkgdb.Package
	for _, p := range d.Packages {
		if described[p.SPDXID] || p.Name == "" {
			continue
		}
		out = append(out, newPackage(p.Name, noAssertion(p.VersionInfo), p.purl()))
	}
	return out
}

// described collects the SPDX ids the document says it describes, in the
// 2.2 field or as 2.3 DESCRIBES relationships.
func (d *document) described() map[string]bool {
	m := map[string]bool{}
	for _, id := range d.DocumentDescribes {
		m[id] = true
	}
	for _, r := range d.Relationships {
		switch r.Type {
		case "DESCRIBES":
			if r.Element == "SPDXRef-DOCUMENT" {
				m[r.Related] = true
			}
		case "DESCRIBED_BY":
			if r.Related == "SPDXRef-DOCUMENT" {
				m[r.Element] = true
			}
		}
	}
	return m
}

// purl returns the package's first package URL. SPDX 2.2 files its
// category as PACKAGE_MANAGER, 2.3 as PACKAGE-MANAGER; the type is the
// same.
func (p spdxPackage) purl() purl {
	for _, r := range p.ExternalRefs {
		if strings.EqualFold(r.ReferenceType, "purl") {
			if u, ok := parsePURL(r.ReferenceLocator); ok {
				return u
			}
		}
	}
	return purl{}
}

// noAssertion maps SPDX's "unknown" values to empty.
func noAssertion(s string) string {
	if s == "NOASSERTION" || s == "NONE" {
		return ""
	}
	return s
}
