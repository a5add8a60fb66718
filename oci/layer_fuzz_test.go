package oci

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/oyster-registry/oyster/internal/testlayers"
)

// FuzzWalkLayer feeds arbitrary blobs to the layer walker: it must never
// panic, never hand out a path that leaves the root, and never read more
// than the limits allow.
func FuzzWalkLayer(f *testing.F) {
	f.Add(testlayers.Tar(f, testlayers.File("var/lib/dpkg/status", "Package: a\n"), testlayers.File("a/.wh..wh..opq", ""), testlayers.File("../x", "y")))
	f.Add(testlayers.Gzip(f, testlayers.Tar(f, testlayers.File("etc/os-release", "ID=x\n"))))
	f.Add(testlayers.Zstd(f, testlayers.Tar(f, testlayers.Hardlink("l", "../../etc"))))
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
