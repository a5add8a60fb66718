package sbom

import (
	"net/url"
	"strings"

	"github.com/oyster-registry/oyster/catalog/pkgdb"
)

// purl is a parsed package URL (pkg:type/namespace/name@version?qualifiers).
type purl struct {
	typ, name, version string
	qualifiers         url.Values
}

// parsePURL reads the parts of a package URL the catalog uses; ok is false
// for anything that is not one.
func parsePURL(s string) (p purl, ok bool) {
	rest, ok := strings.CutPrefix(s, "pkg:")
	if !ok {
		return purl{}, false
	}
	rest, _, _ = strings.Cut(rest, "#")
	rest, query, _ := strings.Cut(rest, "?")
	p.qualifiers, _ = url.ParseQuery(query)
	typ, rest, ok := strings.Cut(strings.TrimLeft(rest, "/"), "/")
	if !ok || typ == "" {
		return purl{}, false
	}
	p.typ = strings.ToLower(typ)
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		p.version, _ = url.PathUnescape(rest[i+1:])
		rest = rest[:i]
	}
	name := rest[strings.LastIndexByte(rest, '/')+1:]
	p.name, _ = url.PathUnescape(name)
	return p, p.name != ""
}

// ecosystems maps package URL types to the catalog's ecosystem names; other
// types are kept as they are (npm, golang, maven, …).
var ecosystems = map[string]pkgdb.Ecosystem{
	"pypi":  pkgdb.Python,
	"deb":   pkgdb.Deb,
	"apk":   pkgdb.APK,
	"rpm":   pkgdb.RPM,
	"conda": pkgdb.Conda,
	"cran":  pkgdb.R,
}

// genericEcosystem is for packages without a package URL, after the purl
// type for "no ecosystem".
const genericEcosystem pkgdb.Ecosystem = "generic"

// newPackage builds a package from a document's name and version and its
// package URL, which supplies the ecosystem and what the name and version
// lack.
func newPackage(name, version string, u purl) pkgdb.Package {
	p := pkgdb.Package{Name: name, Version: version, Ecosystem: genericEcosystem}
	if u.typ == "" {
		return p
	}
	p.Ecosystem = pkgdb.Ecosystem(u.typ)
	if e, ok := ecosystems[u.typ]; ok {
		p.Ecosystem = e
	}
	if p.Version == "" {
		p.Version = u.versionWithEpoch()
	}
	p.Arch = u.qualifiers.Get("arch")
	if p.Ecosystem == pkgdb.Conda {
		p.Arch = u.qualifiers.Get("subdir") // as conda-meta records it
	}
	p.Origin = origin(u)
	if p.Ecosystem == pkgdb.Python {
		p.NormalizedName = pkgdb.NormalizePythonName(p.Name)
	}
	return p
}

// origin is where a package was built from, as the layer parsers record
// it: the source package of a deb, apk or rpm (syft's "upstream"
// qualifier, which may carry a version), or a conda channel.
func origin(u purl) string {
	if c := u.qualifiers.Get("channel"); c != "" {
		return c
	}
	up := u.qualifiers.Get("upstream")
	if u.typ == "deb" || u.typ == "apk" {
		up, _, _ = strings.Cut(up, "@")
	}
	return up
}

// versionWithEpoch puts an rpm's epoch qualifier back in front of its
// version, where the rpm database has it.
func (u purl) versionWithEpoch() string {
	if e := u.qualifiers.Get("epoch"); e != "" && e != "0" && u.version != "" {
		return e + ":" + u.version
	}
	return u.version
}
