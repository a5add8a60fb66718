package pkgdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// rpmDamage is one way to break a real rpm database, with what ParseRPMDB
// must then say: an error containing want (or matching wantIs) and the
// number of packages it still reads.
type rpmDamage struct {
	name   string
	file   string // under testdata/rpm; "ndb" is the NDB built by testNDB
	edit   func(t *testing.T, db []byte) string
	want   string // %s is replaced by what edit returns
	wantIs error
	pkgs   int
}

var rpmDamages = []rpmDamage{
	{name: "bdb page size not a power of two", file: "Packages-le512", edit: func(_ *testing.T, db []byte) string {
		binary.LittleEndian.PutUint32(db[20:], 1000)
		return ""
	}, want: "berkeley db page size 1000 is not a power of two in 512..65536"},
	{name: "bdb more pages than the file holds", file: "Packages-be512", edit: func(_ *testing.T, db []byte) string {
		binary.BigEndian.PutUint32(db[32:], uint32(len(db)/512))
		return fmt.Sprintf("berkeley db claims %d pages in %d bytes", len(db)/512+1, len(db))
	}, want: "%s"},
	{name: "bdb off-page item longer than the file", file: "Packages-le512", edit: func(t *testing.T, db []byte) string {
		item, _ := bdbFirstOffPage(t, db, binary.LittleEndian)
		binary.LittleEndian.PutUint32(db[item+8:], 1<<20)
		return ""
	}, want: "off-page item claims 1048576 bytes", pkgs: 1},
	{name: "bdb overflow page of the wrong type", file: "Packages-be512", edit: func(t *testing.T, db []byte) string {
		_, first := bdbFirstOffPage(t, db, binary.BigEndian)
		db[int(first)*512+25] = 0
		return fmt.Sprint(first)
	}, want: "overflow page %s is corrupt", pkgs: 1},
	{name: "bdb overflow chain cut short", file: "Packages-le512", edit: func(t *testing.T, db []byte) string {
		_, first := bdbFirstOffPage(t, db, binary.LittleEndian)
		binary.LittleEndian.PutUint32(db[int(first)*512+16:], 0)
		return ""
	}, want: "off-page item has 486 of", pkgs: 1},
	{name: "bdb header blob with no entries", file: "Packages-le4096", edit: func(t *testing.T, db []byte) string {
		_, first := bdbFirstOffPage(t, db, binary.LittleEndian)
		binary.BigEndian.PutUint32(db[int(first)*4096+bdbPageHeaderLen:], 0) // the blob's entry count
		return ""
	}, want: "rpm header claims 0 entries", pkgs: 1},

	{name: "sqlite page size not a power of two", file: "rpmdb.sqlite", edit: func(_ *testing.T, db []byte) string {
		binary.BigEndian.PutUint16(db[16:], 1000)
		return ""
	}, want: "sqlite page size 1000 is invalid"},
	{name: "sqlite reserved bytes leave too little of a page", file: "rpmdb-512.sqlite", edit: func(_ *testing.T, db []byte) string {
		db[20] = 255
		return ""
	}, want: "sqlite usable page size 257 is invalid"},
	{name: "sqlite schema without the Packages table", file: "rpmdb.sqlite", edit: func(_ *testing.T, db []byte) string {
		page1 := db[:binary.BigEndian.Uint16(db[16:])]
		copy(page1, bytes.ReplaceAll(page1, []byte("Packages"), []byte("Packagez")))
		return ""
	}, want: `no table "Packages" in the sqlite schema`},
	{name: "sqlite table root not a table page", file: "rpmdb.sqlite", edit: func(t *testing.T, db []byte) string {
		root := sqliteRoot(t, db)
		db[sqlitePageOffset(db, root)] = 2 // an index b-tree page
		return fmt.Sprint(root)
	}, want: "sqlite page %s is not a table b-tree page (type 2)"},
	{name: "sqlite more cells than the page holds", file: "rpmdb.sqlite", edit: func(t *testing.T, db []byte) string {
		root := sqliteRoot(t, db)
		binary.BigEndian.PutUint16(db[sqlitePageOffset(db, root)+3:], 0xffff)
		return fmt.Sprint(root)
	}, want: "sqlite page %s: 65535 cells overflow the page"},
	{name: "sqlite b-tree child pointing at its parent", file: "rpmdb-512.sqlite", edit: func(t *testing.T, db []byte) string {
		root := sqliteRoot(t, db)
		off := sqlitePageOffset(db, root)
		if db[off] != sqlitePageInteriorTable {
			t.Fatalf("root page %d is not interior", root)
		}
		binary.BigEndian.PutUint32(db[off+8:], root) // right-most child
		return fmt.Sprint(root)
	}, want: "sqlite b-tree loops at page %s", pkgs: 39}, // each leaf holds one of the 40 rows
	{name: "sqlite overflow chain to page 0", file: "rpmdb-512.sqlite", edit: func(t *testing.T, db []byte) string {
		binary.BigEndian.PutUint32(db[sqliteFirstOverflowPointer(t, db):], 0)
		return fmt.Sprint(len(db) / 512)
	}, want: "sqlite page 0 outside 1..%s"}, // the walk ends at the damaged cell of the first leaf: no rows

	{name: "ndb of another version", file: "ndb", edit: func(_ *testing.T, db []byte) string {
		binary.LittleEndian.PutUint32(db[4:], 7)
		return ""
	}, want: "NDB version 7", wantIs: ErrUnsupportedRPMDB},
	{name: "ndb without slot pages", file: "ndb", edit: func(_ *testing.T, db []byte) string {
		binary.LittleEndian.PutUint32(db[12:], 0)
		return fmt.Sprint(len(db))
	}, want: "ndb claims 0 slot pages in %s bytes"},
	{name: "ndb slot with a bad magic", file: "ndb", edit: func(_ *testing.T, db []byte) string {
		copy(db[ndbHeaderLen:], "Slop")
		return ""
	}, want: "ndb slot 0 has a bad magic"},
	{name: "ndb blob beyond the end of the file", file: "ndb", edit: func(_ *testing.T, db []byte) string {
		binary.LittleEndian.PutUint32(db[ndbHeaderLen+ndbSlotLen+12:], 1<<24) // second slot's block count
		return ""
	}, want: "ndb package 2: blob outside the file", pkgs: 1},
}

