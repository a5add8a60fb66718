package catalog

import (
	"context"
	"errors"
	"io"
	"time"
)

// ErrNotFound is what a Source returns for content storage does not have.
var ErrNotFound = errors.New("not found in storage")

// Source is the catalog's read-only view of registry storage, the source of
// truth every record is derived from. The registry implements it over its
// storage driver; tests implement it in memory.
type Source interface {
	// Manifest returns a manifest's media type and bytes, and when storage
	// received it.
	Manifest(ctx context.Context, repo, digest string) (mediaType string, payload []byte, modified time.Time, err error)
	// Blob opens a blob for reading; the reader also seeks (SIF readers
	// need random access).
	Blob(ctx context.Context, repo, digest string) (io.ReadSeekCloser, int64, error)
	// Tags maps every tag of repo to the digest it points at.
	Tags(ctx context.Context, repo string) (map[string]string, error)
	// Repositories calls fn for every repository.
	Repositories(ctx context.Context, fn func(repo string) error) error
	// Manifests calls fn for every manifest digest of repo.
	Manifests(ctx context.Context, repo string, fn func(digest string) error) error
}
