// Package version orders version strings the way each packaging ecosystem
// does, so that catalog queries like "numpy>=1.26" or "python:3.11" give the
// answer a user of that ecosystem expects. Comparing as plain strings or as
// semver gets Debian's tilde, epochs and PEP 440 pre/post releases wrong.
package version

// Scheme names an ordering of version strings.
type Scheme string

// The orderings this package knows.
const (
	// PEP440 is Python's ordering (pip, PyPI).
	PEP440 Scheme = "pep440"
	// Debian is dpkg's ordering: epoch, upstream, revision, "~" sorts first.
	Debian Scheme = "debian"
	// Generic is a semver-like fallback for apk, rpm, conda and R: numeric
	// runs compare as numbers, pre-release words and "~" sort before the
	// release.
	Generic Scheme = "generic"
)

// SchemeFor picks the ordering for a package ecosystem name as the catalog
// records it ("deb", "python", …); unknown ecosystems get Generic.
func SchemeFor(ecosystem string) Scheme {
	switch ecosystem {
	case "python":
		return PEP440
	case "deb":
		return Debian
	}
	return Generic
}

// Compare returns -1, 0 or +1 as a is older than, the same as, or newer than
// b under scheme s. It never fails: a string that is not a valid PEP 440
// version is compared with the Generic ordering, as pip does for legacy
// versions.
func Compare(s Scheme, a, b string) int {
	switch s {
	case PEP440:
		return comparePEP440(a, b)
	case Debian:
		return compareDebian(a, b)
	}
	return compareGeneric(a, b)
}

// cmpNum compares two runs of ASCII digits as numbers of any length, so that
// a version with a 30-digit component can neither overflow nor panic.
func cmpNum(a, b string) int {
	a, b = trimZeros(a), trimZeros(b)
	switch {
	case len(a) != len(b):
		return sign(len(a) - len(b))
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func trimZeros(s string) string {
	for len(s) > 1 && s[0] == '0' {
		s = s[1:]
	}
	if s == "0" {
		return ""
	}
	return s
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isAlpha(c byte) bool { return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }
