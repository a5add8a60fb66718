package pkgdb

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

type nv struct{ name, version string }

func names(pkgs []Package) []nv {
	out := make([]nv, len(pkgs))
	for i, p := range pkgs {
		out[i] = nv{p.Name, p.Version}
	}
	return out
}

func TestParseDpkgStatus(t *testing.T) {
	pkgs, err := ParseDpkgStatus(strings.NewReader(dpkgStatus), "var/lib/dpkg/status")
	if err != nil {
		t.Fatal(err)
	}
	want := []nv{{"base-files", "12.4+deb12u5"}, {"libc6", "2.36-9+deb12u4"}, {"python3.11-minimal", "3.11.2-6+deb12u1"}}
	if got := names(pkgs); !reflect.DeepEqual(got, want) {
		t.Fatalf("packages = %v, want %v (config-files only vim-tiny left out)", got, want)
	}
	libc := pkgs[1]
	if libc.Ecosystem != Deb || libc.Arch != "amd64" || libc.Origin != "glibc" || libc.Source != "var/lib/dpkg/status" {
		t.Errorf("libc6 = %+v", libc)
	}
	if pkgs[2].Origin != "python3.11" {
		t.Errorf("Source with version: origin = %q", pkgs[2].Origin)
	}
}

func TestParseDpkgStatusD(t *testing.T) {
	pkgs, err := ParseDpkgStatus(strings.NewReader(distrolessStatusD), "var/lib/dpkg/status.d/tzdata")
	if err != nil || !reflect.DeepEqual(names(pkgs), []nv{{"tzdata", "2024a-0+deb12u1"}}) {
		t.Fatalf("status.d without Status: %v, %v", names(pkgs), err)
	}
}

func TestParseDpkgStatusMalformed(t *testing.T) {
	broken := "Package: good-1\nVersion: 1.0\nStatus: install ok installed\n\n" +
		"Package: broken\nthis line has no colon\nVersion: 2.0\n\n" +
		" continuation first\nPackage: x\n\n" +
		"Package: noversion\nStatus: install ok installed\n\n" +
		"Package: good-2\r\nVersion: 3.0\r\n"
	pkgs, err := ParseDpkgStatus(strings.NewReader(broken), "s")
	if !reflect.DeepEqual(names(pkgs), []nv{{"good-1", "1.0"}, {"good-2", "3.0"}}) {
		t.Errorf("packages = %v", names(pkgs))
	}
	var syn *SyntaxError
	if !errors.As(err, &syn) || syn.Line != 6 {
		t.Fatalf("err = %v, want a SyntaxError at line 6", err)
	}
	for _, frag := range []string{`line 6: expected "Field: value", got "this line has no colon"`, "line 9: continuation line before any field", "line 12: stanza without Package and Version"} {
		if !strings.Contains(err.Error(), frag) {
			t.Errorf("error %q lacks %q", err, frag)
		}
	}
}

func TestParseDpkgStatusLongLine(t *testing.T) {
	long := "Package: a\nVersion: 1\nDescription: " + strings.Repeat("x", MaxLineBytes+10) + "\n"
	pkgs, err := ParseDpkgStatus(strings.NewReader(long), "s")
	if err == nil || len(pkgs) != 0 {
		t.Fatalf("a line over MaxLineBytes: %v, %v", names(pkgs), err)
	}
}

func TestParseApkInstalled(t *testing.T) {
	pkgs, err := ParseApkInstalled(strings.NewReader(apkInstalled), "lib/apk/db/installed")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(names(pkgs), []nv{{"musl", "1.2.4-r2"}, {"python3", "3.11.8-r0"}}) {
		t.Fatalf("packages = %v", names(pkgs))
	}
	if p := pkgs[1]; p.Ecosystem != APK || p.Arch != "x86_64" || p.Origin != "python3" {
		t.Errorf("python3 = %+v", p)
	}
}

func TestParsePythonMetadata(t *testing.T) {
	p, err := ParsePythonMetadata(strings.NewReader(pythonMetadata), "x/scikit_learn-1.4.1.post1.dist-info/METADATA")
	if err != nil {
		t.Fatal(err)
	}
	want := Package{Name: "Scikit_Learn", Version: "1.4.1.post1", Ecosystem: Python,
		Source: "x/scikit_learn-1.4.1.post1.dist-info/METADATA", NormalizedName: "scikit-learn"}
	if p != want {
		t.Errorf("got %+v, want %+v (the body's Name: line must not count)", p, want)
	}
	p, err = ParsePythonMetadata(strings.NewReader(pkgInfo), "python_apt-2.6.0.egg-info")
	if err != nil || p.Name != "python-apt" || p.Version != "2.6.0" || p.NormalizedName != "python-apt" {
		t.Errorf("PKG-INFO: %+v, %v", p, err)
	}
	for _, bad := range []string{"", "\n\n", "Name: x\n", "Metadata-Version: 2.1\nnot a header\n"} {
		if _, err := ParsePythonMetadata(strings.NewReader(bad), "m"); err == nil {
			t.Errorf("metadata %q parsed", bad)
		}
	}
}

