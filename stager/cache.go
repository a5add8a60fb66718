package stager

import (
	"github.com/oyster-registry/oyster/internal/atomicfile"

	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/oyster-registry/oyster/stager/evict"
	"github.com/oyster-registry/oyster/stager/format"
)

// Path returns where ref is staged in format f, staging it first if the
// cache does not have it. A staged reference is found without asking the
// registry (what a job pays at start), and gets a lease: it is not evicted
// for cfg.Lease.
func (s *Stager) Path(ctx context.Context, ref string, f format.Format) (string, error) {
	d, err := s.locate(ctx, ref, f)
	if err != nil {
		return "", err
	}
	if err := s.lease(d); err != nil {
		return "", err
	}
	return s.artifact(d, f), s.touch(d)
}

// locate finds ref in the cache, staging it if needed.
func (s *Stager) locate(ctx context.Context, ref string, f format.Format) (digest.Digest, error) {
	if d, ok := s.local(ref, f); ok {
		return d, nil
	}
	staged, err := s.Stage(ctx, ref, f)
	return staged.Digest, err
}

// local finds ref's digest in the cache if format f of it is staged.
func (s *Stager) local(ref string, f format.Format) (digest.Digest, bool) {
	r, err := s.client.ParseRef(ref)
	if err != nil {
		return "", false
	}
	d := r.Dig
	if d == "" {
		b, err := os.ReadFile(s.refPath(r))
		if err != nil {
			return "", false
		}
		if d, err = digest.Parse(string(b)); err != nil {
			return "", false
		}
	}
	_, err = os.Lstat(s.artifact(d, f))
	return d, err == nil
}

// lease keeps the image from eviction until cfg.Lease from now.
func (s *Stager) lease(d digest.Digest) error {
	return touchFile(filepath.Join(s.imageDir(d), "lease"), time.Now().Add(s.cfg.Lease))
}

// Hold stages ref in format f if needed and holds it in use, never
// evicted, until release is called: `stager exec` holds it while its
// command runs.
func (s *Stager) Hold(ctx context.Context, ref string, f format.Format) (path string, release func(), err error) {
	for try := 0; try < 2; try++ {
		d, err := s.locate(ctx, ref, f)
		if err != nil {
			return "", nil, err
		}
		l, err := s.locks.Shared(ctx, "image-"+d.Encoded())
		if err != nil {
			return "", nil, err
		}
		if _, err := os.Lstat(s.artifact(d, f)); err == nil { // not evicted before the lock
			return s.artifact(d, f), func() { l.Unlock() }, s.touch(d)
		}
		l.Unlock()
	}
	return "", nil, fmt.Errorf("%s was evicted as soon as it was staged: the quota is too small", ref)
}

// Entry is a staged image with every format it has, as `stager ls` and
// the inventory show it.
type Entry struct {
	Digest   digest.Digest   `json:"digest"`
	Repo     string          `json:"repository"`
	Refs     []string        `json:"refs"`
	Formats  []format.Format `json:"formats"`
	Bytes    int64           `json:"bytes"`
	LastUsed time.Time       `json:"last_used"`
	Leased   bool            `json:"leased"`
	Pinned   bool            `json:"pinned"`
}

// List lists the staged images, most recently used first. Bytes counts
// what evicting the image would free, blobs left to garbage collection.
func (s *Stager) List() ([]Entry, error) {
	dirs, err := os.ReadDir(filepath.Join(s.dir, "images"))
	if err != nil {
		return nil, err
	}
	pinned := s.pinned()
	var out []Entry
	for _, d := range dirs {
		e, ok := s.entry(d.Name())
		if !ok {
			continue
		}
		e.Pinned = pinned[e.Digest]
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b Entry) int { return b.LastUsed.Compare(a.LastUsed) })
	return out, nil
}

func (s *Stager) entry(hexDigest string) (Entry, bool) {
	dir := filepath.Join(s.dir, "images", hexDigest)
	var im image
	b, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	if err != nil || json.Unmarshal(b, &im) != nil {
		return Entry{}, false
	}
	e := Entry{Digest: im.Digest, Repo: im.Repo, Refs: im.Refs}
	for _, f := range format.All {
		if _, err := os.Lstat(filepath.Join(dir, f.Artifact())); err == nil {
			e.Formats = append(e.Formats, f)
		}
	}
	if len(e.Formats) == 0 {
		return Entry{}, false // being staged for the first time
	}
	if fi, err := os.Stat(filepath.Join(dir, "used")); err == nil {
		e.LastUsed = fi.ModTime()
	}
	if fi, err := os.Stat(filepath.Join(dir, "lease")); err == nil {
		e.Leased = fi.ModTime().After(time.Now())
	}
	e.Bytes = ownBytes(dir)
	return e, true
}

// ownBytes sums the files under dir not hard-linked elsewhere (blobs of
// an OCI layout are the store's).
func ownBytes(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); !ok || st.Nlink == 1 {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// pinned are the digests of the config's pins (as last resolved here)
// and of the registry's staging list (pins.json, written by the daemon).
func (s *Stager) pinned() map[digest.Digest]bool {
	out := map[digest.Digest]bool{}
	var fromList []digest.Digest
	if b, err := os.ReadFile(filepath.Join(s.dir, "pins.json")); err == nil {
		json.Unmarshal(b, &fromList)
	}
	for _, d := range fromList {
		out[d] = true
	}
	for _, ref := range s.cfg.Pins {
		for _, f := range format.All {
			if d, ok := s.local(ref, f); ok {
				out[d] = true
				break
			}
		}
	}
	return out
}

// setPinned records the digests the registry pins.
func (s *Stager) setPinned(ds []digest.Digest) error {
	b, err := json.Marshal(ds)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(s.dir, "pins.json"), b, 0o644)
}

