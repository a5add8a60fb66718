package squashfs

import (
	"encoding/binary"
	"fmt"
)

const (
	// blockUncompressed flags a data block or fragment stored as is.
	blockUncompressed  = 1 << 24
	blockSizeMask      = blockUncompressed - 1
	fragEntriesPerMeta = metaBlockSize / 16
)

// dataBlock decodes the block stored at pos with the given size word into
// at most want bytes. A size of zero is a sparse block of zeros. Callers
// hold f.mu.
func (f *FS) dataBlock(pos uint64, word uint32, want int) ([]byte, error) {
	stored := word & blockSizeMask
	if stored == 0 {
		if err := f.budget.charge(int64(want), 0); err != nil {
			return nil, err
		}
		return make([]byte, want), nil
	}
	return f.block(pos, word, want)
}

// block reads and, unless flagged as stored, decompresses one data or
// fragment block of at most limit bytes.
func (f *FS) block(pos uint64, word uint32, limit int) ([]byte, error) {
	stored := word & blockSizeMask
	if stored > f.sb.BlockSize {
		return nil, fmt.Errorf("%w: block at %d claims %d bytes", ErrCorrupt, pos, stored)
	}
	raw := make([]byte, stored)
	if err := f.readAt(raw, pos); err != nil {
		return nil, err
	}
	out := raw
	if word&blockUncompressed == 0 {
		out = make([]byte, limit)
		n, err := f.dec.decompress(out, raw)
		if err != nil {
			return nil, fmt.Errorf("block at %d: %w", pos, err)
		}
		out = out[:n]
	}
	if err := f.budget.charge(int64(len(out)), 0); err != nil {
		return nil, err
	}
	return out, nil
}

// fragmentTail returns the last want bytes of a file, kept with other
// files' tails in a shared fragment block. Callers hold f.mu.
func (f *FS) fragmentTail(ino *inode, want int) ([]byte, error) {
	if ino.frag == noFragment {
		return nil, fmt.Errorf("%w: file data ends before its size", ErrCorrupt)
	}
	frag, err := f.fragment(ino.frag)
	if err != nil {
		return nil, err
	}
	end := uint64(ino.fragOffset) + uint64(want)
	if end > uint64(len(frag)) {
		return nil, fmt.Errorf("%w: tail %d..%d outside fragment %d of %d bytes", ErrCorrupt, ino.fragOffset, end, ino.frag, len(frag))
	}
	return frag[ino.fragOffset:end:end], nil
}

// fragment returns a decoded fragment block, from the cache if it was
// read recently: small files that sort together share one.
func (f *FS) fragment(i uint32) ([]byte, error) {
	if b, ok := f.frags.get(i); ok {
		return b, nil
	}
	if i >= f.sb.FragCount || f.sb.FragTable >= f.sb.BytesUsed {
		return nil, fmt.Errorf("%w: fragment %d of %d", ErrCorrupt, i, f.sb.FragCount)
	}
	var ptr [8]byte
	if err := f.readAt(ptr[:], f.sb.FragTable+8*uint64(i/fragEntriesPerMeta)); err != nil {
		return nil, err
	}
	m, err := f.metaAt(binary.LittleEndian.Uint64(ptr[:]), int(i%fragEntriesPerMeta)*16)
	if err != nil {
		return nil, err
	}
	var start uint64
	var word, unused uint32
	if err := m.read(&start, &word, &unused); err != nil {
		return nil, err
	}
	b, err := f.block(start, word, int(f.sb.BlockSize))
	if err != nil {
		return nil, fmt.Errorf("fragment %d: %w", i, err)
	}
	f.frags.put(i, b)
	return b, nil
}
