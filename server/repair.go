package server

import (
	"context"

	"github.com/opencontainers/go-digest"

	"github.com/oyster-registry/oyster/catalog"
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
	r, err := s.source.repo(ctx, repo)
	if err != nil {
		return false, nil //nolint:nilerr // an invalid name has no manifests
	}
	ms, err := r.Manifests(ctx)
	if err != nil {
		return false, err
	}
	return ms.Exists(ctx, dgst)
}

// walkManifests calls fn for every manifest in every repository of storage.
func (s *Server) walkManifests(ctx context.Context, fn func(repo string, dgst digest.Digest, mediaType string, payload []byte) error) error {
	return s.source.Repositories(ctx, func(repo string) error {
		return s.source.Manifests(ctx, repo, func(d digest.Digest) error {
			mediaType, payload, _, err := s.source.Manifest(ctx, catalog.Ref{Repo: repo, Digest: d})
			if err != nil {
				s.log.Warn("skipping unreadable manifest", "repository", repo, "digest", d, "error", err)
				return nil
			}
			return fn(repo, d, mediaType, payload)
		})
	})
}
