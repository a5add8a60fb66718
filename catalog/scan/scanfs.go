package scan

import (
	"archive/tar"
	"errors"
	"io"
	"io/fs"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/oci"
)

// ScanFS reads a whole filesystem (a SIF's squashfs partition, an unpacked
// rootfs) with the same selection and parsers as ScanLayer, so that an
// image yields the same facts whether it arrives as OCI layers or as a SIF.
// Symlinks are recorded, not followed, as in a layer. Paths that cannot be
// read, and files over limits.MaxFileBytes, become Problems; walking more
// than limits.MaxEntries paths, or an *oci.LimitError from fsys itself,
// stops the scan with that error and the facts read so far. The budget
// bounds what is kept, as for ScanLayer.
func ScanFS(fsys fs.FS, limits oci.Limits, budget catalog.Budget) (LayerFacts, error) {
	s := newScanner(budget)
	w := fsWalker{s: s, fsys: fsys, limits: limits}
	err := fs.WalkDir(fsys, ".", w.visit)
	return s.facts(), err
}

// fsWalker feeds a directory walk to the scanner the way oci.WalkTar feeds
// a tar stream.
type fsWalker struct {
	s       *scanner
	fsys    fs.FS
	limits  oci.Limits
	entries int64
}

func (w *fsWalker) visit(p string, d fs.DirEntry, err error) error {
	if err != nil {
		return w.failed(p, err)
	}
	if p == "." {
		return nil
	}
	w.entries++
	if most := w.limits.Entries(); w.entries > most {
		return &oci.LimitError{Limit: oci.LimitEntries, Max: most}
	}
	if !w.s.want(p) || d.IsDir() {
		return nil
	}
	switch {
	case d.Type()&fs.ModeSymlink != 0:
		return w.s.file(oci.Header{Path: p, Type: tar.TypeSymlink}, nil)
	case d.Type().IsRegular():
		return w.regular(p, d)
	}
	return nil
}

// failed records an unreadable path and goes on, unless the error is a
// limit, which holds for the rest of the walk too.
func (w *fsWalker) failed(p string, err error) error {
	var le *oci.LimitError
	if errors.As(err, &le) {
		return err
	}
	w.s.problem(p, err)
	return nil
}

func (w *fsWalker) regular(p string, d fs.DirEntry) error {
	info, err := d.Info()
	if err != nil {
		return w.failed(p, err)
	}
	most := w.limits.FileBytes()
	if info.Size() > most {
		w.s.problem(p, &oci.LimitError{Limit: oci.LimitFileBytes, Max: most, Path: p, Claimed: info.Size()})
		return nil
	}
	f, err := w.fsys.Open(p)
	if err != nil {
		return w.failed(p, err)
	}
	defer f.Close()
	return w.s.file(oci.Header{Path: p, Type: tar.TypeReg, Size: info.Size()}, io.LimitReader(f, most))
}
