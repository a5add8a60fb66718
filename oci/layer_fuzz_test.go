package oci

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/oyster-registry/oyster/internal/testlayers"
)

// FuzzWalkLayer feeds arbitrary blobs to the layer walker: it must never
// panic, never hand out a path that leaves the root or is not clean, never
// pass more entries, file bytes or layer bytes than the limits allow, hand
// each regular file's content whole, and see the same layer whether the
// tar stream arrives plain or gzip-compressed.
func FuzzWalkLayer(f *testing.F) {
	f.Add(testlayers.Tar(f, testlayers.File("var/lib/dpkg/status", "Package: a\n"), testlayers.File("a/.wh..wh..opq", ""), testlayers.File("../x", "y")))
	f.Add(testlayers.Gzip(f, testlayers.Tar(f, testlayers.File("etc/os-release", "ID=x\n"))))
	f.Add(testlayers.Zstd(f, testlayers.Tar(f, testlayers.Hardlink("l", "../../etc"))))
	f.Add([]byte{0x1f, 0x8b, 0x08})
	f.Fuzz(func(t *testing.T, blob []byte) {
		limits := Limits{MaxLayerBytes: 1 << 20, MaxFileBytes: 4096, MaxEntries: 100}
		events, compression, err := walkEvents(t, blob, limits)
		var le *LimitError
		if errors.As(err, &le) && le.Max <= 0 {
			t.Fatalf("limit error without a limit: %v", err)
		}
		if compression != CompressionNone {
			return
		}
		zevents, _, zerr := walkEvents(t, testlayers.Gzip(t, blob), limits)
		if !slices.Equal(events, zevents) || fmt.Sprint(err) != fmt.Sprint(zerr) {
			t.Fatalf("plain: %q, %v\ngzip: %q, %v", events, err, zevents, zerr)
		}
	})
}

// walkEvents walks blob, checking every callback against limits, and
// returns what the walk reported, in order.
func walkEvents(t *testing.T, blob []byte, limits Limits) ([]string, Compression, error) {
	var events []string
	var fileBytes int64
	compression, err := WalkLayer(bytes.NewReader(blob), "", limits, LayerHandler{
		Want: func(p string) bool {
			checkSafePath(t, "entry", p)
			return true
		},
		File: func(h Header, r io.Reader) error {
			checkSafePath(t, "file", h.Path)
			if h.Type == tar.TypeLink && h.Linkname != "" {
				checkSafePath(t, "hard link target", h.Linkname)
			}
			n, err := io.Copy(io.Discard, r)
			if n > limits.MaxFileBytes {
				t.Fatalf("read %d bytes of %s", n, h.Path)
			}
			if err == nil && h.Type == tar.TypeReg && n != h.Size {
				t.Fatalf("%s: header says %d bytes, content had %d", h.Path, h.Size, n)
			}
			if fileBytes += n; fileBytes > limits.MaxLayerBytes {
				t.Fatalf("%d bytes of files out of a layer capped at %d", fileBytes, limits.MaxLayerBytes)
			}
			events = append(events, fmt.Sprintf("file %s type %d size %d read %d link %q", h.Path, h.Type, h.Size, n, h.Linkname))
			return err
		},
		Whiteout: func(w Whiteout) {
			if w.Path != "" {
				checkSafePath(t, "whiteout", w.Path)
			}
			events = append(events, fmt.Sprintf("whiteout %s opaque %v", w.Path, w.Opaque))
		},
		Problem: func(name string, err error) {
			events = append(events, fmt.Sprintf("problem %q: %v", name, err))
		},
	})
	if len(events) > limits.MaxEntries {
		t.Fatalf("%d entries reported from a layer capped at %d", len(events), limits.MaxEntries)
	}
	return events, compression, err
}

// checkSafePath requires p to be clean, relative and inside the root.
func checkSafePath(t *testing.T, what, p string) {
	t.Helper()
	if p == "" || p != path.Clean(p) || p == "." || p == ".." || strings.HasPrefix(p, "../") || strings.HasPrefix(p, "/") {
		t.Fatalf("unsafe %s path %q", what, p)
	}
}
