package sbom

import (
	"github.com/oyster-registry/oyster/catalog/pkgdb"
)

// component is the part of a CycloneDX component that is read. Components
// nest: a jar lists the jars shaded into it, an image its packages.
type component struct {
	Type       string      `json:"type"`
	Group      string      `json:"group"`
	Name       string      `json:"name"`
	Version    string      `json:"version"`
	PURL       string      `json:"purl"`
	Components []component `json:"components"`
}

// cycloneDXPackages flattens the component tree, depth first in document
// order. Files and the image's own descriptions are not packages.
// metadata.component, the image itself, is never read.
func cycloneDXPackages(components []component) []pkgdb.Package {
	var out []pkgdb.Package
	stack := [][]component{components}
	for len(stack) > 0 {
		top := stack[len(stack)-1]
		if len(top) == 0 {
			stack = stack[:len(stack)-1]
			continue
		}
		c := top[0]
		stack[len(stack)-1] = top[1:]
		if c.Name != "" && !notPackage[c.Type] {
			u, _ := parsePURL(c.PURL)
			out = append(out, newPackage(c.qualifiedName(u), c.Version, u))
		}
		if len(c.Components) > 0 {
			stack = append(stack, c.Components)
		}
	}
	return out
}

// notPackage are component types that describe no installable package.
var notPackage = map[string]bool{"file": true, "container": true, "operating-system": true, "data": true}

// qualifiedName joins group and name the way each ecosystem writes them:
// "org.apache.commons:commons-lang3", "@babel/core".
func (c component) qualifiedName(u purl) string {
	switch {
	case c.Group == "":
		return c.Name
	case u.typ == "maven":
		return c.Group + ":" + c.Name
	}
	return c.Group + "/" + c.Name
}
