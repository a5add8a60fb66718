package oci

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/oyster-registry/oyster/internal/testlayers"
)

// collect walks a blob and returns the files read, whiteouts and problems.
func collect(t *testing.T, blob []byte, mediaType string, limits Limits, want func(string) bool) (map[string]string, []Whiteout, []string, error) {
	t.Helper()
	files := map[string]string{}
	var whiteouts []Whiteout
	var problems []string
	_, err := WalkLayer(bytes.NewReader(blob), mediaType, limits, LayerHandler{
		Want: want,
		File: func(h Header, r io.Reader) error {
			b, err := io.ReadAll(r)
			files[h.Path] = string(b) + h.Linkname
			return err
		},
		Whiteout: func(w Whiteout) { whiteouts = append(whiteouts, w) },
		Problem:  func(name string, err error) { problems = append(problems, name+": "+err.Error()) },
	})
	return files, whiteouts, problems, err
}

func wantAll(string) bool { return true }

func TestWalkLayerEncodings(t *testing.T) {
	raw := testlayers.Tar(t,
		testlayers.File("./etc/os-release", "ID=debian\n"),
		testlayers.File("/usr/lib/os-release", "ID=ubuntu\n"),
		testlayers.File("usr/bin/big", strings.Repeat("x", 4096)),
	)
	want := func(p string) bool { return strings.HasSuffix(p, "os-release") }
	cases := []struct {
		name, mediaType string
		blob            []byte
		compression     Compression
	}{
		{"plain", v1.MediaTypeImageLayer, raw, CompressionNone},
		{"gzip", v1.MediaTypeImageLayerGzip, testlayers.Gzip(t, raw), CompressionGzip},
		{"zstd", v1.MediaTypeImageLayerZstd, testlayers.Zstd(t, raw), CompressionZstd},
		{"docker gzip", "application/vnd.docker.image.rootfs.diff.tar.gzip", testlayers.Gzip(t, raw), CompressionGzip},
		{"zstd labelled gzip", v1.MediaTypeImageLayerGzip, testlayers.Zstd(t, raw), CompressionZstd},
		{"gzip labelled plain", v1.MediaTypeImageLayer, testlayers.Gzip(t, raw), CompressionGzip},
		{"no media type", "", testlayers.Zstd(t, raw), CompressionZstd},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rc, c, err := OpenLayer(bytes.NewReader(tc.blob), tc.mediaType, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			rc.Close()
			if c != tc.compression {
				t.Errorf("compression = %s, want %s", c, tc.compression)
			}
			files, _, problems, err := collect(t, tc.blob, tc.mediaType, Limits{}, want)
			if err != nil || len(problems) > 0 {
				t.Fatal(err, problems)
			}
			if len(files) != 2 || files["etc/os-release"] != "ID=debian\n" || files["usr/lib/os-release"] != "ID=ubuntu\n" {
				t.Errorf("files = %q", files)
			}
		})
	}
}

func TestWalkLayerRejectsNonLayers(t *testing.T) {
	_, _, err := OpenLayer(strings.NewReader("SIF_MAGIC"), MediaTypeSIFLayer, Limits{})
	if !errors.Is(err, ErrNotLayer) {
		t.Fatalf("err = %v, want ErrNotLayer", err)
	}
}

func TestWalkLayerBrokenStreams(t *testing.T) {
	raw := testlayers.Tar(t, testlayers.File("a", strings.Repeat("a", 2000)))
	gz := testlayers.Gzip(t, raw)
	for name, blob := range map[string][]byte{
		"truncated gzip": gz[:len(gz)/2],
		"truncated tar":  raw[:700],
		"garbage":        bytes.Repeat([]byte("not a tar "), 100),
	} {
		t.Run(name, func(t *testing.T) {
			_, _, _, err := collect(t, blob, "", Limits{}, wantAll)
			if err == nil {
				t.Fatal("broken stream walked without error")
			}
		})
	}
}

