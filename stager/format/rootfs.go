package format

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/oyster-registry/oyster/oci"
)

// ErrUnsafeLayer marks a layer entry that would reach outside the root:
// a name climbing out with `..`, a write through a symlink leading out, a
// symlink whose target climbs out, or a hard link to outside.
var ErrUnsafeLayer = errors.New("layer entry escapes the root")

// Layer is a layer blob on disk and its media type.
type Layer struct {
	Path      string
	MediaType string
}

// Unpack applies layers, lowest first, onto the empty directory dir as a
// container runtime would see them: whiteouts delete, opaque directories
// hide what lower layers put there. Device nodes are made only when
// running as root, and skipped otherwise. An unsafe entry, or a layer over
// limits (a tar bomb), stops the unpacking with an error; the caller
// removes dir.
func Unpack(dir string, layers []Layer, limits oci.Limits) error {
	root, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	for i, l := range layers {
		if err := unpackLayer(root, l, limits); err != nil {
			return fmt.Errorf("layer %d (%s): %w", i+1, filepath.Base(l.Path), err)
		}
	}
	return nil
}

func unpackLayer(root string, l Layer, limits oci.Limits) error {
	f, err := os.Open(l.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	rc, _, err := oci.OpenLayer(f, l.MediaType, limits)
	if err != nil {
		return err
	}
	defer rc.Close()
	u := &unpacker{root: root, added: map[string]bool{}, isRoot: os.Geteuid() == 0}
	tr := tar.NewReader(rc)
	for entries := int64(1); ; entries++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading tar: %w", err)
		}
		if entries > limits.Entries() {
			return &oci.LimitError{Limit: oci.LimitEntries, Max: limits.Entries()}
		}
		if err := u.entry(hdr, tr); err != nil {
			return err
		}
	}
}

// unpacker applies one layer; added holds the paths this layer made, which
// its opaque markers must not hide.
type unpacker struct {
	root   string
	added  map[string]bool
	isRoot bool
}

func (u *unpacker) entry(hdr *tar.Header, content io.Reader) error {
	p, ok := oci.CleanLayerPath(hdr.Name)
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnsafeLayer, hdr.Name)
	}
	if p == "" {
		return nil
	}
	dir, base := path.Split(p)
	if base == ".wh..wh..opq" {
		return u.opaque(strings.TrimSuffix(dir, "/"))
	}
	if strings.HasPrefix(base, ".wh..wh.") {
		return nil // aufs bookkeeping
	}
	if name, ok := strings.CutPrefix(base, ".wh."); ok {
		target, err := u.resolve(path.Join(dir, name))
		if err != nil {
			return err
		}
		return os.RemoveAll(target)
	}
	target, err := u.resolve(p)
	if err != nil {
		return err
	}
	u.added[p] = true
	return u.write(hdr, p, target, content)
}

// resolve maps a layer path to a host path below root, refusing a parent
// that is a symlink: following it is how a layer writes outside the root.
// Relative symlinks inside the root are the one exception, resolved within
// the root.
func (u *unpacker) resolve(p string) (string, error) {
	parts := strings.Split(p, "/")
	cur := ""
	for hops, i := 0, 0; i < len(parts)-1; i++ {
		next := path.Join(cur, parts[i])
		fi, err := os.Lstat(filepath.Join(u.root, next))
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			cur = next // missing parents are made as directories later
			continue
		}
		link, err := os.Readlink(filepath.Join(u.root, next))
		if err != nil {
			return "", err
		}
		resolved, ok := within(cur, link)
		if hops++; !ok || hops > 40 {
			return "", fmt.Errorf("%w: %q passes through symlink %q -> %q", ErrUnsafeLayer, p, next, link)
		}
		parts = append(strings.Split(resolved, "/"), parts[i+1:]...)
		cur, i = "", -1
	}
	return filepath.Join(u.root, cur, parts[len(parts)-1]), nil
}

