// Package stager puts images from an Oyster registry onto a node's local
// disk before jobs need them, in the formats HPC runtimes use. Blobs go
// into one content-addressed store (stager/cas); each image is converted
// once per format (stager/format) under per-digest locks (stager/lock) and
// published by rename; least recently used images are evicted past a
// quota (stager/evict). The daemon (Serve) follows the registry's staging
// list; the CLI (cmd/stager) calls Stage and Path directly.
//
// The cache directory:
//
//	blobs/sha256/<hex>     verified blobs; blobs/partial/ holds resumable downloads
//	images/<hex>/          one per manifest digest: meta.json, used, lease,
//	                       and the formats: oci/, rootfs/, image.squashfs, image.sif
//	refs/<hash of ref>     the digest a reference last resolved to
//	tmp/                   conversions in progress, never visible under images/
//	locks/                 flock files
//	pins.json              digests the registry's staging list pins
package stager

import (
	"github.com/oyster-registry/oyster/internal/atomicfile"

	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"

	"github.com/oyster-registry/oyster/oci"
	"github.com/oyster-registry/oyster/stager/cas"
	"github.com/oyster-registry/oyster/stager/config"
	"github.com/oyster-registry/oyster/stager/format"
	"github.com/oyster-registry/oyster/stager/lock"
	"github.com/oyster-registry/oyster/stager/remote"
	"github.com/oyster-registry/oyster/stager/retry"
)

// Stager stages images from one registry into one cache directory.
type Stager struct {
	cfg     config.Config
	client  *remote.Client
	blobs   *cas.Store
	locks   lock.Dir
	dir     string
	retry   retry.Policy
	limits  oci.Limits
	log     *slog.Logger
	metrics *metrics
	// Progress, when set, receives download progress (a bar on a terminal).
	Progress io.Writer
}

// New opens the cache directory and the registry client.
func New(cfg config.Config, log *slog.Logger) (*Stager, error) {
	client, err := remote.New(remote.Options{URL: cfg.Registry.URL, Insecure: cfg.Registry.Insecure,
		Username: cfg.Registry.Username, Password: cfg.Registry.Password, BandwidthBytes: cfg.Bandwidth})
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(cfg.Cache)
	if err != nil {
		return nil, err
	}
	for _, d := range []string{"images", "refs", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, fmt.Errorf("cache directory: %w", err)
		}
	}
	locks := lock.Dir(filepath.Join(dir, "locks"))
	blobs, err := cas.Open(filepath.Join(dir, "blobs"), locks)
	if err != nil {
		return nil, fmt.Errorf("cache directory: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Stager{cfg: cfg, client: client, blobs: blobs, locks: locks, dir: dir, retry: retry.Default,
		limits: oci.Limits{MaxLayerBytes: cfg.MaxLayerBytes}, log: log, metrics: newMetrics()}, nil
}

// Staged is an image staged in one format.
type Staged struct {
	Ref    string        `json:"ref"`
	Digest digest.Digest `json:"digest"`
	Format format.Format `json:"format"`
	Path   string        `json:"path"`
}

func (s *Stager) imageDir(d digest.Digest) string { return filepath.Join(s.dir, "images", d.Encoded()) }

func (s *Stager) artifact(d digest.Digest, f format.Format) string {
	return filepath.Join(s.imageDir(d), f.Artifact())
}

// Stage makes ref available in format f, downloading and converting only
// what the cache lacks, and returns where it is.
func (s *Stager) Stage(ctx context.Context, ref string, f format.Format) (Staged, error) {
	r, err := s.client.ParseRef(ref)
	if err != nil {
		return Staged{}, err
	}
	im, err := s.resolve(ctx, r)
	if err != nil {
		return Staged{}, err
	}
	staged := Staged{Ref: r.String(), Digest: im.Digest, Format: f, Path: s.artifact(im.Digest, f)}
	err = s.stage(ctx, im, f)
	s.metrics.staged.WithLabelValues(string(f), result(err)).Inc()
	if err != nil {
		if imageFault(err) {
			s.discard(ctx, im)
		}
		return Staged{}, fmt.Errorf("staging %s as %s: %w", r, f, err)
	}
	if err := s.remember(r, im.Digest); err != nil {
		return Staged{}, err
	}
	if r.Tag != "" && r.Dig != "" { // repo:tag@digest: `stager path repo:tag` finds it too
		if err := s.remember(remote.Ref{Repo: r.Repo, Tag: r.Tag}, im.Digest); err != nil {
			return Staged{}, err
		}
	}
	return staged, s.touch(im.Digest)
}

// imageFault reports a failure that retrying cannot fix: bad bytes, a
// malicious or oversized layer, a full disk.
func imageFault(err error) bool {
	var le *oci.LimitError
	return errors.Is(err, format.ErrUnsafeLayer) || errors.As(err, &le) || errors.Is(err, cas.ErrDigestMismatch) ||
		errors.Is(err, cas.ErrTooLarge) || errors.Is(err, syscall.ENOSPC)
}