// TestParseRPMDBDamaged breaks each part of each database format the way a
// damaged or hostile image could, and requires the error that names the
// damage: the reader must stop at it, and say what it found.
func TestParseRPMDBDamaged(t *testing.T) {
	for _, d := range rpmDamages {
		t.Run(d.name, func(t *testing.T) {
			db := rpmDatabase(t, d.file)
			want := strings.ReplaceAll(d.want, "%s", d.edit(t, db))
			pkgs, err := ParseRPMDB(bytes.NewReader(db), "p")
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("error %v, want one containing %q", err, want)
			}
			if d.wantIs != nil && !errors.Is(err, d.wantIs) {
				t.Errorf("error %v is not %v", err, d.wantIs)
			}
			if len(pkgs) != d.pkgs {
				t.Errorf("%d packages read past the damage, want %d", len(pkgs), d.pkgs)
			}
			checkPackages(t, pkgs, RPM)
		})
	}
}

// TestParseRPMDBTruncated cuts every database at many lengths: the result
// is an error, or (when only pages the Packages table does not use were
// cut) every package. Losing packages without saying so is the failure.
func TestParseRPMDBTruncated(t *testing.T) {
	for _, name := range []string{"rpmdb.sqlite", "rpmdb-512.sqlite", "Packages-le512", "Packages-be512", "Packages-le4096", "ndb"} {
		orig := rpmDatabase(t, name)
		all, err := ParseRPMDB(bytes.NewReader(orig), "p")
		if err != nil || len(all) == 0 {
			t.Fatalf("%s: %d packages, %v", name, len(all), err)
		}
		errorsSeen := 0
		for cut := 0; cut < len(orig); cut += len(orig)/300 + 1 {
			pkgs, err := ParseRPMDB(bytes.NewReader(orig[:cut]), "p")
			switch {
			case cut < 16 && (err == nil || !strings.Contains(err.Error(), "rpm database too short")):
				t.Errorf("%s cut at %d: error %v, want \"rpm database too short\"", name, cut, err)
			case err == nil && len(pkgs) != len(all):
				t.Errorf("%s cut at %d: %d of %d packages and no error", name, cut, len(pkgs), len(all))
			case err != nil:
				errorsSeen++
			}
		}
		if errorsSeen == 0 {
			t.Errorf("%s: no cut gave an error", name)
		}
	}
}

