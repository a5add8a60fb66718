package squashfs

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// maxLinkHops is how many symlinks one path may go through, as on Linux.
const maxLinkHops = 40

// maxPathSteps bounds the elements one resolution walks, symlink targets
// included, so that chains of long targets cannot make one Open costly.
const maxPathSteps = 4096

// maxDirEntryCount is the most entries one listing header may announce.
const maxDirEntryCount = 256

// dirent is one entry of a directory listing.
type dirent struct {
	name string
	ref  uint64 // inode reference
	typ  uint16 // basic inode type
}

// dirHeader starts each run of entries whose inodes share a metadata block.
type dirHeader struct {
	Count, Start, Number uint32
}

// direntHeader precedes each entry's name.
type direntHeader struct {
	Offset    uint16
	NumOffset int16
	Type      uint16
	NameSize  uint16
}

// listing returns a directory's entries sorted by name. Callers hold f.mu.
func (f *FS) listing(ref uint64, ino *inode) ([]dirent, error) {
	if l, ok := f.listings.get(ref); ok {
		return l, nil
	}
	if ino.dirSize < 3 {
		return nil, fmt.Errorf("%w: directory size %d", ErrCorrupt, ino.dirSize)
	}
	if uint64(ino.dirBlock) > f.sb.BytesUsed-f.sb.DirTable {
		return nil, fmt.Errorf("%w: directory listing outside the directory table", ErrCorrupt)
	}
	m, err := f.metaAt(f.sb.DirTable+uint64(ino.dirBlock), int(ino.dirOffset))
	if err != nil {
		return nil, err
	}
	var out []dirent
	for left := int64(ino.dirSize) - 3; left > 0; {
		var h dirHeader
		if err := m.read(&h); err != nil {
			return nil, err
		}
		left -= 12
		if h.Count >= maxDirEntryCount {
			return nil, fmt.Errorf("%w: directory header announces %d entries", ErrCorrupt, h.Count+1)
		}
		for i := uint32(0); i <= h.Count && left > 0; i++ {
			e, n, err := f.readDirent(m, h)
			if err != nil {
				return nil, err
			}
			left -= n
			out = append(out, e)
		}
	}
	if !slices.IsSortedFunc(out, cmpDirent) {
		slices.SortFunc(out, cmpDirent)
	}
	f.listings.put(ref, out)
	return out, nil
}

// readDirent decodes one entry and charges it to the budget; n is the
// bytes it took.
func (f *FS) readDirent(m *metaReader, h dirHeader) (dirent, int64, error) {
	var e direntHeader
	if err := m.read(&e); err != nil {
		return dirent{}, 0, err
	}
	name := make([]byte, int(e.NameSize)+1)
	if err := m.read(name); err != nil {
		return dirent{}, 0, err
	}
	if err := f.budget.charge(int64(len(name)), 1); err != nil {
		return dirent{}, 0, err
	}
	s := string(name)
	if s == "." || s == ".." || strings.ContainsAny(s, "/\x00") || e.Type < typeDir || e.Type > typeSocket {
		return dirent{}, 0, fmt.Errorf("%w: directory entry %q of type %d", ErrCorrupt, s, e.Type)
	}
	return dirent{name: s, ref: uint64(h.Start)<<16 | uint64(e.Offset), typ: e.Type}, int64(8 + len(name)), nil
}

func cmpDirent(a, b dirent) int { return strings.Compare(a.name, b.name) }

// lookup finds name in a directory.
func (f *FS) lookup(ref uint64, ino *inode, name string) (dirent, error) {
	l, err := f.listing(ref, ino)
	if err != nil {
		return dirent{}, err
	}
	i, ok := slices.BinarySearchFunc(l, name, func(e dirent, n string) int { return strings.Compare(e.name, n) })
	if !ok {
		return dirent{}, fs.ErrNotExist
	}
	return l[i], nil
}

// node is a resolved path.
type node struct {
	ref uint64
	ino *inode
}

// errLoop marks a directory that contains itself, which only a corrupt or
// forged image has; without the check a walk would never end.
var errLoop = fmt.Errorf("%w: directory loop", ErrCorrupt)

// resolve walks a valid fs path from the root. Symlinks on the way are
// followed as the container would see them (absolute targets from the
// root, ".." stopping at the root); the last element is followed only if
// follow is set. Callers hold f.mu.
func (f *FS) resolve(name string, follow bool) (node, error) {
	stack := []node{{ref: f.sb.RootInode, ino: f.root}}
	parts := splitPath(name)
	for hops, steps := 0, 0; len(parts) > 0; steps++ {
		if steps > maxPathSteps {
			return node{}, errors.New("path too long")
		}
		p := parts[0]
		parts = parts[1:]
		if p == ".." {
			stack = stack[:max(1, len(stack)-1)]
			continue
		}
		next, err := f.child(stack[len(stack)-1], p)
		if err != nil {
			return node{}, err
		}
		if next.ino.typ == typeSymlink && (follow || len(parts) > 0) {
			if hops++; hops > maxLinkHops {
				return node{}, errors.New("too many levels of symbolic links")
			}
			if strings.HasPrefix(next.ino.target, "/") {
				stack = stack[:1]
			}
			parts = append(splitPath(next.ino.target), parts...)
			continue
		}
		if slices.ContainsFunc(stack, func(n node) bool { return n.ref == next.ref }) {
			return node{}, errLoop
		}
		stack = append(stack, next)
	}
	return stack[len(stack)-1], nil
}

// child looks up one path element below a directory node.
func (f *FS) child(dir node, name string) (node, error) {
	if dir.ino.typ != typeDir {
		return node{}, errors.New("not a directory")
	}
	e, err := f.lookup(dir.ref, dir.ino, name)
	if err != nil {
		return node{}, err
	}
	ino, err := f.inode(e.ref)
	if err != nil {
		return node{}, err
	}
	if ino.typ != e.typ {
		return node{}, fmt.Errorf("%w: %s is type %d in its directory, %d in its inode", ErrCorrupt, name, e.typ, ino.typ)
	}
	return node{ref: e.ref, ino: ino}, nil
}

// splitPath splits a slash path into elements, dropping empty and "."
// ones.
func splitPath(p string) []string {
	return slices.DeleteFunc(strings.Split(p, "/"), func(s string) bool { return s == "" || s == "." })
}

// base is the name fs.FileInfo reports for a path.
func base(name string) string {
	if name == "." {
		return "."
	}
	return path.Base(name)
}