// GCReport says what a collection freed.
type GCReport struct {
	Evicted     []Entry `json:"evicted"`
	Blobs       int     `json:"blobs_removed"`
	FreedBytes  int64   `json:"freed_bytes"`
	UsageBytes  int64   `json:"usage_bytes"`
	QuotaBytes  int64   `json:"quota_bytes"`
	HighBytes   int64   `json:"high_bytes"`
	LowBytes    int64   `json:"low_bytes"`
	PartialLeft int64   `json:"partial_bytes"`
}

// GC evicts least recently used images while usage is past the high
// watermark (down to the low one), never pinned, leased or held ones,
// then removes blobs no staged image lists and what killed conversions
// left. Partial downloads stay, to be resumed. It waits for stagings in
// progress to finish and holds new ones off while it runs.
func (s *Stager) GC(ctx context.Context) (GCReport, error) {
	gc, err := s.locks.Exclusive(ctx, "gc")
	if err != nil {
		return GCReport{}, err
	}
	defer gc.Unlock()
	entries, err := s.List()
	if err != nil {
		return GCReport{}, err
	}
	rep := GCReport{QuotaBytes: s.quota()}
	rep.HighBytes = rep.QuotaBytes * s.cfg.Quota.HighPercent / 100
	rep.LowBytes = rep.QuotaBytes * s.cfg.Quota.LowPercent / 100
	usage := s.usage()
	items := make([]evict.Item, len(entries))
	for i, e := range entries {
		items[i] = evict.Item{Key: e.Digest.Encoded(), Bytes: e.Bytes, LastUsed: e.LastUsed, Pinned: e.Pinned, Leased: e.Leased}
	}
	for _, it := range evict.Select(items, usage, evict.Watermarks{High: rep.HighBytes, Low: rep.LowBytes}) {
		held, ok, err := s.locks.TryExclusive("image-" + it.Key)
		if err != nil || !ok {
			continue // in use by `stager exec`: not evicted
		}
		err = os.RemoveAll(filepath.Join(s.dir, "images", it.Key))
		held.Unlock()
		if err != nil {
			return rep, err
		}
		s.metrics.evicted.Inc()
		i := slices.IndexFunc(entries, func(e Entry) bool { return e.Digest.Encoded() == it.Key })
		rep.Evicted = append(rep.Evicted, entries[i])
	}
	if err := s.collectBlobs(ctx, &rep); err != nil {
		return rep, err
	}
	// No staging runs while gc is held: whatever tmp/ holds is what killed
	// conversions left.
	leftovers, _ := filepath.Glob(filepath.Join(s.dir, "tmp", "*"))
	for _, p := range leftovers {
		if err := os.RemoveAll(p); err != nil {
			return rep, err
		}
	}
	rep.UsageBytes = s.usage()
	rep.FreedBytes = max(usage-rep.UsageBytes, 0)
	rep.PartialLeft = s.blobs.PartialBytes()
	s.metrics.usage.Set(float64(rep.UsageBytes))
	return rep, nil
}

// collectBlobs removes blobs no image directory's meta.json lists.
func (s *Stager) collectBlobs(ctx context.Context, rep *GCReport) error {
	used := map[digest.Digest]bool{}
	dirs, err := os.ReadDir(filepath.Join(s.dir, "images"))
	if err != nil {
		return err
	}
	for _, d := range dirs {
		var im image
		if b, err := os.ReadFile(filepath.Join(s.dir, "images", d.Name(), "meta.json")); err == nil && json.Unmarshal(b, &im) == nil {
			used[im.Digest] = true
			for _, b := range im.blobs() {
				used[b.Digest] = true
			}
		}
	}
	blobs, err := s.blobs.List()
	if err != nil {
		return err
	}
	for _, b := range blobs {
		if !used[b.Digest] {
			if err := s.blobs.Remove(ctx, b.Digest); err != nil {
				return err
			}
			rep.Blobs++
		}
	}
	return nil
}

// quota is cfg.Quota.MaxBytes, or the size of the cache's filesystem.
func (s *Stager) quota() int64 {
	if s.cfg.Quota.MaxBytes > 0 {
		return s.cfg.Quota.MaxBytes
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(s.dir, &st); err != nil {
		return 0
	}
	return int64(st.Blocks) * st.Bsize
}

// usage is the bytes under the cache directory, each hard-linked file
// once.
func (s *Stager) usage() int64 {
	seen := map[uint64]bool{}
	var n int64
	filepath.WalkDir(s.dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			if seen[st.Ino] {
				return nil
			}
			seen[st.Ino] = true
		}
		n += fi.Size()
		return nil
	})
	return n
}

// Status is what `stager status` prints and the inventory reports.
type Status struct {
	Node       string  `json:"node"`
	Cluster    string  `json:"cluster"`
	Registry   string  `json:"registry"`
	Cache      string  `json:"cache"`
	Images     []Entry `json:"images"`
	UsageBytes int64   `json:"usage_bytes"`
	QuotaBytes int64   `json:"quota_bytes"`
	// PartialBytes are interrupted downloads waiting to resume.
	PartialBytes int64 `json:"partial_bytes"`
}

// Status reports the cache.
func (s *Stager) Status() (Status, error) {
	entries, err := s.List()
	if err != nil {
		return Status{}, err
	}
	return Status{Node: s.cfg.Node, Cluster: s.cfg.Cluster, Registry: s.client.Host(), Cache: s.dir, Images: entries,
		UsageBytes: s.usage(), QuotaBytes: s.quota(), PartialBytes: s.blobs.PartialBytes()}, nil
}
