package stager

import (
	"fmt"
	"os"
	"path/filepath"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/oyster-registry/oyster/oci/sif"
	"github.com/oyster-registry/oyster/stager/format"
)

// convert builds format f of the image in tmp and returns what to publish.
func (s *Stager) convert(im *image, f format.Format, tmp string) (string, error) {
	out := filepath.Join(tmp, f.Artifact())
	if im.isSIF() {
		return out, s.convertSIFArtifact(im, f, out)
	}
	if f == format.OCI {
		return out, s.layout(im, out)
	}
	rootfs := out
	if f != format.Rootfs {
		rootfs = filepath.Join(tmp, "rootfs")
	}
	if err := os.Mkdir(rootfs, 0o755); err != nil {
		return "", err
	}
	if err := format.Unpack(rootfs, s.layerFiles(im), s.limits); err != nil {
		return "", err
	}
	switch f {
	case format.Squashfs:
		return out, format.MakeSquashfs(rootfs, out)
	case format.SIF:
		cfg, err := s.imageConfig(im)
		if err != nil {
			return "", err
		}
		return out, format.MakeSIF(rootfs, out, s.client.Host()+"/"+im.Refs[0], cfg.Config, cfg.Architecture)
	}
	return out, nil
}

func (s *Stager) layout(im *image, out string) error {
	desc := v1.Descriptor{MediaType: im.MediaType, Digest: im.Digest, Size: im.Size}
	return format.WriteLayout(out, desc, im.Refs[0], s.blobDigests(im), s.blobs.Path)
}

// convertSIFArtifact stages a SIF stored in the registry: as is for sif,
// its primary partition for squashfs, the artifact itself for oci.
func (s *Stager) convertSIFArtifact(im *image, f format.Format, out string) error {
	blob := s.blobs.Path(im.Layers[0].Digest)
	switch f {
	case format.SIF:
		return format.LinkOrCopy(blob, out)
	case format.OCI:
		return s.layout(im, out)
	case format.Squashfs:
		return sif.ExtractPrimary(blob, out)
	}
	return fmt.Errorf("a SIF stored in the registry stages as sif, squashfs or oci, not %s", f)
}
