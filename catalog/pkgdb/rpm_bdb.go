package pkgdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Berkeley DB hash database layout (libdb's db_page.h), as far as rpm's
// Packages file needs it. Metadata and page headers are in the byte order of
// the machine that wrote the file, so both orders are read.
const (
	bdbHashMagic     = 0x061561
	bdbPageHeaderLen = 26
	bdbPageHashOld   = 2  // P_HASH_UNSORTED (RHEL 5)
	bdbPageOverflow  = 7  // P_OVERFLOW
	bdbPageHash      = 13 // P_HASH
	bdbItemKeyData   = 1  // H_KEYDATA: value stored on the page
	bdbItemOffPage   = 3  // H_OFFPAGE: value in a chain of overflow pages
	bdbOffPageLen    = 12
	minRPMHeaderLen  = 24 // preamble and one index entry
)

// bdbFile reads pages of one database.
type bdbFile struct {
	r        io.ReaderAt
	order    binary.ByteOrder
	pageSize uint32
	lastPage uint32
}

// bdbValues returns every data item of a hash database: rpm's header blobs.
// Items too short to be a header (rpm keeps a 4-byte counter under key 0)
// are skipped.
func bdbValues(r io.ReaderAt, size int64, order binary.ByteOrder) ([][]byte, error) {
	db, err := openBDB(r, size, order)
	if err != nil {
		return nil, err
	}
	var values [][]byte
	var errs []error
	for pg := uint32(1); pg <= db.lastPage; pg++ {
		page, err := db.page(pg)
		if err != nil {
			return values, err
		}
		if t := page[25]; t != bdbPageHash && t != bdbPageHashOld {
			continue
		}
		vs, err := db.pageValues(page)
		values = append(values, vs...)
		if err != nil {
			errs = append(errs, fmt.Errorf("page %d: %w", pg, err))
		}
	}
	return values, errors.Join(errs...)
}

func openBDB(r io.ReaderAt, size int64, order binary.ByteOrder) (*bdbFile, error) {
	var meta [36]byte
	if _, err := r.ReadAt(meta[:], 0); err != nil {
		return nil, fmt.Errorf("berkeley db metadata: %w", err)
	}
	db := &bdbFile{r: r, order: order, pageSize: order.Uint32(meta[20:]), lastPage: order.Uint32(meta[32:])}
	if db.pageSize < 512 || db.pageSize > 65536 || db.pageSize&(db.pageSize-1) != 0 {
		return nil, fmt.Errorf("berkeley db page size %d is not a power of two in 512..65536", db.pageSize)
	}
	if int64(db.lastPage) >= size/int64(db.pageSize) {
		return nil, fmt.Errorf("berkeley db claims %d pages in %d bytes", db.lastPage+1, size)
	}
	return db, nil
}

func (db *bdbFile) page(n uint32) ([]byte, error) {
	if n > db.lastPage {
		return nil, fmt.Errorf("page %d beyond the last page %d", n, db.lastPage)
	}
	p := make([]byte, db.pageSize)
	if _, err := db.r.ReadAt(p, int64(n)*int64(db.pageSize)); err != nil {
		return nil, fmt.Errorf("page %d: %w", n, err)
	}
	return p, nil
}

// pageValues reads the data items of a hash page: the index holds key and
// data item offsets in pairs; items grow down from the page end, so item i
// ends where item i-1 starts.
func (db *bdbFile) pageValues(page []byte) ([][]byte, error) {
	n := int(db.order.Uint16(page[20:]))
	if bdbPageHeaderLen+2*n > len(page) {
		return nil, fmt.Errorf("%d index entries overflow the page", n)
	}
	var values [][]byte
	for i := 1; i < n; i += 2 {
		start, end := db.itemBounds(page, i)
		if start < bdbPageHeaderLen+2*n || start >= end || end > len(page) {
			return values, fmt.Errorf("item %d out of the page", i)
		}
		v, err := db.itemValue(page[start:end])
		if err != nil {
			return values, err
		}
		if len(v) >= minRPMHeaderLen {
			values = append(values, v)
		}
	}
	return values, nil
}

func (db *bdbFile) itemBounds(page []byte, i int) (start, end int) {
	start = int(db.order.Uint16(page[bdbPageHeaderLen+2*i:]))
	end = int(db.pageSize)
	if i > 0 {
		end = int(db.order.Uint16(page[bdbPageHeaderLen+2*(i-1):]))
	}
	return start, end
}

func (db *bdbFile) itemValue(item []byte) ([]byte, error) {
	switch item[0] {
	case bdbItemKeyData:
		return item[1:], nil
	case bdbItemOffPage:
		if len(item) < bdbOffPageLen {
			return nil, errors.New("truncated off-page item")
		}
		return db.overflow(db.order.Uint32(item[4:]), db.order.Uint32(item[8:]))
	}
	return nil, nil // duplicates: rpm does not use them
}

// overflow follows a chain of overflow pages for a value of total length
// tlen. Each page holds at most pageSize-26 bytes, so a chain longer than
// tlen needs, or than the file has pages, is corrupt (or a loop).
func (db *bdbFile) overflow(first, tlen uint32) ([]byte, error) {
	if int64(tlen) > MaxDatabaseBytes || tlen > (db.lastPage+1)*db.pageSize {
		return nil, fmt.Errorf("off-page item claims %d bytes", tlen)
	}
	value := make([]byte, 0, tlen)
	for pg, hops := first, uint32(0); pg != 0; hops++ {
		if hops > db.lastPage {
			return nil, errors.New("overflow chain loops")
		}
		page, err := db.page(pg)
		if err != nil {
			return nil, err
		}
		used := int(db.order.Uint16(page[22:]))
		if page[25] != bdbPageOverflow || bdbPageHeaderLen+used > len(page) || len(value)+used > int(tlen) {
			return nil, fmt.Errorf("overflow page %d is corrupt", pg)
		}
		value = append(value, page[bdbPageHeaderLen:bdbPageHeaderLen+used]...)
		pg = db.order.Uint32(page[16:])
	}
	if len(value) != int(tlen) {
		return nil, fmt.Errorf("off-page item has %d of %d bytes", len(value), tlen)
	}
	return value, nil
}
