package squashfs

import (
	"encoding/binary"
	"fmt"
	"io"
)

// metaBlock is one decompressed metadata block and where the next starts.
type metaBlock struct {
	data []byte
	next uint64
}

// metaBlockAt returns the metadata block stored at pos (an offset in the
// image): a 16-bit header whose top bit says "stored uncompressed" and whose
// low bits give the stored size, then the data. Callers hold f.mu.
func (f *FS) metaBlockAt(pos uint64) (metaBlock, error) {
	if b, ok := f.meta.get(int64(pos)); ok {
		return b, nil
	}
	var hdr [2]byte
	if err := f.readAt(hdr[:], pos); err != nil {
		return metaBlock{}, err
	}
	h := binary.LittleEndian.Uint16(hdr[:])
	stored := int(h & 0x7FFF)
	if stored == 0 || stored > metaBlockSize {
		return metaBlock{}, fmt.Errorf("%w: metadata block at %d claims %d bytes", ErrCorrupt, pos, stored)
	}
	raw := make([]byte, stored)
	if err := f.readAt(raw, pos+2); err != nil {
		return metaBlock{}, err
	}
	b := metaBlock{data: raw, next: pos + 2 + uint64(stored)}
	if h&0x8000 == 0 {
		out := make([]byte, metaBlockSize)
		n, err := f.dec.decompress(out, raw)
		if err != nil {
			return metaBlock{}, fmt.Errorf("metadata block at %d: %w", pos, err)
		}
		if n == 0 {
			return metaBlock{}, fmt.Errorf("%w: empty metadata block at %d", ErrCorrupt, pos)
		}
		b.data = out[:n]
	}
	if err := f.budget.charge(int64(len(b.data)), 0); err != nil {
		return metaBlock{}, err
	}
	f.meta.put(int64(pos), b)
	return b, nil
}

// metaReader reads a run of metadata that may span blocks, such as an
// inode or a directory listing. Callers hold f.mu while using it.
type metaReader struct {
	f    *FS
	data []byte
	next uint64
}

// metaAt starts reading at byte off of the decompressed block stored at pos.
func (f *FS) metaAt(pos uint64, off int) (*metaReader, error) {
	b, err := f.metaBlockAt(pos)
	if err != nil {
		return nil, err
	}
	if off > len(b.data) {
		return nil, fmt.Errorf("%w: offset %d past metadata block of %d bytes at %d", ErrCorrupt, off, len(b.data), pos)
	}
	return &metaReader{f: f, data: b.data[off:], next: b.next}, nil
}

func (m *metaReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(m.data) == 0 {
			b, err := m.f.metaBlockAt(m.next)
			if err != nil {
				return n, err
			}
			m.data, m.next = b.data, b.next
		}
		c := copy(p[n:], m.data)
		m.data = m.data[c:]
		n += c
	}
	return n, nil
}

// read decodes fixed-size little-endian values.
func (m *metaReader) read(v ...any) error {
	for _, x := range v {
		if err := binary.Read(m, binary.LittleEndian, x); err != nil {
			return err
		}
	}
	return nil
}

// skip discards n bytes.
func (m *metaReader) skip(n int64) error {
	_, err := io.CopyN(io.Discard, m, n)
	return err
}

// fifoCache keeps the most recently added entries; the oldest goes first.
// Walks read metadata in order, so recency of insertion is enough.
type fifoCache[K comparable, V any] struct {
	m     map[K]V
	order []K
	next  int
}

func newFIFOCache[K comparable, V any](size int) *fifoCache[K, V] {
	return &fifoCache[K, V]{m: make(map[K]V, size), order: make([]K, 0, size)}
}

func (c *fifoCache[K, V]) get(k K) (V, bool) {
	v, ok := c.m[k]
	return v, ok
}

func (c *fifoCache[K, V]) put(k K, v V) {
	if _, ok := c.m[k]; ok {
		c.m[k] = v
		return
	}
	if len(c.order) < cap(c.order) {
		c.order = append(c.order, k)
	} else {
		delete(c.m, c.order[c.next])
		c.order[c.next] = k
		c.next = (c.next + 1) % len(c.order)
	}
	c.m[k] = v
}
