package version

import (
	"regexp"
	"strings"
)

// pep440Pattern is the version grammar of PEP 440 with the normalisations
// pip accepts (case, "v" prefix, alpha/beta/c/pre/preview/rev/r spellings,
// optional separators, "-N" post releases), as in packaging's VERSION_PATTERN.
var pep440Pattern = regexp.MustCompile(`^v?(?:(\d+)!)?(\d+(?:\.\d+)*)` +
	`(?:[-_.]?(alpha|a|beta|b|preview|pre|c|rc)[-_.]?(\d+)?)?` +
	`(?:-(\d+)|[-_.]?(post|rev|r)[-_.]?(\d+)?)?` +
	`(?:[-_.]?(dev)[-_.]?(\d+)?)?` +
	`(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?$`)

// pep440 is a parsed version reduced to what ordering needs. Numbers stay
// strings (compared with cmpNum) so no component can overflow.
type pep440 struct {
	epoch   string
	release []string // trailing zeros removed: 1.26 == 1.26.0
	pre     int      // 0 none, else 1 a, 2 b, 3 rc
	preN    string
	post    bool
	postN   string
	dev     bool
	devN    string
	local   []string
}

var preRank = map[string]int{"a": 1, "alpha": 1, "b": 2, "beta": 2, "c": 3, "rc": 3, "pre": 3, "preview": 3}

func parsePEP440(s string) (pep440, bool) {
	m := pep440Pattern.FindStringSubmatch(strings.ToLower(strings.TrimSpace(s)))
	if m == nil {
		return pep440{}, false
	}
	v := pep440{epoch: m[1], release: strings.Split(m[2], ".")}
	for len(v.release) > 0 && trimZeros(v.release[len(v.release)-1]) == "" {
		v.release = v.release[:len(v.release)-1]
	}
	v.pre, v.preN = preRank[m[3]], m[4]
	v.post, v.postN = m[5] != "" || m[6] != "", m[5]+m[7]
	v.dev, v.devN = m[8] != "", m[9]
	if m[10] != "" {
		v.local = strings.FieldsFunc(m[10], func(r rune) bool { return r == '-' || r == '_' || r == '.' })
	}
	return v, true
}

// comparePEP440 orders as packaging.version does; if either side is not a
// valid PEP 440 version both are compared with the Generic ordering.
func comparePEP440(a, b string) int {
	va, okA := parsePEP440(a)
	vb, okB := parsePEP440(b)
	if !okA || !okB {
		return compareGeneric(a, b)
	}
	for _, c := range []int{
		cmpNum(va.epoch, vb.epoch),
		cmpSegments(va.release, vb.release),
		cmpPhase(va, vb),
		cmpLocal(va.local, vb.local),
	} {
		if c != 0 {
			return c
		}
	}
	return 0
}

func cmpSegments(a, b []string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := cmpNum(a[i], b[i]); c != 0 {
			return c
		}
	}
	return sign(len(a) - len(b))
}

// cmpPhase orders what follows the release: 1.0.dev0 < 1.0a1.dev0 < 1.0a1 <
// 1.0 < 1.0.post1.dev0 < 1.0.post1.
func cmpPhase(a, b pep440) int {
	if c := sign(preKey(a) - preKey(b)); c != 0 {
		return c
	}
	if a.pre != 0 {
		if c := cmpNum(a.preN, b.preN); c != 0 {
			return c
		}
	}
	if c := cmpOptional(a.post, a.postN, b.post, b.postN, -1); c != 0 {
		return c
	}
	return cmpOptional(a.dev, a.devN, b.dev, b.devN, 1)
}

// preKey places a bare dev release before every pre-release, and a version
// without a pre-release after all of them.
func preKey(v pep440) int {
	switch {
	case v.pre != 0:
		return v.pre
	case v.dev && !v.post:
		return -1
	}
	return 4
}

// cmpOptional compares an optional numbered part; absent sorts as absent
// (-1 before any number, +1 after).
func cmpOptional(hasA bool, a string, hasB bool, b string, absent int) int {
	switch {
	case hasA && hasB:
		return cmpNum(a, b)
	case hasA:
		return -absent
	case hasB:
		return absent
	}
	return 0
}

// cmpLocal orders local labels: none first, numeric segments above
// alphanumeric ones, and a longer label above its prefix.
func cmpLocal(a, b []string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		da, db := allDigits(a[i]), allDigits(b[i])
		switch {
		case da && db:
			if c := cmpNum(a[i], b[i]); c != 0 {
				return c
			}
		case da != db:
			if da {
				return 1
			}
			return -1
		case a[i] != b[i]:
			return strings.Compare(a[i], b[i])
		}
	}
	return sign(len(a) - len(b))
}
