package pkgdb

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
)

var rpmWant = []Package{
	{Name: "hello-oyster", Version: "1:2.12.1-3.el9", Ecosystem: RPM, Arch: "x86_64", Origin: "hello-oyster-2.12.1-3.el9.src.rpm"},
	{Name: "libfoo", Version: "0.9~rc1-1", Ecosystem: RPM, Arch: "noarch", Origin: "libfoo-0.9~rc1-1.src.rpm"},
}

func testdataRPM(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join("testdata", "rpm", name))
}

func readRPMTestdata(t *testing.T, name string) []byte {
	t.Helper()
	data, err := testdataRPM(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParseRPMDB(t *testing.T) {
	for _, name := range []string{"rpmdb.sqlite", "Packages-le512", "Packages-le4096", "Packages-be512"} {
		t.Run(name, func(t *testing.T) {
			source := "var/lib/rpm/" + name
			pkgs, err := ParseRPMDB(bytes.NewReader(readRPMTestdata(t, name)), source)
			if err != nil {
				t.Fatal(err)
			}
			want := make([]Package, len(rpmWant))
			for i, p := range rpmWant {
				p.Source = source
				want[i] = p
			}
			sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].Name < pkgs[j].Name }) // BDB yields hash order
			if !reflect.DeepEqual(pkgs, want) {
				t.Errorf("packages = %+v\nwant %+v", pkgs, want)
			}
		})
	}
}

// The 512-byte-page copy has overflow chains and interior b-tree pages.
func TestParseRPMDBSQLiteMultiPage(t *testing.T) {
	pkgs, err := ParseRPMDB(bytes.NewReader(readRPMTestdata(t, "rpmdb-512.sqlite")), "s")
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 40 {
		t.Fatalf("%d packages, want 40", len(pkgs))
	}
	for i, p := range pkgs {
		if p.Name != rpmWant[i%2].Name || p.Version != rpmWant[i%2].Version {
			t.Fatalf("row %d = %+v", i, p)
		}
	}
}

func TestParseRPMDBUnsupported(t *testing.T) {
	for name, data := range map[string][]byte{
		"ndb":     append([]byte("RpmP"), make([]byte, 60)...),
		"unknown": bytes.Repeat([]byte{0xAB}, 64),
	} {
		if _, err := ParseRPMDB(bytes.NewReader(data), "x"); !errors.Is(err, ErrUnsupportedRPMDB) {
			t.Errorf("%s: err = %v, want ErrUnsupportedRPMDB", name, err)
		}
	}
	if _, err := ParseRPMDB(bytes.NewReader([]byte("short")), "x"); err == nil {
		t.Error("a 5-byte database parsed")
	}
}

// Damage every part of each database in turn: the readers must return (an
// error or fewer packages), never panic or loop.
func TestParseRPMDBCorrupt(t *testing.T) {
	for _, name := range []string{"rpmdb.sqlite", "rpmdb-512.sqlite", "Packages-le512", "Packages-be512", "Packages-le4096"} {
		orig := readRPMTestdata(t, name)
		for off := 0; off < len(orig); off += len(orig)/700 + 1 {
			for _, b := range []byte{0x00, 0xff, 0x7f} {
				data := bytes.Clone(orig)
				data[off] = b
				blobs, _ := rpmHeaderBlobs(bytes.NewReader(data), int64(len(data)))
				for _, blob := range blobs {
					parseRPMHeader(blob)
				}
			}
		}
		for cut := 0; cut < len(orig); cut += 97 {
			rpmHeaderBlobs(bytes.NewReader(orig[:cut]), int64(cut))
		}
	}
}

func TestParseRPMHeaderBounds(t *testing.T) {
	for _, blob := range [][]byte{
		nil,
		{0, 0, 0, 1},
		{0, 0, 0, 0, 0, 0, 0, 0},             // no entries
		{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, // absurd entry count
		{0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0, 0},                                                        // absurd data size
		append([]byte{0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 3, 0xe8, 0, 0, 0, 6, 0xff, 0, 0, 0, 0, 0, 0, 1}, 'x'), // offset past data
	} {
		if _, err := parseRPMHeader(blob); err == nil {
			t.Errorf("header % x parsed", blob)
		}
	}
}
