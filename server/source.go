package server

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/distribution/distribution/v3"
	"github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"

	"github.com/oyster-registry/oyster/catalog"
)

// storageSource is the catalog's view of registry storage, read through
// distribution's storage code (not its HTTP API, and not its middleware, so
// reading for the catalog fires no events).
type storageSource struct {
	ns     distribution.Namespace
	driver driver.StorageDriver
}

var _ catalog.Source = (*storageSource)(nil)

func (s *storageSource) repo(ctx context.Context, name string) (distribution.Repository, error) {
	named, err := reference.WithName(name)
	if err != nil {
		return nil, catalog.ErrNotFound
	}
	return s.ns.Repository(ctx, named)
}

func notFound(err error) error {
	var pnf driver.PathNotFoundError
	var unknownRev distribution.ErrManifestUnknownRevision
	var unknownRepo distribution.ErrRepositoryUnknown
	if errors.As(err, &pnf) || errors.As(err, &unknownRev) || errors.As(err, &unknownRepo) ||
		errors.Is(err, distribution.ErrBlobUnknown) {
		return catalog.ErrNotFound
	}
	return err
}

func (s *storageSource) Manifest(ctx context.Context, repoName, dgst string) (string, []byte, time.Time, error) {
	d, err := digest.Parse(dgst)
	if err != nil {
		return "", nil, time.Time{}, catalog.ErrNotFound
	}
	repo, err := s.repo(ctx, repoName)
	if err != nil {
		return "", nil, time.Time{}, err
	}
	ms, err := repo.Manifests(ctx)
	if err != nil {
		return "", nil, time.Time{}, err
	}
	m, err := ms.Get(ctx, d)
	if err != nil {
		return "", nil, time.Time{}, notFound(err)
	}
	mediaType, payload, err := m.Payload()
	if err != nil {
		return "", nil, time.Time{}, err
	}
	return mediaType, payload, s.linkTime(ctx, repoName, d), nil
}

// linkTime is when the repository got the manifest: the modification time
// of its revision link in distribution's storage layout.
func (s *storageSource) linkTime(ctx context.Context, repo string, d digest.Digest) time.Time {
	fi, err := s.driver.Stat(ctx, manifestRevisionLink(repo, d))
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime().UTC()
}

func (s *storageSource) Blob(ctx context.Context, repoName, dgst string) (io.ReadSeekCloser, int64, error) {
	d, err := digest.Parse(dgst)
	if err != nil {
		return nil, 0, catalog.ErrNotFound
	}
	repo, err := s.repo(ctx, repoName)
	if err != nil {
		return nil, 0, err
	}
	blobs := repo.Blobs(ctx)
	desc, err := blobs.Stat(ctx, d)
	if err != nil {
		return nil, 0, notFound(err)
	}
	rc, err := blobs.Open(ctx, d)
	if err != nil {
		return nil, 0, notFound(err)
	}
	return rc, desc.Size, nil
}

func (s *storageSource) Tags(ctx context.Context, repoName string) (map[string]string, error) {
	repo, err := s.repo(ctx, repoName)
	if err != nil {
		return nil, err
	}
	ts := repo.Tags(ctx)
	names, err := ts.All(ctx)
	if err != nil {
		return nil, notFound(err)
	}
	out := make(map[string]string, len(names))
	for _, t := range names {
		desc, err := ts.Get(ctx, t)
		if err != nil {
			continue // deleted while we listed
		}
		out[t] = desc.Digest.String()
	}
	return out, nil
}

func (s *storageSource) Repositories(ctx context.Context, fn func(string) error) error {
	enum, ok := s.ns.(distribution.RepositoryEnumerator)
	if !ok {
		return errors.New("storage cannot enumerate repositories")
	}
	err := enum.Enumerate(ctx, fn)
	if errors.As(err, &driver.PathNotFoundError{}) {
		return nil
	}
	return err
}

func (s *storageSource) Manifests(ctx context.Context, repoName string, fn func(string) error) error {
	repo, err := s.repo(ctx, repoName)
	if err != nil {
		return err
	}
	ms, err := repo.Manifests(ctx)
	if err != nil {
		return err
	}
	enum, ok := ms.(distribution.ManifestEnumerator)
	if !ok {
		return errors.New("storage cannot enumerate manifests")
	}
	err = enum.Enumerate(ctx, func(d digest.Digest) error { return fn(d.String()) })
	if errors.As(err, &driver.PathNotFoundError{}) {
		return nil
	}
	return err
}
