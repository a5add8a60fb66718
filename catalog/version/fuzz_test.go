package version

import (
	"strings"
	"testing"
)

var schemes = []Scheme{PEP440, Debian, Generic}

// FuzzCompare checks that every ordering is a total order on any input: no
// panic, reflexive, antisymmetric and transitive; and that an operator and
// its complement split every version between them.
func FuzzCompare(f *testing.F) {
	for _, seed := range [][3]string{
		{"1.0~rc1", "1.0", "1.0+b1"}, {"1:0.9", "2.0", "1:0.10"}, {"1.0rc1", "1.0.post1", "1.0"},
		{"1.26.0", "1.26", "1.26.0.0"}, {"2!1.0+local.7", "1.0.dev0", "1.0a1"}, {"3.1.4-r5", "3.1.4_p1", "3.1.4_rc1"},
		{"", "~", "0"}, {"0:", "-", "a"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		for _, s := range schemes {
			if c := Compare(s, a, a); c != 0 {
				t.Fatalf("%s: Compare(%q, itself) = %d", s, a, c)
			}
			if ab, ba := Compare(s, a, b), Compare(s, b, a); ab != -ba {
				t.Fatalf("%s: Compare(%q, %q) = %d but reverse = %d", s, a, b, ab, ba)
			}
			if s != PEP440 || samePEP440Validity(a, b, c) {
				checkTransitive(t, s, a, b, c)
			}
			checkConstraint(t, s, a, b)
		}
	})
}

// samePEP440Validity reports whether all of vs are valid PEP 440 versions
// or none is. Compare orders a pair with an invalid side by the Generic
// ordering, so versions of mixed validity need not be transitive
// (1.0+zzz < 1.0.post1 under PEP 440, 1.0.post1 < 1.0.q < 1.0+zzz under
// Generic): only the two uniform cases are total orders.
func samePEP440Validity(vs ...string) bool {
	valid := 0
	for _, v := range vs {
		if _, ok := parsePEP440(v); ok {
			valid++
		}
	}
	return valid == 0 || valid == len(vs)
}

// checkTransitive requires x <= y <= z to imply x <= z for every ordering
// of the three, and x == z when both steps are equal.
func checkTransitive(t *testing.T, s Scheme, a, b, c string) {
	t.Helper()
	for _, p := range [][3]string{{a, b, c}, {a, c, b}, {b, a, c}, {b, c, a}, {c, a, b}, {c, b, a}} {
		x, y, z := p[0], p[1], p[2]
		xy, yz := Compare(s, x, y), Compare(s, y, z)
		if xy > 0 || yz > 0 {
			continue
		}
		if xz := Compare(s, x, z); xz > 0 || (xy == 0 && yz == 0 && xz != 0) {
			t.Fatalf("%s: not transitive: Compare(%q, %q) = %d, Compare(%q, %q) = %d, but Compare(%q, %q) = %d",
				s, x, y, xy, y, z, yz, x, z, xz)
		}
	}
}

var complement = map[string]string{">=": "<", "<": ">=", "<=": ">", ">": "<=", "==": "!=", "=": "!=", "!=": "=="}

// checkConstraint parses constraint as a constraint (when it is one) and
// requires v to match exactly one of it and its complement. Prefix forms
// ("3.11", "==3.11.*") have no complement operator and are left out.
func checkConstraint(t *testing.T, s Scheme, v, constraint string) {
	t.Helper()
	c, err := ParseConstraint(constraint)
	if err != nil || c.Op == "" || strings.HasSuffix(c.Version, ".*") {
		return
	}
	not := Constraint{Op: complement[c.Op], Version: c.Version}
	if c.Match(s, v) == not.Match(s, v) {
		t.Fatalf("%s: %q matches %s%s and %s%s alike (%v)", s, v, c.Op, c.Version, not.Op, not.Version, c.Match(s, v))
	}
}
