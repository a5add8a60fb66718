// Package testlayers builds the inputs tests feed the registry and the
// catalog: tar layers (plain, gzip, zstd), package databases, squashfs
// images and SIF files, made the way real tools make them. It imports
// nothing of Oyster, so tests of every package, oci included, can use it.
package testlayers

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"path"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// Entry is one tar entry of a layer.
type Entry struct {
	Name, Body string
	// Link is the target of a symlink or hard link.
	Link string
	Type byte
	Mode int64
}

// File is a regular file.
func File(name, body string) Entry { return Entry{Name: name, Body: body, Type: tar.TypeReg} }

// Symlink is a symbolic link to target.
func Symlink(name, target string) Entry {
	return Entry{Name: name, Link: target, Type: tar.TypeSymlink}
}

// Hardlink is a hard link to an earlier entry.
func Hardlink(name, target string) Entry { return Entry{Name: name, Link: target, Type: tar.TypeLink} }

// Dir is a directory.
func Dir(name string) Entry { return Entry{Name: name, Type: tar.TypeDir, Mode: 0o755} }

// Whiteout deletes p from the layers below (an empty ".wh.<name>" file).
func Whiteout(p string) Entry {
	dir, name := path.Split(p)
	return File(dir+".wh."+name, "")
}

// Opaque hides everything the layers below have under dir.
func Opaque(dir string) Entry { return File(path.Join(dir, ".wh..wh..opq"), "") }

// Tar is an uncompressed layer of entries, in order.
func Tar(t testing.TB, entries ...Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		if err := writeEntry(tw, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeEntry(tw *tar.Writer, e Entry) error {
	mode := e.Mode
	if mode == 0 {
		mode = 0o644
	}
	hdr := &tar.Header{Name: e.Name, Typeflag: e.Type, Linkname: e.Link, Mode: mode, ModTime: time.Unix(1700000000, 0)}
	if e.Type == tar.TypeReg {
		hdr.Size = int64(len(e.Body))
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err := io.WriteString(tw, e.Body)
	return err
}

// Gzip compresses data as a tar+gzip layer.
func Gzip(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Zstd compresses data as a tar+zstd layer.
func Zstd(t testing.TB, data []byte) []byte {
	t.Helper()
	zw, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer zw.Close()
	return zw.EncodeAll(data, nil)
}

// Stream writes a tar stream on the fly, through a pipe, so that a test can
// feed a layer of hundreds of MiB without holding it.
func Stream(write func(tw *tar.Writer) error) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		err := write(tw)
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr
}

// Zeros reads as an endless run of zero bytes, the body of bombs.
type Zeros struct{}

func (Zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
