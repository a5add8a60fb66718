package pkgdb

import (
	"errors"
	"fmt"
	"io"
)

// ParseRDescription reads the DESCRIPTION file of an installed R package
// (library/<pkg>/DESCRIPTION), a DCF paragraph. The "base" package's
// version is the version of R itself.
func ParseRDescription(r io.Reader, source string) (Package, error) {
	st, err := newStanzaReader(r, MaxMetadataBytes, true).next()
	if errors.Is(err, io.EOF) {
		return Package{}, errors.New("empty DESCRIPTION")
	}
	if err != nil {
		return Package{}, err
	}
	name, version := st.get("package"), st.get("version")
	if name == "" || version == "" {
		return Package{}, fmt.Errorf("DESCRIPTION without Package and Version")
	}
	return Package{Name: name, Version: version, Ecosystem: R, Source: source, Origin: st.get("repository")}, nil
}
