// Package cas is the node's content-addressed blob store: every blob is
// kept once by digest however many images share it, is verified against
// its digest before it becomes visible, and is downloaded under a
// per-digest lock so that several stagers sharing the directory fetch it
// once. An interrupted download stays as a partial file and resumes from
// its length.
package cas

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/opencontainers/go-digest"

	"github.com/oyster-registry/oyster/internal/atomicfile"
	"github.com/oyster-registry/oyster/stager/lock"
	"github.com/oyster-registry/oyster/stager/retry"
)

// ErrDigestMismatch marks a blob whose bytes do not hash to its digest.
var ErrDigestMismatch = errors.New("blob bytes do not match the digest")

// ErrTooLarge marks a blob sending more bytes than its descriptor says.
var ErrTooLarge = errors.New("blob is larger than its descriptor says")

// Store is a blob directory with its partial downloads and locks.
type Store struct {
	root  string
	locks lock.Dir
}

// Open makes (if needed) and opens the store rooted at root.
func Open(root string, locks lock.Dir) (*Store, error) {
	for _, d := range []string{"sha256", "partial"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return nil, err
		}
	}
	return &Store{root: root, locks: locks}, nil
}

// Path is where blob d lives once fetched.
func (s *Store) Path(d digest.Digest) string {
	return filepath.Join(s.root, d.Algorithm().String(), d.Encoded())
}

func (s *Store) partialPath(d digest.Digest) string {
	return filepath.Join(s.root, "partial", d.Algorithm().String()+"-"+d.Encoded())
}

// Has reports whether blob d is in the store.
func (s *Store) Has(d digest.Digest) bool {
	_, err := os.Stat(s.Path(d))
	return err == nil
}

// Source opens a blob's bytes from offset.
type Source func(ctx context.Context, offset int64) (io.ReadCloser, error)

// Fetch makes sure blob d of size bytes is in the store, downloading what
// is missing from src, resuming a partial download, retrying by policy.
// fetched counts the bytes this call downloaded (0 when another process or
// an earlier run already had them).
func (s *Store) Fetch(ctx context.Context, d digest.Digest, size int64, src Source, policy retry.Policy) (fetched int64, err error) {
	if err := d.Validate(); err != nil {
		return 0, fmt.Errorf("blob %q: %w", d, err)
	}
	if s.Has(d) {
		return 0, nil
	}
	l, err := s.locks.Exclusive(ctx, "blob-"+d.Encoded())
	if err != nil {
		return 0, err
	}
	defer l.Unlock()
	if s.Has(d) { // another holder fetched it while we waited
		return 0, nil
	}
	dl, err := s.resume(d, size)
	if err != nil {
		return 0, err
	}
	defer dl.f.Close()
	err = retry.Do(ctx, policy, func() error { return dl.copyFrom(ctx, src) })
	fetched = dl.fetched
	if err == nil {
		err = dl.verify()
	}
	if errors.Is(err, ErrDigestMismatch) || errors.Is(err, ErrTooLarge) || errors.Is(err, syscall.ENOSPC) {
		os.Remove(dl.f.Name()) // bad bytes are never resumed from; a full disk gets its space back
		return fetched, fmt.Errorf("blob %s: %w", d, err)
	}
	if err != nil {
		return fetched, fmt.Errorf("blob %s: %w", d, err)
	}
	return fetched, s.publish(dl.f, s.Path(d))
}

// Put stores bytes already in memory (a manifest) under digest d, after
// checking them.
func (s *Store) Put(d digest.Digest, data []byte) error {
	if digest.FromBytes(data) != d {
		return fmt.Errorf("blob %s: %w", d, ErrDigestMismatch)
	}
	if s.Has(d) {
		return nil
	}
	f, err := os.CreateTemp(filepath.Join(s.root, "partial"), ".put-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after a successful rename, a no-op
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		return err
	}
	return s.publish(f, s.Path(d))
}

// download is one blob's partial file and the hash of what it holds.
type download struct {
	d       digest.Digest
	size    int64
	f       *os.File
	h       hash.Hash
	have    int64
	fetched int64
}

