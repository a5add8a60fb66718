package stager

import (
	"context"
	"io"
	"sync"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/oyster-registry/oyster/progress"
	"github.com/oyster-registry/oyster/stager/format"
	"github.com/oyster-registry/oyster/stager/remote"
)

// fetch downloads the image's blobs that the store lacks, at most
// cfg.Concurrency at once, and returns the first error.
func (s *Stager) fetch(ctx context.Context, im *image) error {
	var missing []v1.Descriptor
	var total int64
	for _, d := range im.blobs() {
		if !s.blobs.Has(d.Digest) {
			missing = append(missing, d)
			total += d.Size
		}
	}
	if len(missing) == 0 {
		return nil
	}
	bar := s.newProgress("pulling "+im.Repo, total)
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, s.cfg.Concurrency)
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	for _, d := range missing {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			if err := s.fetchBlob(ctx, im.Repo, d, bar); err != nil {
				once.Do(func() { firstErr = err; cancel() })
			}
		}()
	}
	wg.Wait()
	if firstErr == nil {
		return parent.Err()
	}
	if parent.Err() == nil {
		// The image is bad (a blob failed for good): what its other
		// downloads left is no use to a resume.
		for _, d := range missing {
			s.blobs.DiscardPartial(parent, d.Digest)
		}
	}
	return firstErr
}

func (s *Stager) fetchBlob(ctx context.Context, repo string, d v1.Descriptor, bar *byteProgress) error {
	src := func(ctx context.Context, offset int64) (io.ReadCloser, error) {
		r, err := s.client.Blob(ctx, repo, d.Digest, offset)
		if err != nil {
			return nil, remote.Retry(err)
		}
		return bar.reader(r, s.metrics.fetched), nil
	}
	_, err := s.blobs.Fetch(ctx, d.Digest, d.Size, src, s.retry)
	return err
}

// byteProgress sums the bytes of concurrent downloads into one report.
type byteProgress struct {
	mu    sync.Mutex
	r     *progress.Reporter
	done  int64
	total int64
}

func (s *Stager) newProgress(label string, total int64) *byteProgress {
	if s.Progress == nil {
		return &byteProgress{total: total}
	}
	return &byteProgress{r: progress.New(s.Progress, label), total: total}
}

type counter interface{ Add(float64) }

func (b *byteProgress) reader(r io.ReadCloser, c counter) io.ReadCloser {
	return &countingReader{ReadCloser: r, add: func(n int) {
		c.Add(float64(n))
		b.add(n)
	}}
}

func (b *byteProgress) add(n int) {
	if b.r == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done += int64(n)
	b.r.Update(int(min(b.done, b.total)), int(b.total))
}

type countingReader struct {
	io.ReadCloser
	add func(int)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	if n > 0 {
		c.add(n)
	}
	return n, err
}

// layerFiles are the image's layers as files of the store.
func (s *Stager) layerFiles(im *image) []format.Layer {
	out := make([]format.Layer, len(im.Layers))
	for i, l := range im.Layers {
		out[i] = format.Layer{Path: s.blobs.Path(l.Digest), MediaType: l.MediaType}
	}
	return out
}

func (s *Stager) blobDigests(im *image) []digest.Digest {
	var out []digest.Digest
	for _, d := range im.blobs() {
		out = append(out, d.Digest)
	}
	return out
}
