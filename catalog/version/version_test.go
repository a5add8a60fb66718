package version

import (
	"errors"
	"testing"
)

// checkOrder asserts that each version is strictly older than the next, and
// that Compare is antisymmetric on every pair.
func checkOrder(t *testing.T, s Scheme, ordered []string) {
	t.Helper()
	for i := range ordered {
		for j := range ordered {
			want := sign(i - j)
			if got := Compare(s, ordered[i], ordered[j]); got != want {
				t.Errorf("%s: Compare(%q, %q) = %d, want %d", s, ordered[i], ordered[j], got, want)
			}
		}
	}
}

func checkEqual(t *testing.T, s Scheme, pairs [][2]string) {
	t.Helper()
	for _, p := range pairs {
		if got := Compare(s, p[0], p[1]); got != 0 {
			t.Errorf("%s: Compare(%q, %q) = %d, want 0", s, p[0], p[1], got)
		}
	}
}

func TestDebianOrder(t *testing.T) {
	checkOrder(t, Debian, []string{
		"0.9", "1.0~~", "1.0~~a", "1.0~rc1", "1.0~rc2", "1.0", "1.0-0.1", "1.0-1", "1.0-1ubuntu0.1",
		"1.0-1ubuntu1", "1.0-2", "1.0a", "1.0+dfsg-1", "1.0.1", "1.10", "2.0", "2.0.0+b1",
		"1:0.9", "1:1.0~beta", "2:0",
	})
	checkEqual(t, Debian, [][2]string{
		{"1.0", "1.0-0"}, {"0:1.0", "1.0"}, {"1.01", "1.1"}, {"00001:2", "1:2"},
	})
	// Versions as Ubuntu and Debian ship them.
	checkOrder(t, Debian, []string{"3.11.2-6", "3.11.2-6+deb12u1", "3.11.4-1", "3.12.0~rc1-1", "3.12.0-1"})
	checkOrder(t, Debian, []string{"1:1.26.4+ds-6ubuntu1", "1:2.0.0-1"})
}

func TestPEP440Order(t *testing.T) {
	checkOrder(t, PEP440, []string{
		"0.9", "1.0.dev0", "1.0.dev456", "1.0a1", "1.0a2.dev456", "1.0a12.dev456", "1.0a12",
		"1.0b1.dev456", "1.0b2", "1.0b2.post345.dev456", "1.0b2.post345", "1.0rc1.dev456", "1.0rc1",
		"1.0", "1.0+abc.5", "1.0+abc.7", "1.0+5", "1.0.post456.dev34", "1.0.post456", "1.0.15",
		"1.1.dev1", "1.26", "2!0.1",
	})
	checkEqual(t, PEP440, [][2]string{
		{"1.26.0", "1.26"}, {"1.0RC1", "1.0rc1"}, {"1.0-alpha-1", "1.0a1"}, {"v1.0", "1.0"},
		{"1.0-1", "1.0.post1"}, {"1.0.rev1", "1.0.post1"}, {"1.0c1", "1.0rc1"}, {"0!1.0", "1.0"},
		{"1.0.preview2", "1.0rc2"}, {"1.0_beta_3", "1.0b3"}, {"1.0.dev", "1.0.dev0"},
	})
	// Invalid (legacy) versions fall back to the generic ordering.
	checkOrder(t, PEP440, []string{"1.0", "1.0.foo", "1.0.1"})
}

