package format

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/oyster-registry/oyster/internal/testlayers"
	"github.com/oyster-registry/oyster/oci"
)

// layers writes each layer to a file and returns them for Unpack.
func layers(t *testing.T, blobs ...[]byte) []Layer {
	t.Helper()
	dir := t.TempDir()
	var out []Layer
	for i, b := range blobs {
		p := filepath.Join(dir, string(rune('a'+i)))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, Layer{Path: p, MediaType: "application/vnd.oci.image.layer.v1.tar"})
	}
	return out
}

// tree lists dir as "path" or "path -> target", with file contents.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			rel += " -> " + target
		case fi.Mode().IsRegular():
			b, _ := os.ReadFile(p)
			rel += " = " + strings.TrimSpace(string(b))
		}
		out = append(out, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func TestUnpackWhiteouts(t *testing.T) {
	dir := t.TempDir()
	base := testlayers.Tar(t, testlayers.Dir("etc"), testlayers.File("etc/keep", "1"), testlayers.File("etc/gone", "2"),
		testlayers.Dir("opt/app"), testlayers.File("opt/app/old", "3"), testlayers.Symlink("lib", "usr/lib"),
		testlayers.File("usr/lib/libc.so", "c"))
	top := testlayers.Tar(t, testlayers.Whiteout("etc/gone"), testlayers.File("opt/app/new", "4"), testlayers.Opaque("opt/app"),
		testlayers.File("lib/libz.so", "z"), testlayers.Hardlink("etc/keep2", "etc/keep"))
	if err := Unpack(dir, layers(t, base, testlayers.Gzip(t, top)), oci.Limits{}); err != nil {
		t.Fatal(err)
	}
	want := []string{"etc", "etc/keep = 1", "etc/keep2 = 1", "lib -> usr/lib", "opt", "opt/app", "opt/app/new = 4",
		"usr", "usr/lib", "usr/lib/libc.so = c", "usr/lib/libz.so = z"}
	if got := tree(t, dir); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rootfs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestUnpackRefusesEscapes: each malicious layer fails with ErrUnsafeLayer
// and nothing lands outside the root.
func TestUnpackRefusesEscapes(t *testing.T) {
	outside := t.TempDir()
	for name, entries := range map[string][]testlayers.Entry{
		"dotdot":            {testlayers.File("../../"+filepath.Base(outside)+"/evil", "x")},
		"absolute symlink":  {testlayers.Symlink("out", outside), testlayers.File("out/evil", "x")},
		"relative symlink":  {testlayers.Symlink("up", "../../../../../../.."+outside)},
		"nested symlink":    {testlayers.Dir("a"), testlayers.Symlink("a/b", "../.."), testlayers.File("a/b/evil", "x")},
		"hardlink dotdot":   {testlayers.Hardlink("h", "../../../../etc/passwd")},
		"hardlink via link": {testlayers.Symlink("etc2", "/etc"), testlayers.Hardlink("h", "etc2/passwd")},
		"whiteout via link": {testlayers.Symlink("out", outside), testlayers.Whiteout("out/keep")},
	} {
		t.Run(name, func(t *testing.T) {
			must(t, os.WriteFile(filepath.Join(outside, "keep"), []byte("k"), 0o644))
			err := Unpack(t.TempDir(), layers(t, testlayers.Tar(t, entries...)), oci.Limits{})
			if !errors.Is(err, ErrUnsafeLayer) {
				t.Fatalf("Unpack: %v, want ErrUnsafeLayer", err)
			}
			if got := tree(t, outside); strings.Join(got, ",") != "keep = k" {
				t.Errorf("outside the root: %v", got)
			}
		})
	}
}

// TestUnpackTarBomb: a small gzip layer inflating past the limit stops
// with a limit error.
func TestUnpackTarBomb(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	must(t, tw.WriteHeader(&tar.Header{Name: "zeros", Typeflag: tar.TypeReg, Mode: 0o644, Size: 64 << 20}))
	_, err := io.CopyN(tw, testlayers.Zeros{}, 64<<20)
	must(t, err)
	must(t, tw.Close())
	must(t, zw.Close())
	err = Unpack(t.TempDir(), layers(t, buf.Bytes()), oci.Limits{MaxLayerBytes: 1 << 20})
	var le *oci.LimitError
	if !errors.As(err, &le) {
		t.Fatalf("Unpack of a bomb: %v, want a LimitError", err)
	}
	if buf.Len() > 1<<20 {
		t.Fatalf("the bomb is not small: %d bytes", buf.Len())
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
