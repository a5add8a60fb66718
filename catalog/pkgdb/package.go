// Package pkgdb parses the package databases found inside container images:
// dpkg, apk and rpm databases, Python dist-info and egg-info metadata,
// conda-meta records, R DESCRIPTION files, and os-release. Every parser reads
// from an io.Reader, bounds what it will read, and reports malformed input as
// an error rather than a panic, because the input is whatever someone pushed.
package pkgdb

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// Ecosystem names the package manager a package belongs to.
type Ecosystem string

// The ecosystems the catalog indexes.
const (
	Deb    Ecosystem = "deb"
	APK    Ecosystem = "apk"
	RPM    Ecosystem = "rpm"
	Python Ecosystem = "python"
	Conda  Ecosystem = "conda"
	R      Ecosystem = "r"
)

// Package is one installed package as its database records it.
type Package struct {
	Name      string    `json:"name"`
	Version   string    `json:"version"`
	Ecosystem Ecosystem `json:"ecosystem"`
	// Source is the path, inside the image, of the file the package was
	// read from; it is what ties a package to the layer that installed it.
	Source string `json:"source,omitempty"`
	// NormalizedName is the PEP 503 form of a Python package's name, the
	// one pip and PyPI match on ("Scikit_Learn" and "scikit-learn" are one).
	NormalizedName string `json:"normalizedName,omitempty"`
	Arch           string `json:"arch,omitempty"`
	// Origin is where the package was built from: the Debian source package,
	// apk origin, rpm source RPM, or conda channel.
	Origin string `json:"origin,omitempty"`
}

// Bounds on what a parser reads. The layer walker enforces its own per-file
// cap first; these keep the parsers safe for any other caller.
const (
	// MaxDatabaseBytes bounds a whole-database file (dpkg status, apk
	// installed, rpmdb): a few MiB is typical, 100 MiB is already absurd.
	MaxDatabaseBytes int64 = 256 << 20
	// MaxMetadataBytes bounds a one-package file (METADATA headers,
	// conda-meta JSON, DESCRIPTION). conda-meta lists every file of a
	// package, so large ones reach a few MiB.
	MaxMetadataBytes int64 = 64 << 20
	// MaxLineBytes bounds one line of a text database.
	MaxLineBytes = 1 << 20
)

// ErrTooLarge marks input over one of the bounds above.
var ErrTooLarge = errors.New("input exceeds the parser's size limit")

// limitReader reads at most max bytes and then fails with ErrTooLarge, so
// that over-long input is reported instead of silently truncated.
type limitReader struct {
	r    io.Reader
	left int64
	max  int64
}

func limited(r io.Reader, max int64) io.Reader { return &limitReader{r: r, left: max, max: max} }

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		var one [1]byte
		if n, _ := io.ReadFull(l.r, one[:]); n == 0 {
			return 0, io.EOF
		}
		return 0, fmt.Errorf("%w (%d bytes)", ErrTooLarge, l.max)
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

var pep503Separators = regexp.MustCompile(`[-_.]+`)

// NormalizePythonName returns the PEP 503 normalized form of a distribution
// name: lower case, runs of "-", "_" and "." collapsed to "-".
func NormalizePythonName(name string) string {
	return pep503Separators.ReplaceAllString(strings.ToLower(strings.TrimSpace(name)), "-")
}
