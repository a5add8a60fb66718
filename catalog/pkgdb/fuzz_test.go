package pkgdb

import (
	"bytes"
	"testing"
)

// The fuzz targets check what every parser promises on any input: no panic,
// and every package returned has a name and a version.

func checkPackages(t *testing.T, pkgs []Package, eco Ecosystem) {
	t.Helper()
	for _, p := range pkgs {
		if p.Name == "" || p.Version == "" || p.Ecosystem != eco {
			t.Fatalf("incomplete package %+v", p)
		}
	}
}

func FuzzDpkg(f *testing.F) {
	f.Add([]byte(dpkgStatus))
	f.Add([]byte(distrolessStatusD))
	f.Add([]byte("Package: a\nVersion: 1\n\n \n:\n\nPackage b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, _ := ParseDpkgStatus(bytes.NewReader(data), "s")
		checkPackages(t, pkgs, Deb)
		pkgs, _ = ParseApkInstalled(bytes.NewReader(data), "s")
		checkPackages(t, pkgs, APK)
	})
}

func FuzzPythonMetadata(f *testing.F) {
	f.Add([]byte(pythonMetadata))
	f.Add([]byte(pkgInfo))
	f.Add([]byte(rDescription))
	f.Fuzz(func(t *testing.T, data []byte) {
		if p, err := ParsePythonMetadata(bytes.NewReader(data), "m"); err == nil {
			checkPackages(t, []Package{p}, Python)
			if p.NormalizedName != NormalizePythonName(p.NormalizedName) {
				t.Fatalf("normalized name %q is not normal", p.NormalizedName)
			}
		}
		if p, err := ParseRDescription(bytes.NewReader(data), "d"); err == nil {
			checkPackages(t, []Package{p}, R)
		}
		ParseOSRelease(bytes.NewReader(data))
	})
}

func FuzzCondaMeta(f *testing.F) {
	f.Add([]byte(condaMeta))
	f.Add([]byte(`{"name":"numpy","version":"1.26.4","files":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if p, err := ParseCondaMeta(bytes.NewReader(data), "c"); err == nil {
			checkPackages(t, []Package{p}, Conda)
		}
	})
}

// FuzzRPMDB drives the Berkeley DB, SQLite and NDB readers and the header parser
// directly, without the temporary file, since they are where an untrusted
// binary format meets offsets and lengths.
func FuzzRPMDB(f *testing.F) {
	for _, name := range []string{"rpmdb.sqlite", "Packages-le512", "Packages-be512"} {
		data, err := testdataRPM(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(testNDB(f))
	f.Fuzz(func(t *testing.T, data []byte) {
		blobs, _ := rpmHeaderBlobs(bytes.NewReader(data), int64(len(data)))
		for _, b := range blobs {
			if p, err := parseRPMHeader(b); err == nil {
				checkPackages(t, []Package{p}, RPM)
			}
		}
	})
}
