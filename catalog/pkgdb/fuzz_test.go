package pkgdb

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// The fuzz targets check what every parser promises on any input: no panic,
// every package returned has a name and a version, and a round trip: the
// packages a parser returns, written back in the format they came from,
// parse again to the same packages without error. That catches a field
// that swallows a separator, keeps bytes its format cannot hold, or
// depends on something other than what was parsed.

func checkPackages(t *testing.T, pkgs []Package, eco Ecosystem) {
	t.Helper()
	for _, p := range pkgs {
		if p.Name == "" || p.Version == "" || p.Ecosystem != eco {
			t.Fatalf("incomplete package %+v", p)
		}
	}
}

// checkReparse parses text (a database written from want) and requires
// want back.
func checkReparse[T any](t *testing.T, want T, text string, parse func(string) (T, error)) {
	t.Helper()
	got, err := parse(text)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("written back as\n%q\nit parses to %+v, %v\nwant %+v", text, got, err, want)
	}
}

// field writes one "Name: value" line; the lines of a multi-line value
// after the first become continuation lines.
func field(b *strings.Builder, name, value string) {
	if value != "" {
		fmt.Fprintf(b, "%s: %s\n", name, strings.ReplaceAll(value, "\n", "\n "))
	}
}

func dpkgText(pkgs []Package) string {
	var b strings.Builder
	for _, p := range pkgs {
		field(&b, "Package", p.Name)
		field(&b, "Status", "install ok installed")
		field(&b, "Version", p.Version)
		field(&b, "Architecture", p.Arch)
		field(&b, "Source", p.Origin)
		b.WriteString("\n")
	}
	return b.String()
}

func apkText(pkgs []Package) string {
	var b strings.Builder
	for _, p := range pkgs {
		for _, f := range [][2]string{{"P", p.Name}, {"V", p.Version}, {"A", p.Arch}, {"o", p.Origin}} {
			if f[1] != "" {
				fmt.Fprintf(&b, "%s:%s\n", f[0], strings.ReplaceAll(f[1], "\n", "\n "))
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

func FuzzDpkg(f *testing.F) {
	f.Add([]byte(dpkgStatus))
	f.Add([]byte(distrolessStatusD))
	f.Add([]byte("Package: a\nVersion: 1\n\n \n:\n\nPackage b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, _ := ParseDpkgStatus(bytes.NewReader(data), "s")
		checkPackages(t, pkgs, Deb)
		checkReparse(t, pkgs, dpkgText(pkgs), func(s string) ([]Package, error) {
			return ParseDpkgStatus(strings.NewReader(s), "s")
		})
		pkgs, _ = ParseApkInstalled(bytes.NewReader(data), "s")
		checkPackages(t, pkgs, APK)
		checkReparse(t, pkgs, apkText(pkgs), func(s string) ([]Package, error) {
			return ParseApkInstalled(strings.NewReader(s), "s")
		})
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
			var b strings.Builder
			field(&b, "Metadata-Version", "2.1")
			field(&b, "Name", p.Name)
			field(&b, "Version", p.Version)
			checkReparse(t, p, b.String(), func(s string) (Package, error) {
				return ParsePythonMetadata(strings.NewReader(s), "m")
			})
		}
		if p, err := ParseRDescription(bytes.NewReader(data), "d"); err == nil {
			checkPackages(t, []Package{p}, R)
			var b strings.Builder
			field(&b, "Package", p.Name)
			field(&b, "Version", p.Version)
			field(&b, "Repository", p.Origin)
			checkReparse(t, p, b.String(), func(s string) (Package, error) {
				return ParseRDescription(strings.NewReader(s), "d")
			})
		}
		if o, err := ParseOSRelease(bytes.NewReader(data)); err == nil {
			if text := osReleaseText(o); len(text) < bufio.MaxScanTokenSize {
				checkReparse(t, o, text, func(s string) (OSRelease, error) {
					return ParseOSRelease(strings.NewReader(s))
				})
			}
		}
	})
}

// osReleaseText writes o with every value double-quoted, escaping what
// the shell would interpret.
func osReleaseText(o OSRelease) string {
	quote := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", `\$`, "`", "\\`")
	var b strings.Builder
	for _, kv := range [][2]string{{"ID", o.ID}, {"ID_LIKE", o.IDLike}, {"VERSION_ID", o.VersionID},
		{"VERSION_CODENAME", o.VersionCodename}, {"NAME", o.Name}, {"PRETTY_NAME", o.PrettyName}} {
		fmt.Fprintf(&b, "%s=\"%s\"\n", kv[0], quote.Replace(kv[1]))
	}
	return b.String()
}

func FuzzCondaMeta(f *testing.F) {
	f.Add([]byte(condaMeta))
	f.Add([]byte(`{"name":"numpy","version":"1.26.4","files":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseCondaMeta(bytes.NewReader(data), "c")
		if err != nil {
			return
		}
		checkPackages(t, []Package{p}, Conda)
		text, err := json.Marshal(condaRecord{Name: p.Name, Version: p.Version, Channel: p.Origin, Subdir: p.Arch})
		if err != nil {
			t.Fatal(err)
		}
		checkReparse(t, p, string(text), func(s string) (Package, error) {
			return ParseCondaMeta(strings.NewReader(s), "c")
		})
	})
}

// FuzzRPMDB drives the Berkeley DB, SQLite and NDB readers and the header parser
// directly, without the temporary file, since they are where an untrusted
// binary format meets offsets and lengths. No header blob may be larger
// than the database it came from, and a package written back as a header
// parses to itself.
func FuzzRPMDB(f *testing.F) {
	for _, name := range []string{"rpmdb.sqlite", "Packages-le512", "Packages-be512"} {
		data, err := testdataRPM(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(testNDB(f))
	f.Fuzz(checkRPMBlobs)
}

// checkRPMBlobs reads data's header blobs and checks what every read
// promises, whatever data holds.
func checkRPMBlobs(t *testing.T, data []byte) {
	t.Helper()
	blobs, _ := rpmHeaderBlobs(bytes.NewReader(data), int64(len(data)))
	for _, b := range blobs {
		if len(b) > len(data) {
			t.Fatalf("a %d-byte header blob out of a %d-byte database", len(b), len(data))
		}
		if p, err := parseRPMHeader(b); err == nil {
			checkPackages(t, []Package{p}, RPM)
			checkReparse(t, p, string(rpmHeaderOf(p)), func(s string) (Package, error) {
				return parseRPMHeader([]byte(s))
			})
		}
	}
}

// rpmHeaderOf writes p as an rpm header blob: its version whole in the
// version tag (no epoch or release tags), each string NUL-terminated.
func rpmHeaderOf(p Package) []byte {
	var index, data []byte
	for _, e := range []struct {
		tag   uint32
		value string
	}{{rpmTagName, p.Name}, {rpmTagVersion, p.Version}, {rpmTagArch, p.Arch}, {rpmTagSourceRPM, p.Origin}} {
		if e.value == "" {
			continue
		}
		index = binary.BigEndian.AppendUint32(index, e.tag)
		index = binary.BigEndian.AppendUint32(index, rpmTypeString)
		index = binary.BigEndian.AppendUint32(index, uint32(len(data)))
		index = binary.BigEndian.AppendUint32(index, 1)
		data = append(append(data, e.value...), 0)
	}
	blob := binary.BigEndian.AppendUint32(nil, uint32(len(index)/16))
	blob = binary.BigEndian.AppendUint32(blob, uint32(len(data)))
	return append(append(blob, index...), data...)
}