func TestWalkLayerWhiteouts(t *testing.T) {
	raw := testlayers.Tar(t,
		testlayers.File("usr/lib/python3/dist-packages/.wh.numpy-1.24.2.dist-info", ""),
		testlayers.File("opt/conda/.wh..wh..opq", ""),
		testlayers.File(".wh.etc", ""),
		testlayers.Dir("var/.wh..wh.plnk"),
		testlayers.File("tmp/.wh..", ""),
		testlayers.File("opt/conda/conda-meta/x.json", "{}"),
	)
	files, whiteouts, _, err := collect(t, raw, "", Limits{}, wantAll)
	if err != nil {
		t.Fatal(err)
	}
	want := []Whiteout{
		{Path: "usr/lib/python3/dist-packages/numpy-1.24.2.dist-info"},
		{Path: "opt/conda", Opaque: true},
		{Path: "etc"},
	}
	if len(whiteouts) != len(want) {
		t.Fatalf("whiteouts = %+v, want %+v", whiteouts, want)
	}
	for i := range want {
		if whiteouts[i] != want[i] {
			t.Errorf("whiteout %d = %+v, want %+v", i, whiteouts[i], want[i])
		}
	}
	if _, ok := files["var/.wh..wh.plnk"]; ok {
		t.Error("aufs metadata passed as content")
	}
	if files["opt/conda/conda-meta/x.json"] != "{}" || files["tmp/.wh.."] != "" {
		t.Errorf("files = %q", files)
	}
}

func TestWalkLayerPaths(t *testing.T) {
	raw := testlayers.Tar(t,
		testlayers.File("../../etc/passwd", "root"),
		testlayers.File("a/../../escape", "x"),
		testlayers.Dir("./"),
		testlayers.File("usr//lib/../lib/os-release", "ID=x"),
		testlayers.Hardlink("etc/hard", "./usr/lib/os-release"),
		testlayers.Symlink("etc/os-release", "../usr/lib/os-release"),
	)
	files, _, problems, err := collect(t, raw, "", Limits{}, wantAll)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 2 || !strings.Contains(problems[0], "../../etc/passwd") || !strings.Contains(problems[1], "leaves the image root") {
		t.Errorf("problems = %q", problems)
	}
	want := map[string]string{
		"usr/lib/os-release": "ID=x",
		"etc/hard":           "usr/lib/os-release",
		"etc/os-release":     "../usr/lib/os-release",
	}
	if len(files) != len(want) {
		t.Fatalf("files = %q", files)
	}
	for k, v := range want {
		if files[k] != v {
			t.Errorf("%s = %q, want %q", k, files[k], v)
		}
	}
}

func TestCleanLayerPath(t *testing.T) {
	for in, want := range map[string]string{
		"/etc/os-release": "etc/os-release", "./a/b/": "a/b", "a/./b/../c": "a/c",
		"/": "", ".": "", "//x": "x", "a/..": "",
	} {
		if got, ok := CleanLayerPath(in); !ok || got != want {
			t.Errorf("CleanLayerPath(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"..", "../x", "a/../../x", "./../x"} {
		if _, ok := CleanLayerPath(in); ok {
			t.Errorf("CleanLayerPath(%q) accepted", in)
		}
	}
}

func TestWalkLayerFileLimit(t *testing.T) {
	raw := testlayers.Tar(t,
		testlayers.File("big/METADATA", strings.Repeat("x", 1000)),
		testlayers.File("small/METADATA", "Name: ok"),
	)
	files, _, problems, err := collect(t, raw, "", Limits{MaxFileBytes: 100}, wantAll)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files["small/METADATA"] != "Name: ok" {
		t.Errorf("files = %q", files)
	}
	if len(problems) != 1 || !strings.Contains(problems[0], "big/METADATA: file exceeds the limit of 100 file bytes (tar header claims 1000 bytes)") {
		t.Errorf("problems = %q", problems)
	}
}

func TestWalkLayerEntryLimit(t *testing.T) {
	var files []testlayers.Entry
	for range 10 {
		files = append(files, testlayers.Dir("d"))
	}
	_, _, _, err := collect(t, testlayers.Tar(t, files...), "", Limits{MaxEntries: 5}, nil)
	var le *LimitError
	if !errors.As(err, &le) || le.Limit != LimitEntries || le.Max != 5 {
		t.Fatalf("err = %v, want an entries LimitError", err)
	}
}

// absurdHeader is a tar stream whose single header claims a 1 TiB file that
// is not there: the walker must refuse it from the header alone.
func absurdHeader(t *testing.T) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "var/lib/dpkg/status", Typeflag: tar.TypeReg, Size: 1 << 40}); err != nil {
		t.Fatal(err)
	}
	buf.WriteString("Package: x\n") // the writer is abandoned: no body, no trailer
	return buf.Bytes()
}

