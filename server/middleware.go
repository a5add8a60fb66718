package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/distribution/distribution/v3"
	"github.com/distribution/distribution/v3/registry/api/errcode"
	repositorymiddleware "github.com/distribution/distribution/v3/registry/middleware/repository"
	"github.com/distribution/distribution/v3/registry/storage"
	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/oyster-registry/oyster/events"
	"github.com/oyster-registry/oyster/oci"
	"github.com/oyster-registry/oyster/referrers"
)

// middlewareName is how Oyster's repository middleware is registered with
// distribution; the hooks it needs travel in its options.
const (
	middlewareName = "oyster"
	hooksOption    = "hooks"
)

func init() {
	if err := repositorymiddleware.Register(middlewareName, newRepository); err != nil {
		panic(err)
	}
}

// hooks is what the middleware feeds: the referrers index and the listeners.
type hooks struct {
	referrers *referrers.Store
	listener  events.Listener
	// strictReferences rejects manifests that reference content the
	// repository lacks; otherwise such "sparse" manifests are stored.
	strictReferences bool
	// manifests caches manifest reads; nil caches nothing (manifestcache.go).
	manifests *manifestCache
}

func newRepository(_ context.Context, repo distribution.Repository, options map[string]any) (distribution.Repository, error) {
	h, ok := options[hooksOption].(*hooks)
	if !ok {
		return nil, fmt.Errorf("%s middleware: missing %q option", middlewareName, hooksOption)
	}
	return &repository{Repository: repo, hooks: h}, nil
}

// repository wraps a distribution repository so that every manifest and tag
// change reaches the referrers index and the event listeners.
type repository struct {
	distribution.Repository
	hooks *hooks
}

func (r *repository) name() string { return r.Named().Name() }

func (r *repository) Manifests(ctx context.Context, options ...distribution.ManifestServiceOption) (distribution.ManifestService, error) {
	ms, err := r.Repository.Manifests(ctx, options...)
	if err != nil {
		return nil, err
	}
	return &manifestService{ManifestService: ms, repo: r, options: options}, nil
}

func (r *repository) Tags(ctx context.Context) distribution.TagService {
	return &tagService{TagService: r.Repository.Tags(ctx), repo: r}
}

type manifestService struct {
	distribution.ManifestService
	repo    *repository
	options []distribution.ManifestServiceOption
}

func (ms *manifestService) Put(ctx context.Context, m distribution.Manifest, options ...distribution.ManifestServiceOption) (digest.Digest, error) {
	mediaType, payload, err := m.Payload()
	if err != nil {
		return "", err
	}
	parsed, err := requestOf(ctx).manifestFor(payload)
	if err != nil {
		return "", errcode.ErrorCodeManifestInvalid.WithDetail(err.Error())
	}
	desc := parsed.Descriptor(mediaType, payload)
	desc.Digest = clientDigest(ctx, desc.Digest) // a sha512 push is indexed by its sha512 digest (sha512.go)
	refs, repo := ms.repo.hooks.referrers, ms.repo.name()
	if parsed.Subject != nil {
		if err := refs.PrepareAdd(repo, parsed.Subject.Digest, desc); err != nil {
			return "", err
		}
	}
	dgst, err := ms.put(ctx, m, parsed, options)
	if err != nil {
		if parsed.Subject != nil {
			_ = refs.Abort(repo, desc.Digest)
		}
		return "", err
	}
	if parsed.Subject != nil {
		if err := refs.CommitAdd(repo, desc.Digest); err != nil {
			return "", err
		}
		recordSubject(ctx, parsed.Subject.Digest)
	}
	ms.repo.hooks.listener.Notify(ctx, events.Event{
		Action: events.ManifestPut, Repository: repo, Digest: clientDigest(ctx, dgst),
		MediaType: mediaType, Tag: tagOption(options), Payload: payload,
	})
	return dgst, nil
}

// put stores the manifest. Distribution insists every referenced blob and
// manifest is in the repository. The distribution-spec only allows (MAY)
// rejecting such manifests: image-spec says non-distributable layers are not
// uploaded at all, and sparse indexes (some platforms absent) are common. So
// a manifest whose only fault is missing references is stored without that
// check, unless strict references are configured; non-distributable layers
// are always allowed.
func (ms *manifestService) put(ctx context.Context, m distribution.Manifest, parsed *oci.Manifest, options []distribution.ManifestServiceOption) (digest.Digest, error) {
	dgst, err := ms.ManifestService.Put(ctx, m, options...)
	var verr distribution.ErrManifestVerification
	if err == nil || !errors.As(err, &verr) || !onlyMissingReferences(verr) {
		return dgst, err
	}
	if ms.repo.hooks.strictReferences && !onlyNonDistributableMissing(verr, parsed.Layers) {
		return "", err
	}
	lenient, err := ms.repo.Repository.Manifests(ctx, append(ms.options, storage.SkipLayerVerification())...)
	if err != nil {
		return "", err
	}
	return lenient.Put(ctx, m, options...)
}

