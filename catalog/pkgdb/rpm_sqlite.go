package pkgdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// A read-only walker for the one SQLite shape rpm uses: a rowid table
// Packages(hnum INTEGER PRIMARY KEY, blob BLOB). It follows the documented
// file format (sqlite.org/fileformat2.html) instead of linking a SQLite
// engine: rpmdb.sqlite arrives inside untrusted layers, a full engine is a
// large dependency for one table scan, and this reader needs no file path.
// Content still in a -wal file is not seen; rpm checkpoints on exit, so an
// image's database is complete without it.

const (
	sqlitePageInteriorTable = 5
	sqlitePageLeafTable     = 13
	sqliteMaxDepth          = 32 // a b-tree of 65536-byte pages is never deeper than ~5
)

type sqliteFile struct {
	r        io.ReaderAt
	pageSize int
	usable   int
	pages    uint32
}

// sqliteTableBlobs returns the first BLOB column of every row of table.
func sqliteTableBlobs(r io.ReaderAt, size int64, table string) ([][]byte, error) {
	db, err := openSQLite(r, size)
	if err != nil {
		return nil, err
	}
	root, err := db.tableRoot(table)
	if err != nil {
		return nil, err
	}
	var blobs [][]byte
	err = db.walkTable(root, func(rec []sqliteValue) {
		for _, v := range rec {
			if v.blob {
				blobs = append(blobs, v.data)
				return
			}
		}
	})
	return blobs, err
}

func openSQLite(r io.ReaderAt, size int64) (*sqliteFile, error) {
	var hdr [100]byte
	if _, err := r.ReadAt(hdr[:], 0); err != nil {
		return nil, fmt.Errorf("sqlite header: %w", err)
	}
	ps := int(binary.BigEndian.Uint16(hdr[16:]))
	if ps == 1 {
		ps = 65536
	}
	if ps < 512 || ps&(ps-1) != 0 {
		return nil, fmt.Errorf("sqlite page size %d is invalid", ps)
	}
	db := &sqliteFile{r: r, pageSize: ps, usable: ps - int(hdr[20]), pages: uint32(size / int64(ps))}
	if db.usable < 480 {
		return nil, fmt.Errorf("sqlite usable page size %d is invalid", db.usable)
	}
	return db, nil
}

func (db *sqliteFile) page(n uint32) ([]byte, error) {
	if n == 0 || n > db.pages {
		return nil, fmt.Errorf("sqlite page %d outside 1..%d", n, db.pages)
	}
	p := make([]byte, db.pageSize)
	if _, err := db.r.ReadAt(p, int64(n-1)*int64(db.pageSize)); err != nil {
		return nil, fmt.Errorf("sqlite page %d: %w", n, err)
	}
	return p, nil
}

// tableRoot looks the table up in the schema table, rooted at page 1.
func (db *sqliteFile) tableRoot(table string) (uint32, error) {
	var root int64
	err := db.walkTable(1, func(rec []sqliteValue) {
		if len(rec) >= 4 && string(rec[0].data) == "table" && string(rec[1].data) == table {
			root = rec[3].int
		}
	})
	if err != nil {
		return 0, err
	}
	if root <= 0 || root > int64(db.pages) {
		return 0, fmt.Errorf("no table %q in the sqlite schema", table)
	}
	return uint32(root), nil
}

// walkTable visits the records of a table b-tree depth first. Visited pages
// are remembered so that a corrupt tree with a cycle ends with an error.
func (db *sqliteFile) walkTable(root uint32, visit func([]sqliteValue)) error {
	seen := map[uint32]bool{}
	var walk func(pg uint32, depth int) error
	walk = func(pg uint32, depth int) error {
		if depth > sqliteMaxDepth || seen[pg] {
			return fmt.Errorf("sqlite b-tree loops at page %d", pg)
		}
		seen[pg] = true
		page, err := db.page(pg)
		if err != nil {
			return err
		}
		children, records, err := db.btreePage(page, pg)
		for _, rec := range records {
			visit(rec)
		}
		for _, c := range children {
			if err := walk(c, depth+1); err != nil {
				return err
			}
		}
		return err
	}
	return walk(root, 0)
}

// btreePage returns the child pages of an interior table page, or the
// records of a leaf table page.
func (db *sqliteFile) btreePage(page []byte, pg uint32) (children []uint32, records [][]sqliteValue, err error) {
	h := 0
	if pg == 1 {
		h = 100 // the file header precedes page 1's b-tree header
	}
	typ, cells := page[h], int(binary.BigEndian.Uint16(page[h+3:]))
	hdrLen := 8
	if typ == sqlitePageInteriorTable {
		hdrLen = 12
	} else if typ != sqlitePageLeafTable {
		return nil, nil, fmt.Errorf("sqlite page %d is not a table b-tree page (type %d)", pg, typ)
	}
	if h+hdrLen+2*cells > len(page) {
		return nil, nil, fmt.Errorf("sqlite page %d: %d cells overflow the page", pg, cells)
	}
	for i := 0; i < cells; i++ {
		off := int(binary.BigEndian.Uint16(page[h+hdrLen+2*i:]))
		if off+4 > db.usable {
			return children, records, fmt.Errorf("sqlite page %d: cell %d out of the page", pg, i)
		}
		if typ == sqlitePageInteriorTable {
			children = append(children, binary.BigEndian.Uint32(page[off:]))
			continue
		}
		rec, err := db.leafRecord(page[:db.usable], off)
		if err != nil {
			return children, records, fmt.Errorf("sqlite page %d cell %d: %w", pg, i, err)
		}
		records = append(records, rec)
	}
	if typ == sqlitePageInteriorTable {
		children = append(children, binary.BigEndian.Uint32(page[h+8:]))
	}
	return children, records, nil
}

