package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/distribution/distribution/v3"
	"github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"

	"github.com/oyster-registry/oyster/oci"
	"github.com/oyster-registry/oyster/referrers"
)

// repairReferrers makes the referrers index agree with storage: a missing or
// half-built index is rebuilt by walking every manifest; changes journalled
// but never settled (a crash mid-push or mid-delete) are settled by asking
// storage whether the manifest is there.
func (s *Server) repairReferrers(ctx context.Context) error {
	complete, err := s.referrers.Complete()
	if err != nil {
		return err
	}
	if !complete {
		s.log.Info("rebuilding referrers index from storage")
		return s.referrers.Rebuild(func(yield func(referrers.Manifest) error) error {
			return s.walkManifests(ctx, func(repo string, dgst digest.Digest, mediaType string, payload []byte) error {
				m, err := oci.DecodeManifest(payload)
				if err != nil || m.Subject == nil {
					return nil // not ours to judge here; not a referrer
				}
				desc := m.Descriptor(mediaType, payload)
				desc.Digest = dgst // the name storage knows it by (sha512 pushes keep theirs)
				return yield(referrers.Manifest{Repository: repo, Subject: m.Subject.Digest, Descriptor: desc})
			})
		})
	}
	pending, err := s.referrers.Pending()
	if err != nil {
		return err
	}
	for _, p := range pending {
		exists, err := s.manifestExists(ctx, p.Repository, p.Referrer)
		if err != nil {
			return err
		}
		s.log.Info("settling interrupted referrers change", "repository", p.Repository, "digest", p.Referrer, "in_storage", exists)
		if err := s.referrers.Resolve(p, exists); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) manifestExists(ctx context.Context, repo string, dgst digest.Digest) (bool, error) {
	named, err := reference.WithName(repo)
	if err != nil {
		return false, nil
	}
	r, err := s.namespace.Repository(ctx, named)
	if err != nil {
		return false, err
	}
	ms, err := r.Manifests(ctx)
	if err != nil {
		return false, err
	}
	return ms.Exists(ctx, dgst)
}

// walkManifests calls fn for every manifest in every repository of storage.
func (s *Server) walkManifests(ctx context.Context, fn func(repo string, dgst digest.Digest, mediaType string, payload []byte) error) error {
	enum, ok := s.namespace.(distribution.RepositoryEnumerator)
	if !ok {
		return errors.New("storage cannot enumerate repositories")
	}
	err := enum.Enumerate(ctx, func(name string) error {
		named, err := reference.WithName(name)
		if err != nil {
			return nil
		}
		repo, err := s.namespace.Repository(ctx, named)
		if err != nil {
			return err
		}
		ms, err := repo.Manifests(ctx)
		if err != nil {
			return err
		}
		menum, ok := ms.(distribution.ManifestEnumerator)
		if !ok {
			return fmt.Errorf("manifests of %s cannot be enumerated", name)
		}
		return menum.Enumerate(ctx, func(dgst digest.Digest) error {
			m, err := ms.Get(ctx, dgst)
			if err != nil {
				s.log.Warn("skipping unreadable manifest", "repository", name, "digest", dgst, "error", err)
				return nil
			}
			mediaType, payload, err := m.Payload()
			if err != nil {
				return nil
			}
			return fn(name, dgst, mediaType, payload)
		})
	})
	if errors.As(err, &driver.PathNotFoundError{}) {
		return nil // empty storage: nothing pushed yet
	}
	return err
}
