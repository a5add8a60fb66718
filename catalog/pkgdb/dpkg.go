package pkgdb

import (
	"fmt"
	"io"
	"strings"
)

// ParseDpkgStatus reads a dpkg status database (var/lib/dpkg/status) or one
// file of the status.d directory distroless images use instead. Packages
// whose status says their files are gone ("not-installed", "config-files")
// are left out. A malformed stanza is reported in the returned error and
// skipped; the packages of the other stanzas are still returned.
func ParseDpkgStatus(r io.Reader, source string) ([]Package, error) {
	return readStanzas(newStanzaReader(r, MaxDatabaseBytes, true), func(st stanza) (Package, bool, error) {
		return dpkgPackage(st, source)
	})
}

func dpkgPackage(st stanza, source string) (Package, bool, error) {
	name, version := st.get("package"), st.get("version")
	if name == "" || version == "" {
		return Package{}, false, fmt.Errorf("line %d: stanza without Package and Version", st.line)
	}
	if !dpkgInstalled(st.get("status")) {
		return Package{}, false, nil
	}
	p := Package{Name: name, Version: version, Ecosystem: Deb, Source: source, Arch: st.get("architecture")}
	p.Origin, _, _ = strings.Cut(st.get("source"), " ") // "Source: glibc (2.36-9)"
	return p, true, nil
}

// dpkgInstalled reads the third word of "Status: want flag state". status.d
// files have no Status field: what is listed there is installed.
func dpkgInstalled(status string) bool {
	f := strings.Fields(status)
	if len(f) != 3 {
		return status == ""
	}
	return f[2] != "not-installed" && f[2] != "config-files"
}