// resume opens the partial file and hashes what an earlier try left.
func (s *Store) resume(d digest.Digest, size int64) (*download, error) {
	if !d.Algorithm().Available() {
		return nil, fmt.Errorf("blob %s: digest algorithm not supported", d)
	}
	f, err := os.OpenFile(s.partialPath(d), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	dl := &download{d: d, size: size, f: f, h: d.Algorithm().Hash()}
	n, err := io.Copy(dl.h, f)
	if err == nil && n > size {
		err = f.Truncate(0)
		dl.h.Reset()
		n = 0
	}
	if err == nil {
		_, err = f.Seek(n, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	dl.have = n
	return dl, nil
}

// copyFrom appends the rest of the blob; a failure leaves what arrived
// in place for the next try.
func (dl *download) copyFrom(ctx context.Context, src Source) error {
	if dl.have == dl.size {
		return nil
	}
	r, err := src(ctx, dl.have)
	if err != nil {
		return err
	}
	defer r.Close()
	n, err := io.Copy(permanentWrites{io.MultiWriter(dl.f, dl.h)}, io.LimitReader(r, dl.size-dl.have+1))
	dl.have += n
	dl.fetched += n
	switch {
	case dl.have > dl.size:
		return retry.Permanent(ErrTooLarge)
	case err != nil:
		return err
	case dl.have < dl.size:
		return fmt.Errorf("connection closed after %d of %d bytes", dl.have, dl.size)
	}
	return nil
}

// permanentWrites marks write errors (a full disk) as not worth a retry;
// read errors from the network stay retryable.
type permanentWrites struct{ w io.Writer }

func (p permanentWrites) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	if err != nil {
		return n, retry.Permanent(fmt.Errorf("writing: %w", err))
	}
	return n, nil
}

func (dl *download) verify() error {
	if got := digest.NewDigest(dl.d.Algorithm(), dl.h); got != dl.d {
		return fmt.Errorf("%w: got %s", ErrDigestMismatch, got)
	}
	return nil
}

// publish fsyncs a finished file and renames it to its final name, so a
// crash never leaves a torn file there.
func (s *Store) publish(f *os.File, final string) error {
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Chmod(0o444); err != nil { // hard-linked into layouts: keep it unwritable
		return err
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil { // sha512/ on first use
		return err
	}
	if err := os.Rename(f.Name(), final); err != nil {
		return err
	}
	return atomicfile.Sync(filepath.Dir(final))
}

// Remove deletes blob d, under its lock.
func (s *Store) Remove(ctx context.Context, d digest.Digest) error {
	return s.removeLocked(ctx, d, s.Path(d))
}

// DiscardPartial removes what an interrupted download of d left, under
// its lock.
func (s *Store) DiscardPartial(ctx context.Context, d digest.Digest) error {
	return s.removeLocked(ctx, d, s.partialPath(d))
}

// removeLocked removes path, one of blob d's files, under d's lock; a file
// already gone is no error.
func (s *Store) removeLocked(ctx context.Context, d digest.Digest, path string) error {
	l, err := s.locks.Exclusive(ctx, "blob-"+d.Encoded())
	if err != nil {
		return err
	}
	defer l.Unlock()
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}

// Blob is a blob in the store and its size.
type Blob struct {
	Digest digest.Digest
	Size   int64
}

// List lists the blobs in the store.
func (s *Store) List() ([]Blob, error) {
	entries, err := os.ReadDir(filepath.Join(s.root, "sha256"))
	if err != nil {
		return nil, err
	}
	var out []Blob
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		out = append(out, Blob{Digest: digest.NewDigestFromEncoded(digest.SHA256, e.Name()), Size: info.Size()})
	}
	return out, nil
}

// PartialBytes is what interrupted downloads hold on disk.
func (s *Store) PartialBytes() int64 {
	entries, _ := os.ReadDir(filepath.Join(s.root, "partial"))
	var n int64
	for _, e := range entries {
		if info, err := e.Info(); err == nil {
			n += info.Size()
		}
	}
	return n
}
