package pkgdb

import (
	"errors"
	"fmt"
	"io"
)

// ParsePythonMetadata reads the core metadata of an installed distribution:
// a dist-info METADATA file, an egg-info PKG-INFO file, or an egg-info that
// is itself a file (distutils). Only the header block is read; the long
// description after it is never touched, however large.
func ParsePythonMetadata(r io.Reader, source string) (Package, error) {
	st, err := newStanzaReader(r, MaxMetadataBytes, true).next()
	if errors.Is(err, io.EOF) {
		return Package{}, errors.New("empty metadata")
	}
	if err != nil {
		return Package{}, err
	}
	name, version := st.get("name"), st.get("version")
	if name == "" || version == "" {
		return Package{}, fmt.Errorf("metadata without Name and Version")
	}
	return Package{Name: name, Version: version, Ecosystem: Python, Source: source, NormalizedName: NormalizePythonName(name)}, nil
}
