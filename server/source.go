package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/distribution/distribution/v3"
	"github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/referrers"
)

// storageSource is the catalog's view of registry storage, read through
// distribution's storage code (not its HTTP API, and not its middleware, so
// reading for the catalog fires no events), and of the referrers index
// the registry keeps beside it.
type storageSource struct {
	ns        distribution.Namespace
	driver    driver.StorageDriver
	referrers *referrers.Store
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

func (s *storageSource) Manifest(ctx context.Context, ref catalog.Ref) (string, []byte, time.Time, error) {
	d := ref.Digest
	if d.Validate() != nil {
		return "", nil, time.Time{}, catalog.ErrNotFound
	}
	repo, err := s.repo(ctx, ref.Repo)
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
	return mediaType, payload, s.linkTime(ctx, ref.Repo, d), nil
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

func (s *storageSource) Blob(ctx context.Context, ref catalog.Ref) (io.ReadSeekCloser, int64, error) {
	d := ref.Digest
	if d.Validate() != nil {
		return nil, 0, catalog.ErrNotFound
	}
	repo, err := s.repo(ctx, ref.Repo)
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

func (s *storageSource) Tags(ctx context.Context, repoName string) (map[string]digest.Digest, error) {
	repo, err := s.repo(ctx, repoName)
	if err != nil {
		return nil, err
	}
	ts := repo.Tags(ctx)
	names, err := ts.All(ctx)
	if err != nil {
		return nil, notFound(err)
	}
	out := make(map[string]digest.Digest, len(names))
	for _, t := range names {
		desc, err := ts.Get(ctx, t)
		if err != nil {
			continue // deleted while we listed
		}
		out[t] = desc.Digest
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

func (s *storageSource) Manifests(ctx context.Context, repoName string, fn func(digest.Digest) error) error {
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
	err = enum.Enumerate(ctx, fn)
	if errors.As(err, &driver.PathNotFoundError{}) {
		return nil
	}
	return err
}

// referrersPage bounds one read of the referrers index, in count and in
// bytes: referrers may carry megabytes of annotations the catalog ignores.
const (
	referrersPageSize  = 100
	referrersPageBytes = 1 << 20
)

// Referrers lists the referrers of subject from the registry's referrers
// index, page by page, keeping of each descriptor what the catalog shows.
func (s *storageSource) Referrers(_ context.Context, subject catalog.Ref) ([]catalog.Referrer, error) {
	var out []catalog.Referrer
	for last := digest.Digest(""); ; {
		page, err := s.referrers.ListRaw(subject.Repo, subject.Digest, "", last, referrersPageSize, referrersPageBytes)
		if err != nil {
			return out, err
		}
		for _, raw := range page.Descriptors {
			var d struct {
				MediaType    string        `json:"mediaType"`
				Digest       digest.Digest `json:"digest"`
				ArtifactType string        `json:"artifactType"`
			}
			if err := json.Unmarshal(raw, &d); err != nil {
				return out, fmt.Errorf("referrers of %s: %w", subject, err)
			}
			out = append(out, catalog.Referrer{Digest: d.Digest, ArtifactType: d.ArtifactType, MediaType: d.MediaType})
		}
		if page.Next == "" {
			return out, nil
		}
		last = page.Next
	}
}
