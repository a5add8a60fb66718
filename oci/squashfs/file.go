package squashfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/oyster-registry/oyster/oci"
)

// Open opens a file or directory, following symlinks.
func (f *FS) Open(name string) (fs.File, error) {
	n, err := f.resolveLocked("open", name, true)
	if err != nil {
		return nil, err
	}
	info := fileInfo{name: base(name), ino: n.ino}
	switch n.ino.typ {
	case typeDir:
		return &dirFile{f: f, node: n, info: info}, nil
	case typeFile:
		if n.ino.size > uint64(f.limits.FileBytes()) {
			return nil, &oci.LimitError{Limit: oci.LimitFileBytes, Max: f.limits.FileBytes(), Path: name, Claimed: int64(min(n.ino.size, 1<<62))}
		}
		return &regularFile{f: f, ino: n.ino, info: info, pos: n.ino.blocksStart}, nil
	}
	return &specialFile{info: info}, nil
}

// ReadDir lists a directory sorted by name, as fs.ReadDirFS does.
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	n, err := f.resolveLocked("readdir", name, true)
	if err != nil {
		return nil, err
	}
	return f.dirEntries("readdir", name, n)
}

// Stat describes a file, following symlinks, as fs.StatFS does.
func (f *FS) Stat(name string) (fs.FileInfo, error) {
	n, err := f.resolveLocked("stat", name, true)
	if err != nil {
		return nil, err
	}
	return fileInfo{name: base(name), ino: n.ino}, nil
}

// ReadLink returns a symlink's target, as fs.ReadLinkFS does.
func (f *FS) ReadLink(name string) (string, error) {
	n, err := f.resolveLocked("readlink", name, false)
	if err != nil {
		return "", err
	}
	if n.ino.typ != typeSymlink {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	return n.ino.target, nil
}

// Lstat describes a file without following a final symlink, as
// fs.ReadLinkFS does.
func (f *FS) Lstat(name string) (fs.FileInfo, error) {
	n, err := f.resolveLocked("lstat", name, false)
	if err != nil {
		return nil, err
	}
	return fileInfo{name: base(name), ino: n.ino}, nil
}

func (f *FS) resolveLocked(op, name string, follow bool) (node, error) {
	if !fs.ValidPath(name) {
		return node{}, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := f.resolve(name, follow)
	if err != nil {
		return node{}, &fs.PathError{Op: op, Path: name, Err: err}
	}
	return n, nil
}

func (f *FS) dirEntries(op, name string, n node) ([]fs.DirEntry, error) {
	if n.ino.typ != typeDir {
		return nil, &fs.PathError{Op: op, Path: name, Err: errors.New("not a directory")}
	}
	f.mu.Lock()
	l, err := f.listing(n.ref, n.ino)
	f.mu.Unlock()
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	out := make([]fs.DirEntry, len(l))
	for i, e := range l {
		out[i] = dirEntry{f: f, e: e}
	}
	return out, nil
}

// fileInfo describes an inode under the name it was reached by.
type fileInfo struct {
	name string
	ino  *inode
}

func (i fileInfo) Name() string       { return i.name }
func (i fileInfo) Mode() fs.FileMode  { return i.ino.mode() }
func (i fileInfo) ModTime() time.Time { return i.ino.modTime() }
func (i fileInfo) IsDir() bool        { return i.ino.typ == typeDir }
func (i fileInfo) Sys() any           { return nil }

func (i fileInfo) Size() int64 {
	switch i.ino.typ {
	case typeFile:
		return int64(min(i.ino.size, 1<<62))
	case typeSymlink:
		return int64(len(i.ino.target))
	}
	return 0
}

// dirEntry is a listing entry; its inode is read only when Info asks.
type dirEntry struct {
	f *FS
	e dirent
}

func (d dirEntry) Name() string      { return d.e.name }
func (d dirEntry) IsDir() bool       { return d.e.typ == typeDir }
func (d dirEntry) Type() fs.FileMode { return typeMode(d.e.typ) }

func (d dirEntry) Info() (fs.FileInfo, error) {
	d.f.mu.Lock()
	defer d.f.mu.Unlock()
	ino, err := d.f.inode(d.e.ref)
	if err != nil {
		return nil, err
	}
	return fileInfo{name: d.e.name, ino: ino}, nil
}

func (d dirEntry) String() string { return fs.FormatDirEntry(d) }

// dirFile is an open directory.
type dirFile struct {
	f       *FS
	node    node
	info    fileInfo
	entries []fs.DirEntry
	read    bool
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dirFile) Close() error               { return nil }

func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: errors.New("is a directory")}
}

// ReadDir implements fs.ReadDirFile: n > 0 returns at most n entries and
// io.EOF at the end, n <= 0 all that are left.
func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	if !d.read {
		l, err := d.f.dirEntries("readdir", d.info.name, d.node)
		if err != nil {
			return nil, err
		}
		d.entries, d.read = l, true
	}
	if n <= 0 {
		out := d.entries
		d.entries = nil
		return out, nil
	}
	if len(d.entries) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(d.entries))
	out := d.entries[:n:n]
	d.entries = d.entries[n:]
	return out, nil
}

// specialFile is a device, fifo or socket: it can be stat'ed, not read.
type specialFile struct{ info fileInfo }

func (s *specialFile) Stat() (fs.FileInfo, error) { return s.info, nil }
func (s *specialFile) Close() error               { return nil }

func (s *specialFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: s.info.name, Err: fs.ErrInvalid}
}

// regularFile reads a file's blocks in order; only its current block is
// held in memory.
type regularFile struct {
	f     *FS
	ino   *inode
	info  fileInfo
	off   uint64 // bytes of the file already returned
	pos   uint64 // image offset of the next stored block
	index int    // next block to load
	buf   []byte // unread part of the current block
}

func (r *regularFile) Stat() (fs.FileInfo, error) { return r.info, nil }
func (r *regularFile) Close() error               { return nil }

func (r *regularFile) Read(p []byte) (int, error) {
	if len(r.buf) == 0 {
		if r.off >= r.ino.size {
			return 0, io.EOF
		}
		if err := r.load(); err != nil {
			return 0, &fs.PathError{Op: "read", Path: r.info.name, Err: err}
		}
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	r.off += uint64(n)
	return n, nil
}

// load decodes the next block, or the tail from its fragment.
func (r *regularFile) load() error {
	f := r.f
	f.mu.Lock()
	defer f.mu.Unlock()
	want := min(uint64(f.sb.BlockSize), r.ino.size-r.off)
	var err error
	if r.index < len(r.ino.blockSizes) {
		r.buf, err = f.dataBlock(r.pos, r.ino.blockSizes[r.index], int(want))
		r.pos += uint64(r.ino.blockSizes[r.index] & blockSizeMask)
		r.index++
	} else {
		r.buf, err = f.fragmentTail(r.ino, int(want))
	}
	if err == nil && len(r.buf) != int(want) {
		err = fmt.Errorf("%w: block of %d bytes where %d were due", ErrCorrupt, len(r.buf), want)
	}
	return err
}
