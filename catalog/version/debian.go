package version

import "strings"

// compareDebian implements dpkg's ordering (deb-version(7)): epochs compare
// numerically, then upstream version, then Debian revision, each with
// verrevcmp. A missing epoch is 0 and a missing revision compares equal to
// "0", as in dpkg.
func compareDebian(a, b string) int {
	ea, ua, ra := splitDebian(a)
	eb, ub, rb := splitDebian(b)
	if c := cmpNum(ea, eb); c != 0 {
		return c
	}
	if c := verrevcmp(ua, ub); c != 0 {
		return c
	}
	return verrevcmp(ra, rb)
}

// splitDebian splits [epoch:]upstream[-revision]. A non-numeric "epoch" is
// left in the upstream part so that bad input still orders deterministically.
func splitDebian(v string) (epoch, upstream, revision string) {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, ':'); i > 0 && allDigits(v[:i]) {
		epoch, v = v[:i], v[i+1:]
	}
	if i := strings.LastIndexByte(v, '-'); i >= 0 {
		return epoch, v[:i], v[i+1:]
	}
	return epoch, v, ""
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// debOrder is dpkg's character weight: "~" before the end of the string,
// the end before letters, letters before other punctuation.
func debOrder(s string, i int) int {
	if i >= len(s) {
		return 0
	}
	c := s[i]
	switch {
	case isDigit(c):
		return 0
	case isAlpha(c):
		return int(c)
	case c == '~':
		return -1
	}
	return int(c) + 256
}

// verrevcmp is dpkg's comparison of alternating non-digit and digit runs.
func verrevcmp(a, b string) int {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		for (i < len(a) && !isDigit(a[i])) || (j < len(b) && !isDigit(b[j])) {
			if ac, bc := debOrder(a, i), debOrder(b, j); ac != bc {
				return sign(ac - bc)
			}
			// Equal weights here mean both sides hold the same non-digit,
			// so neither index runs past its end.
			i, j = i+1, j+1
		}
		di, dj := digitRun(a, i), digitRun(b, j)
		if c := cmpNum(a[i:di], b[j:dj]); c != 0 {
			return c
		}
		i, j = di, dj
	}
	return 0
}

// digitRun returns the end of the run of digits starting at i.
func digitRun(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}