func TestWalkLayerAbsurdHeaderSize(t *testing.T) {
	for _, want := range []func(string) bool{nil, wantAll} {
		_, _, _, err := collect(t, absurdHeader(t), "", Limits{}, want)
		var le *LimitError
		if !errors.As(err, &le) || le.Limit != LimitLayerBytes || le.Claimed != 1<<40 {
			t.Fatalf("err = %v, want a layer-bytes LimitError claiming 1 TiB", err)
		}
	}
}

// bomb is a tar holding one file of n zero bytes: a few KB compressed.
func bomb(t *testing.T, n int64, compress func(testing.TB, []byte) []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "zeros", Typeflag: tar.TypeReg, Size: n})
	if _, err := io.CopyN(tw, testlayers.Zeros{}, n); err != nil {
		t.Fatal(err)
	}
	tw.Close()
	return compress(t, buf.Bytes())
}

func TestCompressionBombs(t *testing.T) {
	const size = 64 << 20
	const limit = 2 << 20
	for name, compress := range map[string]func(testing.TB, []byte) []byte{"gzip": testlayers.Gzip, "zstd": testlayers.Zstd} {
		t.Run(name, func(t *testing.T) {
			blob := bomb(t, size, compress)
			if len(blob) > size/500 {
				t.Fatalf("bomb is %d bytes, not a bomb", len(blob))
			}
			heapBefore := totalAlloc()
			// Read the stream itself: the decompression cap, not the header check.
			rc, _, err := OpenLayer(bytes.NewReader(blob), "", Limits{MaxLayerBytes: limit})
			if err != nil {
				t.Fatal(err)
			}
			n, err := io.Copy(io.Discard, rc)
			rc.Close()
			var le *LimitError
			if !errors.As(err, &le) || le.Limit != LimitLayerBytes || n != limit {
				t.Fatalf("read %d bytes, err = %v; want %d bytes and a LimitError", n, err, limit)
			}
			// Walking stops at the header, which claims more than the limit.
			if _, _, _, err := collect(t, blob, "", Limits{MaxLayerBytes: limit}, wantAll); !errors.As(err, &le) {
				t.Fatalf("walk err = %v, want a LimitError", err)
			}
			if grew := totalAlloc() - heapBefore; grew > 64<<20 {
				t.Errorf("allocated %d MiB while reading a bomb capped at %d MiB", grew>>20, limit>>20)
			}
		})
	}
}

func totalAlloc() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

func TestCappedReaderExactLimit(t *testing.T) {
	raw := bytes.Repeat([]byte("y"), 1024)
	rc, _, err := OpenLayer(bytes.NewReader(testlayers.Gzip(t, raw)), "", Limits{MaxLayerBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	if err != nil || len(got) != 1024 {
		t.Fatalf("a stream exactly at the limit: %d bytes, err %v", len(got), err)
	}
}

func TestIsLayerMediaType(t *testing.T) {
	for mt, want := range map[string]bool{
		"": true, v1.MediaTypeImageLayerZstd: true, "application/vnd.docker.image.rootfs.diff.tar.gzip": true,
		v1.MediaTypeImageLayerNonDistributableGzip: true, //nolint:staticcheck
		MediaTypeSIFLayer:                          false, v1.MediaTypeImageConfig: false, "application/vnd.cncf.helm.chart.content.v1.tar+gzip": false,
	} {
		if got := IsLayerMediaType(mt); got != want {
			t.Errorf("IsLayerMediaType(%q) = %v, want %v", mt, got, want)
		}
	}
}