// within joins a relative symlink target to the directory holding the
// link; ok is false for an absolute target or one climbing out.
func within(dir, target string) (string, bool) {
	if path.IsAbs(target) {
		return "", false
	}
	p := path.Join(dir, target)
	switch {
	case p == ".." || strings.HasPrefix(p, "../"):
		return "", false
	case p == ".":
		return "", true
	}
	return p, true
}

// opaque removes what lower layers put in dir.
func (u *unpacker) opaque(dir string) error {
	target := u.root
	if dir != "" {
		var err error
		if target, err = u.resolve(dir + "/x"); err != nil {
			return err
		}
		target = filepath.Dir(target)
	}
	entries, err := os.ReadDir(target)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !u.added[path.Join(dir, e.Name())] {
			if err := os.RemoveAll(filepath.Join(target, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

func (u *unpacker) write(hdr *tar.Header, p, target string, content io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	if fi, err := os.Lstat(target); err == nil && !(fi.IsDir() && hdr.Typeflag == tar.TypeDir) {
		if err := os.RemoveAll(target); err != nil { // replace, never write through
			return err
		}
	}
	mode := os.FileMode(hdr.Mode & 0o7777)
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := os.MkdirAll(target, 0o755); err != nil {
			return err
		}
	case tar.TypeReg, tar.TypeRegA:
		if err := writeFile(target, content, mode); err != nil {
			return err
		}
	case tar.TypeSymlink:
		if _, ok := within(path.Dir(p), hdr.Linkname); !ok && !path.IsAbs(hdr.Linkname) {
			return fmt.Errorf("%w: symlink %q -> %q", ErrUnsafeLayer, p, hdr.Linkname)
		}
		return u.own(target, hdr, os.Symlink(hdr.Linkname, target))
	case tar.TypeLink:
		return u.hardlink(hdr, p, target)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		if !u.isRoot {
			return nil
		}
		if err := syscall.Mknod(target, deviceMode(hdr)|uint32(mode), int(mkdev(hdr.Devmajor, hdr.Devminor))); err != nil {
			return err
		}
	default:
		return nil // other types (xattr headers and the like) carry no file
	}
	if err := u.own(target, hdr, os.Chmod(target, mode)); err != nil {
		return err
	}
	return os.Chtimes(target, time.Time{}, hdr.ModTime)
}

// hardlink links to an earlier entry, resolved like any path: a link to
// outside the root is refused.
func (u *unpacker) hardlink(hdr *tar.Header, p, target string) error {
	src, ok := oci.CleanLayerPath(hdr.Linkname)
	if !ok || src == "" {
		return fmt.Errorf("%w: hard link %q -> %q", ErrUnsafeLayer, p, hdr.Linkname)
	}
	from, err := u.resolve(src)
	if err != nil {
		return err
	}
	fi, err := os.Lstat(from)
	if err != nil {
		return fmt.Errorf("hard link %q -> %q: %w", p, hdr.Linkname, err)
	}
	if fi.IsDir() {
		return fmt.Errorf("%w: hard link %q to directory %q", ErrUnsafeLayer, p, hdr.Linkname)
	}
	return os.Link(from, target)
}

// own sets ownership when running as root (a non-root stager makes
// everything its own, which is what an unprivileged runtime sees anyway).
func (u *unpacker) own(target string, hdr *tar.Header, err error) error {
	if err != nil || !u.isRoot {
		return err
	}
	return os.Lchown(target, hdr.Uid, hdr.Gid)
}

func writeFile(target string, content io.Reader, mode os.FileMode) error {
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, content); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func deviceMode(hdr *tar.Header) uint32 {
	switch hdr.Typeflag {
	case tar.TypeChar:
		return syscall.S_IFCHR
	case tar.TypeBlock:
		return syscall.S_IFBLK
	}
	return syscall.S_IFIFO
}

// mkdev encodes a device number as Linux's makedev does.
func mkdev(major, minor int64) uint64 {
	return uint64(minor&0xff) | uint64(major&0xfff)<<8 | uint64(minor&^0xff)<<12 | uint64(major&^0xfff)<<32
}
