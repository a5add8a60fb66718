// Package squashfs reads squashfs 4.0 filesystems, the format of a SIF
// file's system partition, as an io/fs.FS.
//
// It is written for input from anyone who can push an image: every offset,
// size and count read from the image is checked before it is used, each
// decompression is bounded by the size the format allows for that block,
// and what a whole walk may cost is capped by oci.Limits (bytes
// decompressed, directory entries decoded, size of a file opened). Broken
// input yields an error wrapping ErrCorrupt, never a panic. Existing Go
// readers decompress with io.ReadAll into unbounded buffers and decode in
// goroutines where a panic cannot be recovered, hence this one.
//
// Only what reading needs is decoded: no xattrs, owners or export table.
// gzip, xz, lz4 and zstd compression are supported; lzo and legacy lzma are
// reported as ErrUnsupported.
package squashfs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"sync"

	"github.com/oyster-registry/oyster/oci"
)

var (
	// ErrNotSquashfs is returned by New for data without the squashfs magic.
	ErrNotSquashfs = errors.New("not a squashfs filesystem")
	// ErrCorrupt marks a filesystem whose structures contradict each other
	// or point outside the image.
	ErrCorrupt = errors.New("corrupt squashfs")
	// ErrUnsupported marks a valid filesystem this reader cannot decode.
	ErrUnsupported = errors.New("unsupported squashfs")
)

const (
	superblockSize = 96
	magic          = 0x73717368 // "hsqs"
	// metaBlockSize is the most a metadata block holds once decompressed.
	metaBlockSize = 8192
	// minBlockSize and maxBlockSize are the data block sizes mksquashfs
	// accepts.
	minBlockSize = 4 << 10
	maxBlockSize = 1 << 20
	noFragment   = 0xFFFFFFFF
	// flagNoFragments means the filesystem was made with -no-fragments.
	flagNoFragments = 0x0010
)

// superblock is the on-disk header at offset 0, little endian.
type superblock struct {
	Magic, InodeCount, ModTime, BlockSize, FragCount      uint32
	Compressor, BlockLog, Flags, IDCount, VMajor, VMinor  uint16
	RootInode, BytesUsed, IDTable, XattrTable, InodeTable uint64
	DirTable, FragTable, ExportTable                      uint64
}

// FS is a read-only squashfs filesystem. Its methods are safe for
// concurrent use, though they serialise on one lock: it is made for one
// walk at a time.
type FS struct {
	r      io.ReaderAt
	sb     superblock
	dec    decompressor
	limits oci.Limits
	root   *inode

	mu       sync.Mutex
	budget   budget
	meta     *fifoCache[int64, metaBlock]
	frags    *fifoCache[uint32, []byte]
	listings *fifoCache[uint64, []dirent]
}

// New reads the superblock and root directory of the squashfs image held in
// the first size bytes of r. limits.MaxLayerBytes caps the bytes
// decompressed over the FS's life, MaxEntries the directory entries
// decoded, and MaxFileBytes the size of a file Open will read; exceeding
// one yields a *oci.LimitError, from then on for every call.
func New(r io.ReaderAt, size int64, limits oci.Limits) (*FS, error) {
	f := &FS{
		r:        io.NewSectionReader(r, 0, size),
		limits:   limits,
		budget:   newBudget(limits),
		meta:     newFIFOCache[int64, metaBlock](256),
		frags:    newFIFOCache[uint32, []byte](4),
		listings: newFIFOCache[uint64, []dirent](32),
	}
	if err := f.readSuperblock(size); err != nil {
		return nil, err
	}
	root, err := f.inode(f.sb.RootInode)
	if err != nil {
		return nil, fmt.Errorf("root inode: %w", err)
	}
	if root.typ != typeDir {
		return nil, fmt.Errorf("%w: root inode is not a directory", ErrCorrupt)
	}
	f.root = root
	return f, nil
}

func (f *FS) readSuperblock(size int64) error {
	var buf [superblockSize]byte
	if _, err := f.r.ReadAt(buf[:], 0); err != nil {
		return fmt.Errorf("%w: %d bytes, too short for a superblock", ErrNotSquashfs, size)
	}
	sb := &f.sb
	_ = binary.Read(bytes.NewReader(buf[:]), binary.LittleEndian, sb) // fixed size, cannot fail
	if sb.Magic != magic {
		return ErrNotSquashfs
	}
	if sb.VMajor != 4 || sb.VMinor != 0 {
		return fmt.Errorf("%w: version %d.%d, only 4.0 is read", ErrUnsupported, sb.VMajor, sb.VMinor)
	}
	if err := sb.check(size); err != nil {
		return err
	}
	dec, err := newDecompressor(sb.Compressor, sb.BlockSize)
	if err != nil {
		return err
	}
	f.dec = dec
	return nil
}

// check validates the fields every later read depends on.
func (sb *superblock) check(size int64) error {
	bs := sb.BlockSize
	switch {
	case bs < minBlockSize || bs > maxBlockSize || bs&(bs-1) != 0 || int(sb.BlockLog) != bits.TrailingZeros32(bs):
		return fmt.Errorf("%w: block size %d, log %d", ErrCorrupt, bs, sb.BlockLog)
	case sb.BytesUsed > uint64(size) || sb.BytesUsed < superblockSize:
		return fmt.Errorf("%w: claims %d bytes, image has %d", ErrCorrupt, sb.BytesUsed, size)
	case sb.InodeTable >= sb.BytesUsed || sb.DirTable >= sb.BytesUsed || sb.InodeTable < superblockSize:
		return fmt.Errorf("%w: inode or directory table outside the image", ErrCorrupt)
	}
	return nil
}

// readAt reads exactly len(p) bytes at off, which must lie inside the
// filesystem's used bytes.
func (f *FS) readAt(p []byte, off uint64) error {
	if off > f.sb.BytesUsed || uint64(len(p)) > f.sb.BytesUsed-off {
		return fmt.Errorf("%w: %d bytes at %d lie past the end (%d)", ErrCorrupt, len(p), off, f.sb.BytesUsed)
	}
	_, err := f.r.ReadAt(p, int64(off))
	if err != nil {
		return fmt.Errorf("reading squashfs at %d: %w", off, err)
	}
	return nil
}

// budget tracks what the FS has cost so far against the limits.
type budget struct {
	bytes, entries       int64
	maxBytes, maxEntries int64
	spent                error
}

func newBudget(l oci.Limits) budget {
	return budget{
		maxBytes:   l.LayerBytes(),
		maxEntries: l.Entries(),
	}
}

// charge records decompressed bytes and decoded entries; once a limit is
// passed every later call fails the same way, so that a walk stops.
func (b *budget) charge(nbytes, entries int64) error {
	if b.spent != nil {
		return b.spent
	}
	b.bytes += nbytes
	b.entries += entries
	switch {
	case b.bytes > b.maxBytes:
		b.spent = &oci.LimitError{Limit: oci.LimitLayerBytes, Max: b.maxBytes}
	case b.entries > b.maxEntries:
		b.spent = &oci.LimitError{Limit: oci.LimitEntries, Max: b.maxEntries}
	}
	return b.spent
}