// A METADATA file whose description never ends: only the headers are read.
func TestParsePythonMetadataReadsHeadersOnly(t *testing.T) {
	r := &countingReader{r: io.MultiReader(strings.NewReader("Name: big\nVersion: 1.0\n\n"), repeatReader('x'))}
	p, err := ParsePythonMetadata(r, "m")
	if err != nil || p.Name != "big" {
		t.Fatalf("%+v, %v", p, err)
	}
	if r.n > 1<<20 {
		t.Errorf("read %d bytes of an endless description", r.n)
	}
}

func TestNormalizePythonName(t *testing.T) {
	for in, want := range map[string]string{
		"Django": "django", "ruamel.yaml": "ruamel-yaml", "Foo__Bar-.baz": "foo-bar-baz", " zope.interface ": "zope-interface",
	} {
		if got := NormalizePythonName(in); got != want {
			t.Errorf("NormalizePythonName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseCondaMeta(t *testing.T) {
	p, err := ParseCondaMeta(strings.NewReader(condaMeta), "opt/conda/conda-meta/python-3.11.7-hab00c5b_0_cpython.json")
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "python" || p.Version != "3.11.7" || p.Ecosystem != Conda || p.Arch != "linux-64" ||
		p.Origin != "https://conda.anaconda.org/conda-forge/linux-64" {
		t.Errorf("got %+v", p)
	}
	for _, bad := range []string{"", "{", `{"name": "x"}`, `[1,2]`, `{"name": 3, "version": "1"}`} {
		if _, err := ParseCondaMeta(strings.NewReader(bad), "c"); err == nil {
			t.Errorf("conda-meta %q parsed", bad)
		}
	}
}

func TestParseRDescription(t *testing.T) {
	p, err := ParseRDescription(strings.NewReader(rDescription), "usr/local/lib/R/site-library/ggplot2/DESCRIPTION")
	if err != nil || p.Name != "ggplot2" || p.Version != "3.4.4" || p.Ecosystem != R || p.Origin != "CRAN" {
		t.Fatalf("got %+v, %v", p, err)
	}
	p, err = ParseRDescription(strings.NewReader(rBaseDescription), "usr/lib/R/library/base/DESCRIPTION")
	if err != nil || p.Name != "base" || p.Version != "4.3.2" {
		t.Fatalf("base: %+v, %v", p, err)
	}
	if _, err := ParseRDescription(strings.NewReader("Title: no package\n"), "d"); err == nil {
		t.Error("DESCRIPTION without Package parsed")
	}
}

func TestParseOSRelease(t *testing.T) {
	o, err := ParseOSRelease(strings.NewReader(osReleaseUbuntu))
	want := OSRelease{ID: "ubuntu", IDLike: "debian", VersionID: "22.04", VersionCodename: "jammy", Name: "Ubuntu", PrettyName: "Ubuntu 22.04.4 LTS"}
	if err != nil || o != want {
		t.Errorf("ubuntu: %+v, %v", o, err)
	}
	o, err = ParseOSRelease(strings.NewReader(osReleaseRocky))
	if err != nil || o.ID != "rocky" || o.VersionID != "9.3" || o.IDLike != "rhel centos fedora" {
		t.Errorf("rocky: %+v, %v", o, err)
	}
	o, err = ParseOSRelease(strings.NewReader("ID='alpine'\n# comment\nPRETTY_NAME=\"say \\\"hi\\\" \\\\ \\$HOME\"\n"))
	if err != nil || o.ID != "alpine" || o.PrettyName != `say "hi" \ $HOME` {
		t.Errorf("quoting: %+v, %v", o, err)
	}
	if _, err := ParseOSRelease(strings.NewReader("HOME_URL=x\n")); err == nil {
		t.Error("os-release without ID or NAME parsed")
	}
	if _, err := ParseOSRelease(io.MultiReader(strings.NewReader("ID=x\n"), io.LimitReader(repeatReader('\n'), MaxOSReleaseBytes))); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized os-release: err = %v, want ErrTooLarge", err)
	}
}

type repeatReader byte

func (b repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
