package oci

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// Whiteout markers from the image-spec's layer changesets (inherited from
// aufs): `.wh.<name>` deletes <name> from lower layers, `.wh..wh..opq` hides
// everything lower layers put in its directory.
const (
	whiteoutPrefix = ".wh."
	whiteoutMeta   = ".wh..wh."
	whiteoutOpaque = ".wh..wh..opq"
)

// Whiteout is a deletion a layer makes in the layers below it.
type Whiteout struct {
	// Path is the deleted path or, when Opaque, the directory whose lower
	// content is hidden (the empty string for the root).
	Path   string `json:"path"`
	Opaque bool   `json:"opaque,omitempty"`
}

// Header describes one tar entry with its name already made safe.
type Header struct {
	// Path is slash-separated and relative to the image root ("etc/os-release").
	Path string
	// Type is the tar type flag (tar.TypeReg, tar.TypeSymlink, …).
	Type byte
	Size int64
	// Linkname is the target of a link; for hard links it is cleaned like
	// Path, since it names another entry of the archive.
	Linkname string
}

// LayerHandler receives a layer's content while it streams past once.
type LayerHandler struct {
	// Want is asked about every entry except whiteouts, in stream order; it
	// selects the entries passed to File. Nil selects none, which still
	// reports whiteouts.
	Want func(path string) bool
	// File is called for each wanted entry. content reads a regular file's
	// bytes (nothing for other types) and is valid only during the call;
	// files over MaxFileBytes are never passed, they go to Problem. An error
	// returned stops the walk and is returned by it.
	File func(h Header, content io.Reader) error
	// Whiteout is called for each whiteout marker; nil ignores them.
	Whiteout func(w Whiteout)
	// Problem is called for entries skipped for a reason a caller may want
	// to record (a name or a hard link's target climbing out of the root,
	// a file over the limit); the walk goes on. Nil ignores them.
	Problem func(name string, err error)
}

// ErrUnsafePath marks a tar entry whose name leaves the image root.
var ErrUnsafePath = errors.New("entry name leaves the image root")

// WalkLayer decompresses a layer blob and walks its tar stream; see OpenLayer
// and WalkTar. The whole layer is read once and never held in memory.
func WalkLayer(blob io.Reader, mediaType string, limits Limits, h LayerHandler) (Compression, error) {
	rc, c, err := OpenLayer(blob, mediaType, limits)
	if err != nil {
		return c, err
	}
	defer rc.Close()
	return c, WalkTar(rc, limits, h)
}

// WalkTar walks a tar stream entry by entry, enforcing limits: more than
// MaxEntries entries, or a header claiming more bytes than MaxLayerBytes
// leaves, stop the walk with a *LimitError before any such data is read.
func WalkTar(tarStream io.Reader, limits Limits, h LayerHandler) error {
	cr := &countingReader{r: tarStream}
	tr := tar.NewReader(cr)
	for entries := int64(1); ; entries++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading tar: %w", err)
		}
		if entries > limits.Entries() {
			return &LimitError{Limit: LimitEntries, Max: limits.Entries()}
		}
		if left := limits.LayerBytes() - cr.n; hdr.Size > left {
			return &LimitError{Limit: LimitLayerBytes, Max: limits.LayerBytes(), Claimed: hdr.Size}
		}
		if err := visit(hdr, tr, limits, h); err != nil {
			return err
		}
	}
}

// visit routes one entry to the handler.
func visit(hdr *tar.Header, content io.Reader, limits Limits, h LayerHandler) error {
	p, ok := CleanLayerPath(hdr.Name)
	if !ok {
		h.problem(hdr.Name, ErrUnsafePath)
		return nil
	}
	if p == "" {
		return nil // the root directory itself
	}
	if w, ok := parseWhiteout(p); ok {
		if h.Whiteout != nil {
			h.Whiteout(w)
		}
		return nil
	}
	if isWhiteoutMeta(p) || h.Want == nil || !h.Want(p) {
		return nil
	}
	if hdr.Typeflag == tar.TypeReg && hdr.Size > limits.FileBytes() {
		h.problem(p, &LimitError{Limit: LimitFileBytes, Max: limits.FileBytes(), Path: p, Claimed: hdr.Size})
		return nil
	}
	if _, ok := CleanLayerPath(hdr.Linkname); hdr.Typeflag == tar.TypeLink && !ok {
		h.problem(p, fmt.Errorf("hard link to %q: %w", hdr.Linkname, ErrUnsafePath))
		return nil
	}
	return h.File(headerOf(hdr, p), content)
}

func headerOf(hdr *tar.Header, p string) Header {
	out := Header{Path: p, Type: hdr.Typeflag, Size: hdr.Size, Linkname: hdr.Linkname}
	if hdr.Typeflag == tar.TypeLink {
		out.Linkname, _ = CleanLayerPath(hdr.Linkname)
	}
	return out
}

func (h LayerHandler) problem(name string, err error) {
	if h.Problem != nil {
		h.Problem(name, err)
	}
}

// CleanLayerPath turns a tar entry name into the slash-separated path it
// would have below the image root: "./usr/bin", "/usr/bin" and "usr//bin/"
// all become "usr/bin", and the root itself becomes "". ok is false for names
// that climb out of the root ("../etc/passwd"), which a careless unpacker
// would write outside its target directory.
func CleanLayerPath(name string) (p string, ok bool) {
	p = path.Clean(strings.TrimLeft(name, "/"))
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", false
	}
	if p == "." {
		return "", true
	}
	return p, true
}

// parseWhiteout recognises the two whiteout forms by base name. `.wh..` is
// not one: its target would be the directory holding it, not an entry in it.
func parseWhiteout(p string) (Whiteout, bool) {
	dir, base := path.Split(p)
	dir = strings.TrimSuffix(dir, "/")
	switch {
	case base == whiteoutOpaque:
		return Whiteout{Path: dir, Opaque: true}, true
	case strings.HasPrefix(base, whiteoutMeta):
		return Whiteout{}, false
	case strings.HasPrefix(base, whiteoutPrefix):
		name := base[len(whiteoutPrefix):]
		if name == "" || name == "." || name == ".." {
			return Whiteout{}, false
		}
		return Whiteout{Path: path.Join(dir, name)}, true
	}
	return Whiteout{}, false
}

// isWhiteoutMeta reports other aufs bookkeeping (`.wh..wh.plnk` and the
// like), which is neither content nor a deletion.
func isWhiteoutMeta(p string) bool {
	return strings.HasPrefix(path.Base(p), whiteoutMeta)
}

// countingReader counts the bytes of the tar stream consumed so far, so a
// header's claimed size can be checked against what the layer has left.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
