package version

import "testing"

// FuzzCompare checks that every ordering is total and consistent on any
// input: no panic, reflexive, antisymmetric, and constraint parsing never
// panics either.
func FuzzCompare(f *testing.F) {
	for _, seed := range [][2]string{
		{"1.0~rc1", "1.0"}, {"1:0.9", "2.0"}, {"1.0rc1", "1.0.post1"}, {"1.26.0", "1.26"},
		{"2!1.0+local.7", "1.0.dev0"}, {"3.1.4-r5", "3.1.4_p1"}, {"", "~"}, {"0:", "-"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		for _, s := range []Scheme{PEP440, Debian, Generic} {
			if c := Compare(s, a, a); c != 0 {
				t.Fatalf("%s: Compare(%q, itself) = %d", s, a, c)
			}
			if ab, ba := Compare(s, a, b), Compare(s, b, a); ab != -ba {
				t.Fatalf("%s: Compare(%q, %q) = %d but reverse = %d", s, a, b, ab, ba)
			}
			if c, err := ParseConstraint(b); err == nil {
				c.Match(s, a)
			}
		}
	})
}
