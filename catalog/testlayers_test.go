package catalog

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// entry is one tar entry of a test layer.
type entry struct {
	name, body, link string
	typ              byte
}

func file(name, body string) entry  { return entry{name: name, body: body, typ: tar.TypeReg} }
func symlink(name, to string) entry { return entry{name: name, link: to, typ: tar.TypeSymlink} }
func hardlink(name, to string) entry {
	return entry{name: name, link: to, typ: tar.TypeLink}
}
func dir(name string) entry      { return entry{name: name, typ: tar.TypeDir} }
func whiteout(name string) entry { return file(name, "") }

func tarLayer(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: 0o644}
		if e.typ == tar.TypeReg {
			hdr.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipLayer(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(tarLayer(t, entries...))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zstdLayer(t testing.TB, entries ...entry) []byte {
	t.Helper()
	zw, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	return zw.EncodeAll(tarLayer(t, entries...), nil)
}
