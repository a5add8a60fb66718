package cas

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/oyster-registry/oyster/stager/lock"
	"github.com/oyster-registry/oyster/stager/retry"
)

var fast = retry.Policy{Attempts: 3, Base: time.Millisecond, Max: time.Millisecond}

func open(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(filepath.Join(dir, "blobs"), lock.Dir(filepath.Join(dir, "locks")))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// source serves data from the offset asked, counting bytes served; cut
// makes the first read stop short, as a dropped connection does.
type source struct {
	data   []byte
	cut    int
	served atomic.Int64
	opens  atomic.Int64
}

func (s *source) open(_ context.Context, offset int64) (io.ReadCloser, error) {
	s.opens.Add(1)
	b := s.data[offset:]
	if s.cut > 0 {
		b, s.cut = b[:s.cut], 0
	}
	s.served.Add(int64(len(b)))
	return io.NopCloser(bytes.NewReader(b)), nil
}

func TestFetchResumesAfterCut(t *testing.T) {
	data := bytes.Repeat([]byte("oyster"), 10000)
	d := digest.FromBytes(data)
	src := &source{data: data, cut: 1000}
	s := open(t, t.TempDir())
	fetched, err := s.Fetch(context.Background(), d, int64(len(data)), src.open, fast)
	if err != nil {
		t.Fatal(err)
	}
	if fetched != int64(len(data)) || src.served.Load() != int64(len(data)) || src.opens.Load() != 2 {
		t.Errorf("fetched %d, served %d in %d requests; want every byte once in 2", fetched, src.served.Load(), src.opens.Load())
	}
	got, _ := os.ReadFile(s.Path(d))
	if !bytes.Equal(got, data) {
		t.Error("stored bytes differ")
	}
	if again, err := s.Fetch(context.Background(), d, int64(len(data)), src.open, fast); err != nil || again != 0 {
		t.Errorf("second Fetch downloaded %d bytes (%v)", again, err)
	}
}

// TestFetchResumesPartialFile: a partial file left by a killed process is
// continued from its length.
func TestFetchResumesPartialFile(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 5000)
	d := digest.FromBytes(data)
	dir := t.TempDir()
	s := open(t, dir)
	must(t, os.WriteFile(s.partialPath(d), data[:12345], 0o644))
	src := &source{data: data}
	if _, err := s.Fetch(context.Background(), d, int64(len(data)), src.open, fast); err != nil {
		t.Fatal(err)
	}
	if src.served.Load() != int64(len(data)-12345) {
		t.Errorf("served %d bytes, want only the %d missing", src.served.Load(), len(data)-12345)
	}
}

func TestFetchRefusesBadBytes(t *testing.T) {
	data := []byte("the bytes the registry sends")
	for name, c := range map[string]struct {
		d    digest.Digest
		size int64
		want error
	}{
		"digest mismatch": {digest.FromString("other bytes"), int64(len(data)), ErrDigestMismatch},
		"too large":       {digest.FromBytes(data), int64(len(data)) - 5, ErrTooLarge},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			s := open(t, dir)
			src := &source{data: data}
			_, err := s.Fetch(context.Background(), c.d, c.size, src.open, fast)
			if !errors.Is(err, c.want) {
				t.Fatalf("Fetch: %v, want %v", err, c.want)
			}
			if s.Has(c.d) || s.PartialBytes() != 0 {
				t.Errorf("left behind: has=%v partial=%d", s.Has(c.d), s.PartialBytes())
			}
		})
	}
}

// TestConcurrentFetchOnce: two stores on one directory (two processes)
// fetching the same blob download it once.
func TestConcurrentFetchOnce(t *testing.T) {
	data := bytes.Repeat([]byte("shared layer "), 100000)
	d := digest.FromBytes(data)
	dir := t.TempDir()
	src := &source{data: data}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := open(t, dir).Fetch(context.Background(), d, int64(len(data)), src.open, fast); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if src.served.Load() != int64(len(data)) {
		t.Errorf("served %d bytes for a %d byte blob", src.served.Load(), len(data))
	}
}

func TestPutChecksDigest(t *testing.T) {
	s := open(t, t.TempDir())
	if err := s.Put(digest.FromString("a"), []byte("b")); !errors.Is(err, ErrDigestMismatch) {
		t.Errorf("Put of wrong bytes: %v", err)
	}
	if entries, _ := s.List(); len(entries) != 0 {
		t.Errorf("stored %v", entries)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
