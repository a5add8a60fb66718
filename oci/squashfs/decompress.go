package squashfs

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"
)

// Compressor ids of the superblock.
const (
	compGzip = 1
	compLZMA = 2
	compLZO  = 3
	compXZ   = 4
	compLZ4  = 5
	compZstd = 6
)

// errTooLong marks a block that decompresses to more than the format
// allows for it: a corrupt image or a decompression bomb.
var errTooLong = fmt.Errorf("%w: block decompresses past its size", ErrCorrupt)

// decompressor fills dst from one compressed block and returns how much it
// wrote. dst is as long as the block may be, so no call can allocate more.
type decompressor interface {
	decompress(dst, src []byte) (int, error)
}

func newDecompressor(id uint16, blockSize uint32) (decompressor, error) {
	switch id {
	case compGzip:
		return &zlibDecompressor{}, nil
	case compXZ:
		return xzDecompressor{dictCap: int(max(blockSize, metaBlockSize))}, nil
	case compLZ4:
		return lz4Decompressor{}, nil
	case compZstd:
		most := uint64(max(blockSize, metaBlockSize))
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxMemory(most), zstd.WithDecoderMaxWindow(most))
		if err != nil {
			return nil, err
		}
		return zstdDecompressor{d}, nil
	case compLZMA, compLZO:
		return nil, fmt.Errorf("%w: compressor %s", ErrUnsupported, map[uint16]string{compLZMA: "lzma", compLZO: "lzo"}[id])
	}
	return nil, fmt.Errorf("%w: unknown compressor id %d", ErrCorrupt, id)
}

// zlibDecompressor keeps one zlib state, reset per block (callers hold the
// FS lock).
type zlibDecompressor struct{ zr io.ReadCloser }

func (z *zlibDecompressor) decompress(dst, src []byte) (int, error) {
	var err error
	if z.zr == nil {
		z.zr, err = zlib.NewReader(bytes.NewReader(src))
	} else {
		err = z.zr.(zlib.Resetter).Reset(bytes.NewReader(src), nil)
	}
	if err != nil {
		return 0, fmt.Errorf("%w: gzip: %v", ErrCorrupt, err)
	}
	return fill(z.zr, dst)
}

type xzDecompressor struct{ dictCap int }

func (x xzDecompressor) decompress(dst, src []byte) (int, error) {
	r, err := xz.ReaderConfig{DictCap: x.dictCap, SingleStream: true}.NewReader(bytes.NewReader(src))
	if err != nil {
		return 0, fmt.Errorf("%w: xz: %v", ErrCorrupt, err)
	}
	return fill(r, dst)
}

// lz4Decompressor reads raw LZ4 blocks, which is what mksquashfs writes
// (not the LZ4 frame format).
type lz4Decompressor struct{}

func (lz4Decompressor) decompress(dst, src []byte) (int, error) {
	n, err := lz4.UncompressBlock(src, dst)
	if err != nil {
		return 0, fmt.Errorf("%w: lz4: %v", ErrCorrupt, err)
	}
	return n, nil
}

type zstdDecompressor struct{ d *zstd.Decoder }

func (z zstdDecompressor) decompress(dst, src []byte) (int, error) {
	out, err := z.d.DecodeAll(src, dst[:0])
	if err != nil {
		return 0, fmt.Errorf("%w: zstd: %v", ErrCorrupt, err)
	}
	if len(out) > len(dst) {
		// Only then can DecodeAll have grown a new slice; otherwise out is
		// dst's own memory.
		return 0, errTooLong
	}
	return len(out), nil
}

// fill reads r to its end into dst and fails if r holds more than dst.
func fill(r io.Reader, dst []byte) (int, error) {
	n, err := io.ReadFull(r, dst)
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return n, nil
	case err != nil:
		return n, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	var one [1]byte
	switch _, err := io.ReadFull(r, one[:]); {
	case err == nil:
		return n, errTooLong
	case err != io.EOF:
		return n, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return n, nil
}