// TestParseRPMDBFlippedBytes overwrites bytes all over each database: any
// result is allowed except a panic, a hang, or one checkRPMBlobs refuses.
func TestParseRPMDBFlippedBytes(t *testing.T) {
	for _, name := range []string{"rpmdb.sqlite", "rpmdb-512.sqlite", "Packages-le512", "Packages-be512", "Packages-le4096", "ndb"} {
		orig := rpmDatabase(t, name)
		for off := 0; off < len(orig); off += len(orig)/700 + 1 {
			for _, b := range []byte{0x00, 0xff, 0x7f} {
				data := bytes.Clone(orig)
				data[off] = b
				checkRPMBlobs(t, data)
			}
		}
	}
}

func rpmDatabase(t *testing.T, name string) []byte {
	t.Helper()
	if name == "ndb" {
		return testNDB(t)
	}
	return readRPMTestdata(t, name)
}

// bdbFirstOffPage finds the first data item stored off-page: its offset in
// db and the number of its first overflow page.
func bdbFirstOffPage(t *testing.T, db []byte, order binary.ByteOrder) (int, uint32) {
	t.Helper()
	off, found := bdbFirstItem(t, db, order, bdbItemOffPage)
	if !found {
		t.Fatal("no off-page item in the database")
	}
	return off, order.Uint32(db[off+4:])
}

// bdbFirstItem returns the offset of the first data item of type typ on a
// hash page (for on-page values, one long enough to be a header), using the
// reader's own page walk.
func bdbFirstItem(t *testing.T, db []byte, order binary.ByteOrder, typ byte) (int, bool) {
	t.Helper()
	f, err := openBDB(bytes.NewReader(db), int64(len(db)), order)
	if err != nil {
		return 0, false
	}
	for pg := uint32(1); pg <= f.lastPage; pg++ {
		page, err := f.page(pg)
		if err != nil {
			return 0, false
		}
		if page[25] != bdbPageHash {
			continue
		}
		for i := 1; i < int(order.Uint16(page[20:])); i += 2 {
			start, end := f.itemBounds(page, i)
			if start >= end || end > len(page) || page[start] != typ {
				continue
			}
			if typ == bdbItemOffPage || end-start > minRPMHeaderLen {
				return int(pg)*int(f.pageSize) + start, true
			}
		}
	}
	return 0, false
}

// sqliteRoot is the root page of the Packages table.
func sqliteRoot(t *testing.T, db []byte) uint32 {
	t.Helper()
	f, err := openSQLite(bytes.NewReader(db), int64(len(db)))
	if err != nil {
		t.Fatal(err)
	}
	root, err := f.tableRoot("Packages")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// sqlitePageOffset is where page n's b-tree header is in db.
func sqlitePageOffset(db []byte, n uint32) int {
	off := int(n-1) * int(binary.BigEndian.Uint16(db[16:]))
	if n == 1 {
		off += 100
	}
	return off
}

// sqliteFirstOverflowPointer follows the Packages table's left-most path to
// its first leaf and returns where the first cell's overflow page number is.
func sqliteFirstOverflowPointer(t *testing.T, db []byte) int {
	t.Helper()
	f, err := openSQLite(bytes.NewReader(db), int64(len(db)))
	if err != nil {
		t.Fatal(err)
	}
	pg := sqliteRoot(t, db)
	for db[sqlitePageOffset(db, pg)] == sqlitePageInteriorTable {
		h := sqlitePageOffset(db, pg)
		cell := int(binary.BigEndian.Uint16(db[h+12:]))
		pg = binary.BigEndian.Uint32(db[int(pg-1)*f.pageSize+cell:])
	}
	h := sqlitePageOffset(db, pg)
	page := int(pg-1) * f.pageSize
	cell := page + int(binary.BigEndian.Uint16(db[h+8:]))
	size, n1 := sqliteVarint(db[cell:])
	_, n2 := sqliteVarint(db[cell+n1:])
	local := f.localSize(int(size))
	if local == int(size) {
		t.Fatalf("the first cell of page %d does not overflow", pg)
	}
	return cell + n1 + n2 + local
}
