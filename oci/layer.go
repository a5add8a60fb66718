package oci

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// Compression names how a layer blob is encoded around its tar stream.
type Compression string

// The encodings a layer blob may have.
const (
	CompressionNone Compression = "none"
	CompressionGzip Compression = "gzip"
	CompressionZstd Compression = "zstd"
)

// ErrNotLayer is returned for blobs whose media type is not a tar layer
// (SIF files, artifacts pushed with oras, configs), so that callers can tell
// "nothing to read here" from a broken layer.
var ErrNotLayer = errors.New("not a tar layer")

// zstdMaxWindow bounds the memory one zstd frame may ask for. Frames made
// with `zstd --long` use at most 128 MiB; a frame asking for more is
// refused instead of allocating on an attacker's say-so.
const zstdMaxWindow = 128 << 20

var (
	magicGzip = []byte{0x1f, 0x8b}
	magicZstd = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// IsLayerMediaType reports whether a blob of this media type is a tar
// layer (plain, gzip or zstd; OCI or Docker; distributable or not). The empty
// media type counts, so that callers without a descriptor can still rely on
// magic-byte detection.
func IsLayerMediaType(mediaType string) bool {
	switch mediaType {
	case "", v1.MediaTypeImageLayer, v1.MediaTypeImageLayerGzip, v1.MediaTypeImageLayerZstd,
		v1.MediaTypeImageLayerNonDistributable,     //nolint:staticcheck // still seen in the wild
		v1.MediaTypeImageLayerNonDistributableGzip, //nolint:staticcheck
		v1.MediaTypeImageLayerNonDistributableZstd, //nolint:staticcheck
		"application/vnd.docker.image.rootfs.diff.tar",
		"application/vnd.docker.image.rootfs.diff.tar.gzip",
		"application/vnd.docker.image.rootfs.diff.tar.zstd",
		"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip":
		return true
	}
	return false
}

// OpenLayer returns the tar stream inside a layer blob. The encoding is taken
// from the magic bytes, because pushers mislabel blobs (gzip sent as plain
// tar and the reverse are both seen); the media type only decides whether the
// blob is a layer at all. The decompressed stream is capped at
// limits.MaxLayerBytes so that a compression bomb ends in a *LimitError.
func OpenLayer(blob io.Reader, mediaType string, limits Limits) (io.ReadCloser, Compression, error) {
	if !IsLayerMediaType(mediaType) {
		return nil, "", fmt.Errorf("%w: media type %q", ErrNotLayer, mediaType)
	}
	br := bufio.NewReader(blob)
	magic, _ := br.Peek(4) // a short blob is an (empty or broken) tar; tar reports it
	switch {
	case bytes.HasPrefix(magic, magicGzip):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, CompressionGzip, fmt.Errorf("gzip layer: %w", err)
		}
		return capped(zr, zr.Close, limits), CompressionGzip, nil
	case bytes.HasPrefix(magic, magicZstd):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(zstdMaxWindow))
		if err != nil {
			return nil, CompressionZstd, fmt.Errorf("zstd layer: %w", err)
		}
		return capped(zr, func() error { zr.Close(); return nil }, limits), CompressionZstd, nil
	}
	return capped(br, func() error { return nil }, limits), CompressionNone, nil
}

// cappedReader fails with a *LimitError once more than max bytes come out of
// the decompressor, which is what stops a bomb: the check is on output, not
// on the (small) input.
type cappedReader struct {
	r     io.Reader
	close func() error
	n     int64
	max   int64
}

func capped(r io.Reader, closeFn func() error, limits Limits) *cappedReader {
	return &cappedReader{r: r, close: closeFn, max: limits.LayerBytes()}
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.n >= c.max {
		// One byte more tells a stream that ends exactly at the cap from one
		// that goes on.
		var one [1]byte
		if n, _ := io.ReadFull(c.r, one[:]); n == 0 {
			return 0, io.EOF
		}
		return 0, &LimitError{Limit: LimitLayerBytes, Max: c.max}
	}
	if rest := c.max - c.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *cappedReader) Close() error { return c.close() }
