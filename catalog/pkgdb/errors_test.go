package pkgdb

import (
	"errors"
	"strings"
	"testing"
)

// A database of many malformed stanzas costs MaxErrorsKept error values
// and a count, whatever their number.
func TestParseKeepsErrorsWithinBound(t *testing.T) {
	const stanzas = 50_000
	pkgs, err := ParseDpkgStatus(strings.NewReader("Package: ok\nVersion: 1\n\n"+strings.Repeat("x\n\n", stanzas)), "s")
	var errs *Errors
	if !errors.As(err, &errs) || len(errs.Errs) != MaxErrorsKept || errs.Omitted != stanzas-MaxErrorsKept {
		t.Fatalf("err %T: %v", err, err)
	}
	if len(pkgs) != 1 || !strings.HasSuffix(err.Error(), "\n49900 more errors not listed") {
		t.Errorf("packages %v, error ends %q", pkgs, err.Error()[len(err.Error())-40:])
	}
	var syn *SyntaxError
	if !errors.As(err, &syn) || syn.Line != 4 {
		t.Errorf("first syntax error %+v", syn)
	}
}

// A database stops at MaxPackagesPerFile packages and says so.
func TestParseStopsAtMaxPackages(t *testing.T) {
	var b strings.Builder
	for range MaxPackagesPerFile + 5 {
		b.WriteString("P:a\nV:1\n\n")
	}
	pkgs, err := ParseApkInstalled(strings.NewReader(b.String()), "s")
	if len(pkgs) != MaxPackagesPerFile || !errors.Is(err, ErrTooManyPackages) {
		t.Errorf("%d packages, %v", len(pkgs), err)
	}
}

func TestCheckRefusesControlCharacters(t *testing.T) {
	for _, p := range []Package{{Name: "a\x00", Version: "1"}, {Name: "a", Version: "1\n2"}, {Name: "a", Version: "1", Arch: "x\x7f"}} {
		if err := p.Check(); !errors.Is(err, ErrControlCharacter) {
			t.Errorf("%q: %v", p, err)
		}
	}
	if err := (Package{Name: "", Version: "1"}).Check(); err == nil {
		t.Error("empty name accepted")
	}
	if err := (Package{Name: "libc6", Version: "2.36-9+deb12u4", Arch: "amd64"}).Check(); err != nil {
		t.Error(err)
	}
}