func TestGenericOrder(t *testing.T) {
	checkOrder(t, Generic, []string{
		"0.9", "1.0~rc1", "1.0_alpha", "1.0_beta2", "1.0_rc1", "1.0", "1.0_p1", "1.0.1",
		"1.0.10", "1.1a", "1.1", "2.0.0-beta.2", "2.0.0", "1:0.1",
	})
	checkEqual(t, Generic, [][2]string{
		{"1.26", "1.26.0"}, {"3.4-4", "3.4.4"}, {"1.0RC1", "1.0rc1"}, {"0:1.0", "1.0"},
	})
	// rpm releases, apk revisions, R's dash versions, conda builds.
	checkOrder(t, Generic, []string{"2.28-225.el9", "2.28-225.el9_3", "2.28-236.el9"})
	checkOrder(t, Generic, []string{"3.1.4-r5", "3.1.4-r6", "3.3.0-r0"})
	checkOrder(t, Generic, []string{"1.1-2", "1.1-10", "1.2-0"})
	checkOrder(t, Generic, []string{"12.1.105", "12.2.140", "12.10.1"})
	// Zeros a version only adds are ignored, so these stay in one order
	// whichever pair is compared (the fuzzer found 1.26R < 1.26.0 == 1.26 < 1.26R).
	checkOrder(t, Generic, []string{"1.26rc1", "1.26", "1.26R", "1.26.0R", "1.26.0.5"})
	checkOrder(t, Generic, []string{"1.26.0", "1.26R"})
	checkEqual(t, Generic, [][2]string{{"1.26R", "1.26R.0"}, {"2.0.0-rc1", "2.0rc1"}, {"1.26", "1.26.0.0"}})
}

func TestSchemeFor(t *testing.T) {
	for eco, want := range map[string]Scheme{"python": PEP440, "deb": Debian, "rpm": Generic, "conda": Generic, "x": Generic} {
		if got := SchemeFor(eco); got != want {
			t.Errorf("SchemeFor(%q) = %s, want %s", eco, got, want)
		}
	}
}

func TestMatches(t *testing.T) {
	cases := []struct {
		scheme Scheme
		v, c   string
		want   bool
	}{
		{PEP440, "3.11.7", "3.11", true},
		{PEP440, "3.110.1", "3.11", false},
		{PEP440, "3.1", "3.11", false},
		{PEP440, "3.11", "3.11", true},
		{PEP440, "3.11rc1", "3.11", true},
		{PEP440, "1.26.0", ">=1.26", true},
		{PEP440, "1.26.0", "==1.26", true},
		{PEP440, "1.26.0", "=1.26", true},
		{PEP440, "1.26rc1", ">=1.26", false},
		{PEP440, "1.26.4", "==1.26.*", true},
		{PEP440, "1.27.0", "==1.26.*", false},
		{PEP440, "1.26.4", ">=1.20,<2", true},
		{PEP440, "2.0.0", ">=1.20, <2", false},
		{PEP440, "1.0", "!=1.0.0", false},
		{PEP440, "1.0.post1", ">1.0", true},
		{PEP440, "0.9", "<=1.0", true},
		{PEP440, "1.0a1", "<1.0", true},
		{Debian, "3.11.2-6+deb12u1", "3.11", true},
		{Debian, "1:0.9-1", ">2.0", true},
		{Debian, "1.0~rc1-1", "<1.0", true},
		{Debian, "1.0~rc1-1", ">=1.0", false},
		{Generic, "12.2.140", ">=12", true},
		{Generic, "12.2.140", "12.2", true},
		{Generic, "12.20.1", "12.2", false},
		{Generic, "4.3.1", "!=4.3.0", true},
	}
	for _, tc := range cases {
		got, err := Matches(tc.scheme, tc.v, tc.c)
		if err != nil || got != tc.want {
			t.Errorf("Matches(%s, %q, %q) = %v, %v; want %v", tc.scheme, tc.v, tc.c, got, err, tc.want)
		}
	}
}

func TestParseConstraintErrors(t *testing.T) {
	for _, bad := range []string{"", ">=", "== ", ">>1", "1 2", ".*", "==.*", ">=1,"} {
		if _, err := Matches(PEP440, "1.0", bad); !errors.Is(err, ErrConstraint) {
			t.Errorf("constraint %q: err = %v, want ErrConstraint", bad, err)
		}
	}
	c, err := ParseConstraint(" >= 1.2 ")
	if err != nil || c != (Constraint{Op: ">=", Version: "1.2"}) {
		t.Errorf("ParseConstraint = %+v, %v", c, err)
	}
}

func TestHugeComponents(t *testing.T) {
	a, b := "1.99999999999999999999999999999", "1.100000000000000000000000000000"
	for _, s := range []Scheme{PEP440, Debian, Generic} {
		if Compare(s, a, b) != -1 {
			t.Errorf("%s: %s should be older than %s", s, a, b)
		}
	}
}