// leafRecord reads a leaf cell: payload size, rowid, the local part of the
// payload and, if it spilled, the first overflow page.
func (db *sqliteFile) leafRecord(page []byte, off int) ([]sqliteValue, error) {
	size, n1 := sqliteVarint(page[off:])
	_, n2 := sqliteVarint(page[off+n1:])
	// A payload cannot be larger than the file's pages could hold; checking
	// that before allocating keeps a lying cell from costing memory.
	if n1 == 0 || n2 == 0 || size > uint64(db.pages)*uint64(db.usable) {
		return nil, errors.New("bad cell header")
	}
	start := off + n1 + n2
	local := db.localSize(int(size))
	if start+local > len(page) || (local < int(size) && start+local+4 > len(page)) {
		return nil, errors.New("cell overflows the page")
	}
	payload := make([]byte, 0, size)
	payload = append(payload, page[start:start+local]...)
	if local < int(size) {
		var err error
		if payload, err = db.overflow(payload, int(size), binary.BigEndian.Uint32(page[start+local:])); err != nil {
			return nil, err
		}
	}
	return parseSQLiteRecord(payload)
}

// localSize is how much of a payload of size p is stored on a leaf page.
func (db *sqliteFile) localSize(p int) int {
	u := db.usable
	x := u - 35
	if p <= x {
		return p
	}
	m := ((u-12)*32)/255 - 23
	if k := m + (p-m)%(u-4); k <= x {
		return k
	}
	return m
}

func (db *sqliteFile) overflow(payload []byte, size int, pg uint32) ([]byte, error) {
	for hops := uint32(0); len(payload) < size; hops++ {
		if hops > db.pages {
			return nil, errors.New("overflow chain loops")
		}
		page, err := db.page(pg)
		if err != nil {
			return nil, err
		}
		chunk := min(size-len(payload), db.usable-4)
		payload = append(payload, page[4:4+chunk]...)
		pg = binary.BigEndian.Uint32(page)
	}
	return payload, nil
}

// sqliteValue is one column of a record: an integer, or text/blob bytes.
type sqliteValue struct {
	int  int64
	data []byte
	blob bool
}

// parseSQLiteRecord decodes the record format: a header of serial types,
// then the values in order.
func parseSQLiteRecord(p []byte) ([]sqliteValue, error) {
	hdrLen, n := sqliteVarint(p)
	if n == 0 || hdrLen > uint64(len(p)) {
		return nil, errors.New("bad record header")
	}
	var rec []sqliteValue
	body := int(hdrLen)
	for pos := n; pos < int(hdrLen); {
		t, k := sqliteVarint(p[pos:hdrLen])
		if k == 0 {
			return nil, errors.New("bad serial type")
		}
		pos += k
		v, size, err := sqliteColumn(t, p[body:])
		if err != nil {
			return nil, err
		}
		rec = append(rec, v)
		body += size
	}
	return rec, nil
}

var sqliteIntSizes = [...]int{0, 1, 2, 3, 4, 6, 8, 8}

func sqliteColumn(t uint64, b []byte) (sqliteValue, int, error) {
	switch {
	case t >= 12:
		size := int((t - 12) / 2)
		if t > uint64(2*len(b)+13) || size > len(b) {
			return sqliteValue{}, 0, errors.New("column overflows the record")
		}
		return sqliteValue{data: b[:size], blob: t%2 == 0}, size, nil
	case t == 8 || t == 9:
		return sqliteValue{int: int64(t - 8)}, 0, nil
	case t >= 10:
		return sqliteValue{}, 0, fmt.Errorf("reserved serial type %d", t)
	}
	size := sqliteIntSizes[t]
	if size > len(b) {
		return sqliteValue{}, 0, errors.New("column overflows the record")
	}
	var v int64
	for i := 0; i < size && t < 7; i++ {
		v = v<<8 | int64(b[i])
	}
	if size > 0 && t < 7 && b[0]&0x80 != 0 {
		v -= 1 << (8 * size) // two's complement of a short integer
	}
	return sqliteValue{int: v}, size, nil
}

// sqliteVarint decodes SQLite's big-endian varint (1 to 9 bytes, the ninth
// contributing all 8 bits); n is 0 if b ends first.
func sqliteVarint(b []byte) (v uint64, n int) {
	for i := 0; i < 9 && i < len(b); i++ {
		if i == 8 {
			return v<<8 | uint64(b[i]), 9
		}
		v = v<<7 | uint64(b[i]&0x7f)
		if b[i] < 0x80 {
			return v, i + 1
		}
	}
	return 0, 0
}