// discard removes what a staging that failed for good left: the image's
// directory if no format of it is staged, and blobs no image lists. It
// waits for other stagings (the gc lock), so that it takes no blob one of
// them is using. Interrupted stagings are not discarded: their blobs are
// what a resume needs.
func (s *Stager) discard(ctx context.Context, im *image) {
	gc, err := s.locks.Exclusive(ctx, "gc")
	if err != nil {
		return
	}
	defer gc.Unlock()
	if e, _ := s.entry(im.Digest.Encoded()); len(e.Formats) == 0 {
		os.RemoveAll(s.imageDir(im.Digest))
	}
	if err := s.collectBlobs(ctx, &GCReport{}); err != nil {
		s.log.Warn("discarding a failed staging", "image", im.Digest, "err", err)
	}
}

func result(err error) string {
	if err != nil {
		return "error"
	}
	return "ok"
}

// stage builds one format of a resolved image under its locks: a shared
// lock on the image (eviction leaves it alone meanwhile) and an exclusive
// one on the conversion (so it happens once across processes).
func (s *Stager) stage(ctx context.Context, im *image, f format.Format) error {
	gc, err := s.locks.Shared(ctx, "gc")
	if err != nil {
		return err
	}
	defer gc.Unlock()
	inUse, err := s.locks.Shared(ctx, "image-"+im.Digest.Encoded())
	if err != nil {
		return err
	}
	defer inUse.Unlock()
	conv, err := s.locks.Exclusive(ctx, "convert-"+im.Digest.Encoded()+"-"+string(f))
	if err != nil {
		return err
	}
	defer conv.Unlock()
	final := s.artifact(im.Digest, f)
	if _, err := os.Lstat(final); err == nil {
		return nil // staged before, by us or another stager
	}
	if err := s.writeMeta(im); err != nil {
		return err
	}
	tmpPrefix := im.Digest.Encoded() + "-" + string(f) + "-"
	s.removeLeftovers(tmpPrefix) // a crashed run's; we hold its lock now
	if err := s.fetch(ctx, im); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Join(s.dir, "tmp"), tmpPrefix)
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	built, err := s.convert(im, f, tmp)
	if err != nil {
		return err
	}
	if err := syncTree(built); err != nil {
		return err
	}
	if err := os.Rename(built, final); err != nil {
		return err
	}
	return atomicfile.Sync(filepath.Dir(final))
}

// removeLeftovers deletes temporary conversions of a crashed run.
func (s *Stager) removeLeftovers(prefix string) {
	matches, _ := filepath.Glob(filepath.Join(s.dir, "tmp", prefix+"*"))
	for _, m := range matches {
		os.RemoveAll(m)
	}
}

// writeMeta records the image once; blob garbage collection reads it.
func (s *Stager) writeMeta(im *image) error {
	dir := s.imageDir(im.Digest)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	p := filepath.Join(dir, "meta.json")
	var old image
	if b, err := os.ReadFile(p); err == nil && json.Unmarshal(b, &old) == nil {
		for _, r := range old.Refs {
			if r != im.Refs[0] {
				im.Refs = append(im.Refs, r)
			}
		}
	}
	b, err := json.Marshal(im)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(p, b, 0o644)
}

// remember records the digest ref resolved to, for `stager path` to find
// it without asking the registry.
func (s *Stager) remember(r remote.Ref, d digest.Digest) error {
	return atomicfile.WriteFile(s.refPath(r), []byte(d.String()), 0o644)
}

func (s *Stager) refPath(r remote.Ref) string {
	sum := sha256.Sum256([]byte(r.String()))
	return filepath.Join(s.dir, "refs", hex.EncodeToString(sum[:]))
}

// touch marks the image used now, for least-recently-used eviction.
func (s *Stager) touch(d digest.Digest) error {
	return touchFile(filepath.Join(s.imageDir(d), "used"), time.Now())
}

// touchFile sets a marker file's modification time, making it if needed.
func touchFile(p string, t time.Time) error {
	if err := os.Chtimes(p, t, t); err == nil {
		return nil
	}
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		return err
	}
	return os.Chtimes(p, t, t)
}

// syncTree makes everything under root durable before it is published.
// A file or a small tree is fsynced file by file, skipping blobs
// hard-linked from the store (durable already); a big tree (a root
// filesystem) gets one syncfs of its filesystem instead of thousands of
// fsyncs.
func syncTree(root string) error {
	var files []string
	tooMany := errors.New("too many files")
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && !d.Type().IsRegular() {
			return nil
		}
		if fi, err := d.Info(); err == nil && !d.IsDir() {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Nlink > 1 {
				return nil
			}
		}
		if files = append(files, p); len(files) > maxFsyncs {
			return tooMany
		}
		return nil
	})
	if errors.Is(err, tooMany) {
		return syncFS(root)
	}
	if err != nil {
		return err
	}
	for _, p := range files {
		if err := atomicfile.Sync(p); err != nil {
			return err
		}
	}
	return nil
}

// maxFsyncs is where a file-by-file sync gives way to syncfs.
const maxFsyncs = 256

func syncFS(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Syncfs(int(f.Fd()))
}

func readCapped(p string, most int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, most+1))
	if err == nil && int64(len(b)) > most {
		err = fmt.Errorf("%s is over %d bytes", p, most)
	}
	return b, err
}
