package catalog

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/opencontainers/go-digest"
)

// ErrNotFound is what a Source returns for content storage does not have.
var ErrNotFound = errors.New("not found in storage")

// Source is the catalog's read-only view of registry storage, the source of
// truth every record is derived from. The registry implements it over its
// storage driver and its referrers index; tests implement it in memory.
type Source interface {
	// Manifest returns a manifest's media type and bytes, and when storage
	// received it.
	Manifest(ctx context.Context, ref Ref) (mediaType string, payload []byte, modified time.Time, err error)
	// Blob opens a blob of ref.Repo for reading; the reader also seeks
	// (SIF readers need random access).
	Blob(ctx context.Context, ref Ref) (io.ReadSeekCloser, int64, error)
	// Tags maps every tag of repo to the digest it points at.
	Tags(ctx context.Context, repo string) (map[string]digest.Digest, error)
	// Repositories calls fn for every repository.
	Repositories(ctx context.Context, fn func(repo string) error) error
	// Manifests calls fn for every manifest digest of repo.
	Manifests(ctx context.Context, repo string, fn func(digest.Digest) error) error
	// Referrers lists the manifests of subject.Repo whose subject is
	// subject.Digest (SBOMs, signatures), from the registry's referrers
	// index.
	Referrers(ctx context.Context, subject Ref) ([]Referrer, error)
}
