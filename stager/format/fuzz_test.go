package format

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/oyster-registry/oyster/internal/testlayers"
	"github.com/oyster-registry/oyster/oci"
)

// FuzzUnpackStaysInside unpacks two layers of entries chosen by the input
// (names and link targets climbing out, absolute links, links to the
// directory beside the root, whiteouts through links) and checks the one
// property that matters: nothing outside the root is created or changed.
func FuzzUnpackStaysInside(f *testing.F) {
	f.Add([]byte{2, 6, 5, 0, 7, 0, 3, 1, 7, 4, 6, 0})
	f.Add([]byte{0, 4, 0, 2, 8, 1, 0, 9, 0, 3, 3, 2})
	f.Add([]byte{1, 0, 0, 2, 6, 1, 4, 7, 2, 0, 10, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		parent := t.TempDir()
		root, outside := filepath.Join(parent, "root"), filepath.Join(parent, "outside")
		for _, d := range []string{root, outside} {
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(outside, "sentinel"), []byte("s"), 0o644); err != nil {
			t.Fatal(err)
		}
		names := []string{"a", "b", "a/b", "a/b/c", "../x", "../outside/sentinel", "link", "link/f", "link/sentinel",
			"a/../../x", "a/.wh..wh..opq", ".wh.link", "link/.wh.sentinel", "/abs/f", "./a/./b"}
		targets := []string{"a", "..", "../..", "/", outside, "../outside", "a/b", "link", ".", "b/../..", "link/sentinel"}
		var layers [2][]testlayers.Entry
		for i := 0; i+2 < len(data) && i < 3*24; i += 3 {
			name, target := names[int(data[i+1])%len(names)], targets[int(data[i+2])%len(targets)]
			var e testlayers.Entry
			switch data[i] % 5 {
			case 0:
				e = testlayers.File(name, "x")
			case 1:
				e = testlayers.Dir(name)
			case 2:
				e = testlayers.Symlink(name, target)
			case 3:
				e = testlayers.Hardlink(name, target)
			case 4:
				e = testlayers.Whiteout(name)
			}
			layers[(i/3)%2] = append(layers[(i/3)%2], e)
		}
		var files []Layer
		for i, entries := range layers {
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			for _, e := range entries {
				typ := e.Type
				hdr := &tar.Header{Name: e.Name, Linkname: e.Link, Typeflag: typ, Mode: 0o755}
				if typ == tar.TypeReg {
					hdr.Size = int64(len(e.Body))
				}
				if tw.WriteHeader(hdr) != nil {
					continue
				}
				tw.Write([]byte(e.Body))
			}
			tw.Close()
			p := filepath.Join(parent, "layer"+string(rune('0'+i)))
			if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			files = append(files, Layer{Path: p, MediaType: "application/vnd.oci.image.layer.v1.tar"})
		}
		_ = Unpack(root, files, oci.Limits{MaxLayerBytes: 1 << 20})
		entries, _ := os.ReadDir(parent)
		for _, e := range entries {
			if n := e.Name(); n != "root" && n != "outside" && n != "layer0" && n != "layer1" {
				t.Fatalf("created %s beside the root", n)
			}
		}
		out, _ := os.ReadDir(outside)
		b, err := os.ReadFile(filepath.Join(outside, "sentinel"))
		if len(out) != 1 || err != nil || string(b) != "s" {
			t.Fatalf("outside changed: %v, sentinel %q %v", out, b, err)
		}
	})
}
