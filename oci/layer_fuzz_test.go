package oci

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzWalkLayer feeds arbitrary blobs to the layer walker: it must never
// panic, never hand out a path that leaves the root, and never read more
// than the limits allow.
func FuzzWalkLayer(f *testing.F) {
	f.Add(buildTar(f, tarFile{name: "var/lib/dpkg/status", body: "Package: a\n"}, tarFile{name: "a/.wh..wh..opq"}, tarFile{name: "../x", body: "y"}))
	f.Add(gzipped(f, buildTar(f, tarFile{name: "etc/os-release", body: "ID=x\n"})))
	f.Add(zstded(f, buildTar(f, tarFile{name: "l", typ: tar.TypeLink, link: "../../etc"})))
	f.Add([]byte{0x1f, 0x8b, 0x08})
	f.Fuzz(func(t *testing.T, blob []byte) {
		limits := Limits{MaxLayerBytes: 1 << 20, MaxFileBytes: 4096, MaxEntries: 1000}
		_, err := WalkLayer(bytes.NewReader(blob), "", limits, LayerHandler{
			Want: func(p string) bool {
				if p == ".." || strings.HasPrefix(p, "../") || strings.HasPrefix(p, "/") {
					t.Fatalf("unsafe path %q", p)
				}
				return true
			},
			File: func(h Header, r io.Reader) error {
				n, err := io.Copy(io.Discard, r)
				if n > limits.MaxFileBytes {
					t.Fatalf("read %d bytes of %s", n, h.Path)
				}
				return err
			},
		})
		var le *LimitError
		if errors.As(err, &le) && le.Max <= 0 {
			t.Fatalf("limit error without a limit: %v", err)
		}
	})
}
