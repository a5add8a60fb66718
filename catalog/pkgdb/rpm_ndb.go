package pkgdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// rpm's NDB backend (SUSE's Packages.db, rpm's lib/backend/ndb/rpmpkg.c):
// a 32-byte header, then slot pages of 16-byte slots (magic, package index,
// block offset, block count), and blobs addressed in 16-byte blocks, each
// with a 16-byte head (magic, package index, generation, length) before the
// header blob. All little-endian.
const (
	ndbHeaderLen     = 32
	ndbSlotPageSize  = 4096
	ndbSlotLen       = 16
	ndbBlockLen      = 16
	ndbBlobHeadLen   = 16
	ndbMaxSlotPages  = 2048 // rpm's own sanity bound
	ndbSlotMagic     = "Slot"
	ndbBlobMagic     = "BlbS"
	ndbHeaderVersion = 0
)

// ndbValues returns the header blob of every used slot.
func ndbValues(r io.ReaderAt, size int64) ([][]byte, error) {
	var hdr [ndbHeaderLen]byte
	if _, err := r.ReadAt(hdr[:], 0); err != nil {
		return nil, fmt.Errorf("ndb header: %w", err)
	}
	if v := binary.LittleEndian.Uint32(hdr[4:]); v != ndbHeaderVersion {
		return nil, fmt.Errorf("%w: NDB version %d", ErrUnsupportedRPMDB, v)
	}
	pages := binary.LittleEndian.Uint32(hdr[12:])
	if pages == 0 || pages > ndbMaxSlotPages || int64(pages)*ndbSlotPageSize > size {
		return nil, fmt.Errorf("ndb claims %d slot pages in %d bytes", pages, size)
	}
	slots := make([]byte, int(pages)*ndbSlotPageSize-ndbHeaderLen)
	if _, err := r.ReadAt(slots, ndbHeaderLen); err != nil {
		return nil, fmt.Errorf("ndb slots: %w", err)
	}
	var blobs [][]byte
	var errs []error
	for off := 0; off+ndbSlotLen <= len(slots); off += ndbSlotLen {
		s := slots[off : off+ndbSlotLen]
		if string(s[:4]) != ndbSlotMagic {
			return blobs, fmt.Errorf("ndb slot %d has a bad magic", off/ndbSlotLen)
		}
		pkgIdx := binary.LittleEndian.Uint32(s[4:])
		if pkgIdx == 0 {
			continue // free slot
		}
		blob, err := ndbBlob(r, size, pkgIdx, binary.LittleEndian.Uint32(s[8:]), binary.LittleEndian.Uint32(s[12:]))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		blobs = append(blobs, blob)
	}
	return blobs, errors.Join(errs...)
}

// ndbBlob reads one blob and checks it against its slot: same package
// index, and a length that fits the blocks the slot reserves.
func ndbBlob(r io.ReaderAt, size int64, pkgIdx, blkOff, blkCnt uint32) ([]byte, error) {
	start, room := int64(blkOff)*ndbBlockLen, int64(blkCnt)*ndbBlockLen
	if start+room > size || room < ndbBlobHeadLen {
		return nil, fmt.Errorf("ndb package %d: blob outside the file", pkgIdx)
	}
	var head [ndbBlobHeadLen]byte
	if _, err := r.ReadAt(head[:], start); err != nil {
		return nil, fmt.Errorf("ndb package %d: %w", pkgIdx, err)
	}
	n := int64(binary.LittleEndian.Uint32(head[12:]))
	if string(head[:4]) != ndbBlobMagic || binary.LittleEndian.Uint32(head[4:]) != pkgIdx || n > room-ndbBlobHeadLen {
		return nil, fmt.Errorf("ndb package %d: corrupt blob head", pkgIdx)
	}
	blob := make([]byte, n)
	if _, err := r.ReadAt(blob, start+ndbBlobHeadLen); err != nil {
		return nil, fmt.Errorf("ndb package %d: %w", pkgIdx, err)
	}
	return blob, nil
}
