package pkgdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
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
	if _, err := ParseRPMDB(bytes.NewReader(bytes.Repeat([]byte{0xAB}, 64)), "x"); !errors.Is(err, ErrUnsupportedRPMDB) {
		t.Errorf("unknown magic: err = %v, want ErrUnsupportedRPMDB", err)
	}
	if _, err := ParseRPMDB(bytes.NewReader([]byte("short")), "x"); err == nil {
		t.Error("a 5-byte database parsed")
	}
}

func TestParseRPMHeaderBounds(t *testing.T) {
	for _, c := range []struct {
		blob []byte
		want string
	}{
		{nil, "rpm header shorter than its preamble"},
		{[]byte{0, 0, 0, 1}, "rpm header shorter than its preamble"},
		{[]byte{0, 0, 0, 0, 0, 0, 0, 0}, "rpm header claims 0 entries and 0 data bytes in a 8 byte blob"},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, "rpm header claims 4294967295 entries"},
		{[]byte{0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0, 0}, "rpm header claims 1 entries and 4294967295 data bytes in a 10 byte blob"},
		// A name entry whose string starts past the data: no name.
		{append([]byte{0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 3, 0xe8, 0, 0, 0, 6, 0xff, 0, 0, 0, 0, 0, 0, 1}, 'x'), "rpm header without name and version"},
	} {
		if _, err := parseRPMHeader(c.blob); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("header % x: error %v, want %q", c.blob, err, c.want)
		}
	}
}

// buildNDB lays header blobs out as rpm's NDB backend does: header, one
// slot page, then each blob (head, data, 12-byte tail) in 16-byte blocks.
// Debian's rpm cannot write NDB, so the file is built here from the real
// headers of rpmdb.sqlite.
func buildNDB(t testing.TB, blobs [][]byte) []byte {
	t.Helper()
	le := binary.LittleEndian
	db := make([]byte, ndbSlotPageSize)
	copy(db, "RpmP")
	le.PutUint32(db[8:], 1)  // generation
	le.PutUint32(db[12:], 1) // slot pages
	le.PutUint32(db[16:], uint32(len(blobs)+1))
	for off := ndbHeaderLen; off < ndbSlotPageSize; off += ndbSlotLen {
		copy(db[off:], ndbSlotMagic)
	}
	for i, b := range blobs {
		head := make([]byte, ndbBlobHeadLen)
		copy(head, ndbBlobMagic)
		le.PutUint32(head[4:], uint32(i+1))
		le.PutUint32(head[8:], 1)
		le.PutUint32(head[12:], uint32(len(b)))
		blob := append(append(head, b...), make([]byte, 12)...)
		blocks := (len(blob) + ndbBlockLen - 1) / ndbBlockLen
		slot := db[ndbHeaderLen+i*ndbSlotLen:]
		le.PutUint32(slot[4:], uint32(i+1))
		le.PutUint32(slot[8:], uint32(len(db)/ndbBlockLen))
		le.PutUint32(slot[12:], uint32(blocks))
		db = append(db, blob...)
		db = append(db, make([]byte, blocks*ndbBlockLen-len(blob))...)
	}
	return db
}

func TestParseRPMDBNDB(t *testing.T) {
	ndb := testNDB(t)
	pkgs, err := ParseRPMDB(bytes.NewReader(ndb), "usr/lib/sysimage/rpm/Packages.db")
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 2 || pkgs[0].Name != "hello-oyster" || pkgs[1].Version != "0.9~rc1-1" {
		t.Errorf("packages = %+v", pkgs)
	}
	bad := bytes.Clone(ndb)
	copy(bad[ndbSlotPageSize:], "XXXX") // first blob's magic
	pkgs, err = ParseRPMDB(bytes.NewReader(bad), "p")
	if len(pkgs) != 1 || err == nil || !strings.Contains(err.Error(), "ndb package 1: corrupt blob head") {
		t.Errorf("damaged blob: %+v, %v", pkgs, err)
	}
	for _, hdr := range [][]byte{append([]byte("RpmP"), make([]byte, 60)...), append([]byte("RpmP\x01"), make([]byte, 60)...)} {
		if _, err := ParseRPMDB(bytes.NewReader(hdr), "p"); err == nil {
			t.Errorf("ndb header % x parsed", hdr[:8])
		}
	}
}

func testNDB(t testing.TB) []byte {
	sqlite, err := testdataRPM("rpmdb.sqlite")
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := sqliteTableBlobs(bytes.NewReader(sqlite), int64(len(sqlite)), "Packages")
	if err != nil {
		t.Fatal(err)
	}
	return buildNDB(t, blobs)
}