func onlyMissingReferences(verr distribution.ErrManifestVerification) bool {
	for _, e := range verr {
		if _, ok := e.(distribution.ErrManifestBlobUnknown); !ok && !errors.Is(e, distribution.ErrBlobUnknown) {
			return false
		}
	}
	return len(verr) > 0
}

func onlyNonDistributableMissing(verr distribution.ErrManifestVerification, layers []v1.Descriptor) bool {
	nondistributable := map[digest.Digest]bool{}
	for _, l := range layers {
		if oci.IsNonDistributable(l.MediaType) {
			nondistributable[l.Digest] = true
		}
	}
	for _, e := range verr {
		unknown, ok := e.(distribution.ErrManifestBlobUnknown)
		if !ok || !nondistributable[unknown.Digest] {
			return false
		}
	}
	return len(verr) > 0
}

func tagOption(options []distribution.ManifestServiceOption) string {
	for _, o := range options {
		if t, ok := o.(distribution.WithTagOption); ok {
			return t.Tag
		}
	}
	return ""
}

// Get answers from the manifest cache, filling it from storage.
func (ms *manifestService) Get(ctx context.Context, dgst digest.Digest, options ...distribution.ManifestServiceOption) (distribution.Manifest, error) {
	cache, repo := ms.repo.hooks.manifests, ms.repo.name()
	if m, ok := cache.manifest(repo, dgst); ok {
		return m, nil
	}
	generation := cache.snapshot()
	m, err := ms.ManifestService.Get(ctx, dgst, options...)
	if err == nil {
		cache.storeManifest(generation, repo, dgst, m)
	}
	return m, err
}

func (ms *manifestService) Delete(ctx context.Context, dgst digest.Digest) error {
	refs, repo := ms.repo.hooks.referrers, ms.repo.name()
	defer ms.repo.hooks.manifests.forgetRepository(repo) // after the write, even a failed one
	indexed, err := refs.PrepareDelete(repo, dgst)
	if err != nil {
		return err
	}
	if err := ms.ManifestService.Delete(ctx, dgst); err != nil {
		if indexed {
			_ = refs.Abort(repo, dgst)
		}
		return err
	}
	if indexed {
		if err := refs.CommitDelete(repo, dgst); err != nil {
			return err
		}
	}
	ms.repo.hooks.listener.Notify(ctx, events.Event{Action: events.ManifestDelete, Repository: repo, Digest: dgst})
	return nil
}

type tagService struct {
	distribution.TagService
	repo *repository
}

// Get answers from the manifest cache, filling it from storage.
func (ts *tagService) Get(ctx context.Context, tag string) (v1.Descriptor, error) {
	cache, repo := ts.repo.hooks.manifests, ts.repo.name()
	if desc, ok := cache.tag(repo, tag); ok {
		return desc, nil
	}
	generation := cache.snapshot()
	desc, err := ts.TagService.Get(ctx, tag)
	if err == nil {
		cache.storeTag(generation, repo, tag, desc)
	}
	return desc, err
}

func (ts *tagService) Tag(ctx context.Context, tag string, desc v1.Descriptor) error {
	defer ts.repo.hooks.manifests.forgetTag(ts.repo.name(), tag) // after the write, even a failed one
	desc.Digest = clientDigest(ctx, desc.Digest)                 // a tag of a sha512 push names its sha512 digest (sha512.go)
	if err := ts.TagService.Tag(ctx, tag, desc); err != nil {
		return err
	}
	ts.repo.hooks.listener.Notify(ctx, events.Event{
		Action: events.TagPut, Repository: ts.repo.name(), Tag: tag, Digest: desc.Digest, MediaType: desc.MediaType,
	})
	return nil
}

func (ts *tagService) Untag(ctx context.Context, tag string) error {
	defer ts.repo.hooks.manifests.forgetTag(ts.repo.name(), tag)
	if err := ts.TagService.Untag(ctx, tag); err != nil {
		return err
	}
	ts.repo.hooks.listener.Notify(ctx, events.Event{Action: events.TagDelete, Repository: ts.repo.name(), Tag: tag})
	return nil
}

// recordSubject notes, for the HTTP layer's OCI-Subject header, the subject
// of the manifest the middleware stored.
func recordSubject(ctx context.Context, d digest.Digest) {
	requestOf(ctx).subject = d
}
