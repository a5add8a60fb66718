// Package oci holds OCI and SIF primitives: media types, manifest decoding
// and descriptors. It knows nothing about HTTP or storage.
package oci

import v1 "github.com/opencontainers/image-spec/specs-go/v1"

// Media types Oyster recognises beyond those in image-spec.
const (
	MediaTypeDockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"

	// SIF as pushed by `apptainer push oras://`.
	MediaTypeSIFConfig = "application/vnd.sylabs.sif.config.v1+json"
	MediaTypeSIFLayer  = "application/vnd.sylabs.sif.layer.v1.sif"
	// MediaTypeSIFLayerLegacy is the misspelled type older clients pushed.
	MediaTypeSIFLayerLegacy = "appliciation/vnd.sylabs.sif.layer.tar"
)

// IsIndex reports whether mediaType names an image index or manifest list.
func IsIndex(mediaType string) bool {
	return mediaType == v1.MediaTypeImageIndex || mediaType == MediaTypeDockerManifestList
}

// IsNonDistributable reports whether a layer of this type may legitimately be
// absent from the registry (image-spec: such layers are not uploaded).
func IsNonDistributable(mediaType string) bool {
	switch mediaType {
	case v1.MediaTypeImageLayerNonDistributable, //nolint:staticcheck // still seen in the wild
		v1.MediaTypeImageLayerNonDistributableGzip, //nolint:staticcheck
		v1.MediaTypeImageLayerNonDistributableZstd, //nolint:staticcheck
		"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip":
		return true
	}
	return false
}
