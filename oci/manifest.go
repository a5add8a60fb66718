package oci

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// MaxManifestSize is the largest manifest the registry accepts (the limit
// the distribution-spec recommends clients and registries share).
const MaxManifestSize = 4 << 20

// Manifest is the union of the fields of an image manifest and an image
// index (OCI and Docker schema 2), enough to route and index either.
type Manifest struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType,omitempty"`
	ArtifactType  string            `json:"artifactType,omitempty"`
	Config        *v1.Descriptor    `json:"config,omitempty"`
	Layers        []v1.Descriptor   `json:"layers,omitempty"`
	Manifests     []v1.Descriptor   `json:"manifests,omitempty"`
	Subject       *v1.Descriptor    `json:"subject,omitempty"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

// DecodeManifest parses and checks a manifest or index payload.
func DecodeManifest(payload []byte) (*Manifest, error) {
	if len(payload) > MaxManifestSize {
		return nil, fmt.Errorf("manifest is %d bytes, over the %d byte limit", len(payload), MaxManifestSize)
	}
	var m Manifest
	if err := json.Unmarshal(payload, &m); err != nil {
		return nil, fmt.Errorf("manifest is not valid JSON: %w", err)
	}
	if m.SchemaVersion != 2 {
		return nil, errors.New("manifest schemaVersion must be 2")
	}
	if err := m.checkSizes(); err != nil {
		return nil, err
	}
	return &m, nil
}

// checkSizes refuses negative descriptor sizes, which JSON allows and
// distribution stores, but which no content has and which would turn the
// sums and bounds of whoever reads the manifest negative.
func (m *Manifest) checkSizes() error {
	check := func(where string, d *v1.Descriptor) error {
		if d != nil && d.Size < 0 {
			return fmt.Errorf("%s: size %d is negative", where, d.Size)
		}
		return nil
	}
	if err := check("config", m.Config); err != nil {
		return err
	}
	if err := check("subject", m.Subject); err != nil {
		return err
	}
	for i := range m.Layers {
		if err := check(fmt.Sprintf("layers[%d]", i), &m.Layers[i]); err != nil {
			return err
		}
	}
	for i := range m.Manifests {
		if err := check(fmt.Sprintf("manifests[%d]", i), &m.Manifests[i]); err != nil {
			return err
		}
	}
	return nil
}

// EffectiveArtifactType is the artifact type the referrers API reports: the
// artifactType field, else the config media type of an image manifest.
func (m *Manifest) EffectiveArtifactType() string {
	if m.ArtifactType != "" {
		return m.ArtifactType
	}
	if m.Config != nil {
		return m.Config.MediaType
	}
	return ""
}

// Descriptor describes the manifest itself, as it appears in a referrers list.
func (m *Manifest) Descriptor(mediaType string, payload []byte) v1.Descriptor {
	if mediaType == "" {
		mediaType = m.MediaType
	}
	return v1.Descriptor{
		MediaType:    mediaType,
		Digest:       digest.FromBytes(payload),
		Size:         int64(len(payload)),
		ArtifactType: m.EffectiveArtifactType(),
		Annotations:  m.Annotations,
	}
}
