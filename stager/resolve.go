package stager

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/oyster-registry/oyster/oci"
	"github.com/oyster-registry/oyster/stager/remote"
	"github.com/oyster-registry/oyster/stager/retry"
)

// image is a resolved image: one platform's manifest and what it lists.
// It is kept as meta.json in the image's directory, which is what blob
// garbage collection reads to know which blobs are in use.
type image struct {
	Repo      string          `json:"repository"`
	Refs      []string        `json:"refs"`
	Digest    digest.Digest   `json:"digest"`
	MediaType string          `json:"mediaType"`
	Size      int64           `json:"size"`
	Config    v1.Descriptor   `json:"config"`
	Layers    []v1.Descriptor `json:"layers"`
}

// isSIF reports a SIF artifact as `apptainer push oras://` stores it.
func (im *image) isSIF() bool {
	return im.Config.MediaType == oci.MediaTypeSIFConfig && len(im.Layers) == 1 &&
		(im.Layers[0].MediaType == oci.MediaTypeSIFLayer || im.Layers[0].MediaType == oci.MediaTypeSIFLayerLegacy)
}

// blobs are every blob the image needs, config first.
func (im *image) blobs() []v1.Descriptor { return append([]v1.Descriptor{im.Config}, im.Layers...) }

// resolve fetches ref's manifest, choosing this machine's platform from an
// index, and stores the manifest bytes in the blob store.
func (s *Stager) resolve(ctx context.Context, ref remote.Ref) (*image, error) {
	m, err := s.manifest(ctx, ref.Repo, ref.Reference())
	if err != nil {
		return nil, err
	}
	if oci.IsIndex(m.MediaType) {
		child, err := platformManifest(m.Body)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ref, err)
		}
		if m, err = s.manifest(ctx, ref.Repo, child.String()); err != nil {
			return nil, err
		}
	}
	parsed, err := oci.DecodeManifest(m.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	if parsed.Config == nil {
		return nil, fmt.Errorf("%s: manifest %s has no config: not an image", ref, m.Digest)
	}
	for _, d := range append([]v1.Descriptor{*parsed.Config}, parsed.Layers...) {
		if err := d.Digest.Validate(); err != nil {
			return nil, fmt.Errorf("%s: manifest %s: %w", ref, m.Digest, err)
		}
	}
	if err := s.blobs.Put(m.Digest, m.Body); err != nil {
		return nil, err
	}
	return &image{Repo: ref.Repo, Refs: []string{ref.String()}, Digest: m.Digest, MediaType: m.MediaType,
		Size: int64(len(m.Body)), Config: *parsed.Config, Layers: parsed.Layers}, nil
}

func (s *Stager) manifest(ctx context.Context, repo, reference string) (remote.Manifest, error) {
	var m remote.Manifest
	err := retry.Do(ctx, s.retry, func() error {
		var err error
		m, err = s.client.Manifest(ctx, repo, reference)
		return remote.Retry(err)
	})
	return m, err
}

// platformManifest picks linux/GOARCH from an index, or its only entry.
func platformManifest(body []byte) (digest.Digest, error) {
	var idx v1.Index
	if err := json.Unmarshal(body, &idx); err != nil {
		return "", fmt.Errorf("image index: %w", err)
	}
	for _, d := range idx.Manifests {
		if p := d.Platform; p != nil && p.OS == "linux" && p.Architecture == runtime.GOARCH {
			return d.Digest, nil
		}
	}
	if len(idx.Manifests) == 1 {
		return idx.Manifests[0].Digest, nil
	}
	return "", fmt.Errorf("image index has no linux/%s manifest", runtime.GOARCH)
}

// imageConfig reads the OCI config blob for the SIF conversion.
func (s *Stager) imageConfig(im *image) (v1.Image, error) {
	var cfg v1.Image
	b, err := readCapped(s.blobs.Path(im.Config.Digest), maxConfigBytes)
	if err != nil {
		return cfg, fmt.Errorf("image config: %w", err)
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return cfg, fmt.Errorf("image config: %w", err)
	}
	if cfg.Architecture == "" {
		cfg.Architecture = runtime.GOARCH
	}
	return cfg, nil
}

// maxConfigBytes bounds an image config read into memory.
const maxConfigBytes = 8 << 20
