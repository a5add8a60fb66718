package squashfs

import (
	"fmt"
	"io/fs"
	"time"
)

// Inode types; the extended forms (type+7) carry wider fields.
const (
	typeDir     = 1
	typeFile    = 2
	typeSymlink = 3
	typeBlock   = 4
	typeChar    = 5
	typeFifo    = 6
	typeSocket  = 7
	extended    = 7
)

// maxSymlinkTarget is PATH_MAX: a longer target is not one Linux could use.
const maxSymlinkTarget = 4096

// inode is the part of an on-disk inode that reading needs.
type inode struct {
	typ   uint16 // one of the basic types
	perm  uint16
	mtime uint32

	// Directories: where the listing starts in the directory table, and
	// its size as stored (3 more than the listing).
	dirBlock  uint32
	dirOffset uint16
	dirSize   uint32

	// Regular files: data blocks from blocksStart, their stored sizes,
	// and the tail in a fragment unless frag is noFragment.
	size        uint64
	blocksStart uint64
	blockSizes  []uint32
	frag        uint32
	fragOffset  uint32

	target string // symlinks
}

// inodeHeader is common to all inode types.
type inodeHeader struct {
	Type, Perm, UID, GID uint16
	MTime, Number        uint32
}

// inode decodes the inode a reference points at: the metadata block's
// offset from the inode table in the upper bits, the offset inside the
// decompressed block in the low 16. Callers hold f.mu.
func (f *FS) inode(ref uint64) (*inode, error) {
	block, off := ref>>16, int(ref&0xFFFF)
	if block > f.sb.BytesUsed-f.sb.InodeTable || off >= metaBlockSize {
		return nil, fmt.Errorf("%w: inode reference %#x outside the inode table", ErrCorrupt, ref)
	}
	m, err := f.metaAt(f.sb.InodeTable+block, off)
	if err != nil {
		return nil, err
	}
	var h inodeHeader
	if err := m.read(&h); err != nil {
		return nil, fmt.Errorf("inode %#x: %w", ref, err)
	}
	ino := &inode{perm: h.Perm, mtime: h.MTime}
	if err := f.readInodeBody(m, h.Type, ino); err != nil {
		return nil, fmt.Errorf("inode %#x: %w", ref, err)
	}
	return ino, nil
}

func (f *FS) readInodeBody(m *metaReader, typ uint16, ino *inode) error {
	if typ < typeDir || typ > typeSocket+extended {
		return fmt.Errorf("%w: inode type %d", ErrCorrupt, typ)
	}
	ino.typ = typ
	if typ > extended {
		ino.typ = typ - extended
	}
	switch typ {
	case typeDir:
		return readDir(m, ino)
	case typeDir + extended:
		return readExtDir(m, ino)
	case typeFile:
		return f.readFile(m, ino)
	case typeFile + extended:
		return f.readExtFile(m, ino)
	case typeSymlink, typeSymlink + extended:
		return readSymlink(m, ino)
	}
	return nil // devices, fifos and sockets: the header says all we use
}

func readDir(m *metaReader, ino *inode) error {
	var block, nlink, parent uint32
	var size, off uint16
	if err := m.read(&block, &nlink, &size, &off, &parent); err != nil {
		return err
	}
	ino.dirBlock, ino.dirSize, ino.dirOffset = block, uint32(size), off
	return nil
}

func readExtDir(m *metaReader, ino *inode) error {
	var nlink, size, block, parent uint32
	var nindex, off uint16
	if err := m.read(&nlink, &size, &block, &parent, &nindex, &off); err != nil {
		return err
	}
	ino.dirBlock, ino.dirSize, ino.dirOffset = block, size, off
	return nil
}

func (f *FS) readFile(m *metaReader, ino *inode) error {
	var start, frag, fragOff, size uint32
	if err := m.read(&start, &frag, &fragOff, &size); err != nil {
		return err
	}
	ino.blocksStart, ino.frag, ino.fragOffset, ino.size = uint64(start), frag, fragOff, uint64(size)
	return f.readBlockSizes(m, ino)
}

func (f *FS) readExtFile(m *metaReader, ino *inode) error {
	var start, size, sparse uint64
	var nlink, frag, fragOff, xattr uint32
	if err := m.read(&start, &size, &sparse, &nlink, &frag, &fragOff, &xattr); err != nil {
		return err
	}
	ino.blocksStart, ino.frag, ino.fragOffset, ino.size = start, frag, fragOff, size
	return f.readBlockSizes(m, ino)
}

// readBlockSizes reads the list of stored block sizes, one per full block
// (and one for the tail when it has no fragment). It is skipped for files
// over the size limit, which are never read, so that a forged size cannot
// make the list's allocation large.
func (f *FS) readBlockSizes(m *metaReader, ino *inode) error {
	if ino.frag != noFragment && f.sb.Flags&flagNoFragments != 0 {
		return fmt.Errorf("%w: fragment in a filesystem without fragments", ErrCorrupt)
	}
	if ino.size > uint64(f.limits.FileBytes()) {
		return nil
	}
	bs := uint64(f.sb.BlockSize)
	n := ino.size / bs
	if ino.frag == noFragment && ino.size%bs != 0 {
		n++
	}
	ino.blockSizes = make([]uint32, n)
	return m.read(ino.blockSizes)
}

func readSymlink(m *metaReader, ino *inode) error {
	var nlink, size uint32
	if err := m.read(&nlink, &size); err != nil {
		return err
	}
	if size == 0 || size > maxSymlinkTarget {
		return fmt.Errorf("%w: symlink target of %d bytes", ErrCorrupt, size)
	}
	b := make([]byte, size)
	if err := m.read(b); err != nil {
		return err
	}
	ino.target = string(b)
	return nil
}

// mode converts the type and permission bits to an fs.FileMode.
func (ino *inode) mode() fs.FileMode {
	m := fs.FileMode(ino.perm & 0o777)
	for bit, fm := range map[uint16]fs.FileMode{0o4000: fs.ModeSetuid, 0o2000: fs.ModeSetgid, 0o1000: fs.ModeSticky} {
		if ino.perm&bit != 0 {
			m |= fm
		}
	}
	return m | typeMode(ino.typ)
}

func typeMode(typ uint16) fs.FileMode {
	switch typ {
	case typeDir:
		return fs.ModeDir
	case typeSymlink:
		return fs.ModeSymlink
	case typeBlock:
		return fs.ModeDevice
	case typeChar:
		return fs.ModeDevice | fs.ModeCharDevice
	case typeFifo:
		return fs.ModeNamedPipe
	case typeSocket:
		return fs.ModeSocket
	}
	return 0
}

func (ino *inode) modTime() time.Time { return time.Unix(int64(ino.mtime), 0) }
