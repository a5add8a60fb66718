package squashfs

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/oyster-registry/oyster/internal/testlayers"
	"github.com/oyster-registry/oyster/oci"
)

// FuzzSquashfs reads arbitrary images with tight limits: any outcome but a
// panic, a hang or an allocation past the limits is fine.
func FuzzSquashfs(f *testing.F) {
	dir := f.TempDir()
	must(f, os.MkdirAll(filepath.Join(dir, "etc/sub"), 0o755))
	must(f, os.WriteFile(filepath.Join(dir, "etc/os-release"), []byte("ID=alpine\n"), 0o644))
	must(f, os.WriteFile(filepath.Join(dir, "etc/sub/big"), bytes.Repeat([]byte("0123456789"), 1000), 0o644))
	must(f, os.Symlink("../os-release", filepath.Join(dir, "etc/sub/link")))
	for _, comp := range []string{"gzip", "xz", "lz4", "zstd"} {
		f.Add(testlayers.Mksquashfs(f, dir, "-b", "4K", "-comp", comp))
	}
	f.Add(testlayers.Mksquashfs(f, dir, "-noI", "-noD", "-noF", "-noX"))
	f.Fuzz(func(t *testing.T, img []byte) {
		fsys, err := New(bytes.NewReader(img), int64(len(img)), oci.Limits{MaxLayerBytes: 16 << 20, MaxEntries: 10000, MaxFileBytes: 1 << 20})
		if err != nil {
			return
		}
		_ = walkAll(fsys)
		_, _ = fsys.ReadLink("etc/sub/link")
	})
}
