package version

import "strings"

// Token classes of the Generic ordering, in the order they sort against the
// end of a version: "~" and pre-release words before it, numbers and other
// words after it.
const (
	tokTilde = iota
	tokPre
	tokWord
	tokNum
)

type token struct {
	class int
	text  string
}

// genericPre ranks the words that mark a pre-release in apk (_alpha, _rc),
// conda (1.0rc1), semver (1.0.0-beta.2) and R/CRAN practice.
var genericPre = map[string]int{"dev": 0, "alpha": 1, "a": 1, "beta": 2, "b": 2, "pre": 3, "preview": 3, "c": 4, "rc": 4}

// compareGeneric is the fallback ordering: an optional numeric "N:" epoch,
// then runs of digits (as numbers) and letters (case-insensitively), with
// everything else a separator. A side that runs out of tokens is older than
// one that goes on with a number or ordinary word (1.0 < 1.0.1, 1.0 <
// 1.0p1), newer than one that goes on with "~" or a pre-release word
// (1.0rc1 < 1.0), and equal to one that only adds zeros (1.26 == 1.26.0),
// as in semver.
func compareGeneric(a, b string) int {
	ea, ra := splitEpoch(a)
	eb, rb := splitEpoch(b)
	if c := cmpNum(ea, eb); c != 0 {
		return c
	}
	ta, tb := dropSilentZeros(tokenize(ra)), dropSilentZeros(tokenize(rb))
	for i := 0; i < len(ta) || i < len(tb); i++ {
		switch {
		case i >= len(ta):
			return -againstEnd(tb[i])
		case i >= len(tb):
			return againstEnd(ta[i])
		}
		if c := cmpToken(ta[i], tb[i]); c != 0 {
			return c
		}
	}
	return 0
}

func splitEpoch(v string) (epoch, rest string) {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, ':'); i > 0 && allDigits(v[:i]) {
		return v[:i], v[i+1:]
	}
	return "", v
}

// dropSilentZeros removes the runs of zero numbers that end a version or
// stand right before a "~" or a pre-release word, where semver reads them
// as absent: 1.26.0 is 1.26, and 2.0.0-rc1 is 2-rc1. Every version then has
// one form, compared token by token, which makes the ordering transitive;
// comparing zeros only at the end made 1.26R < 1.26.0 == 1.26 < 1.26R.
func dropSilentZeros(ts []token) []token {
	var out []token
	for i := 0; i < len(ts); {
		j := i
		for j < len(ts) && ts[j].class == tokNum && trimZeros(ts[j].text) == "" {
			j++
		}
		switch {
		case j == i:
			out = append(out, ts[i])
			j++
		case j < len(ts) && ts[j].class != tokTilde && ts[j].class != tokPre:
			out = append(out, ts[i:j]...)
		}
		i = j
	}
	return out
}

// againstEnd orders a version that goes on with t against the same version
// ending there: "~" and pre-release words make it older, anything else newer.
func againstEnd(t token) int {
	if t.class == tokTilde || t.class == tokPre {
		return -1
	}
	return 1
}

func cmpToken(a, b token) int {
	if a.class != b.class {
		return sign(a.class - b.class)
	}
	switch a.class {
	case tokNum:
		return cmpNum(a.text, b.text)
	case tokPre:
		if c := sign(genericPre[a.text] - genericPre[b.text]); c != 0 {
			return c
		}
	}
	return strings.Compare(a.text, b.text)
}

func tokenize(v string) []token {
	var out []token
	for i := 0; i < len(v); {
		j := i + 1
		switch c := v[i]; {
		case c == '~':
			out = append(out, token{class: tokTilde})
		case isDigit(c):
			j = runEnd(v, i, isDigit)
			out = append(out, token{class: tokNum, text: v[i:j]})
		case isAlpha(c):
			j = runEnd(v, i, isAlpha)
			out = append(out, wordToken(strings.ToLower(v[i:j])))
		}
		i = j
	}
	return out
}

func wordToken(w string) token {
	if _, ok := genericPre[w]; ok {
		return token{class: tokPre, text: w}
	}
	return token{class: tokWord, text: w}
}

func runEnd(s string, i int, in func(byte) bool) int {
	for i < len(s) && in(s[i]) {
		i++
	}
	return i
}
