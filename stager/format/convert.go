package format

import (
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/oyster-registry/oyster/oci/sif"
)

// MakeSquashfs makes the squashfs of an unpacked root filesystem at out,
// every file owned by root.
func MakeSquashfs(rootfs, out string) error { return sif.Mksquashfs(rootfs, out) }

// MakeSIF makes a SIF at out from an unpacked root filesystem of the
// registry image ref, as `apptainer build x.sif docker://ref` would:
// apptainer's metadata tree added to the root filesystem (which is
// changed), the squashfs, the SIF objects.
func MakeSIF(rootfs, out, ref string, cfg v1.ImageConfig, arch string) error {
	img := sif.FromConfig(ref, cfg, arch)
	if err := sif.Prepare(rootfs, img); err != nil {
		return err
	}
	return sif.Build(rootfs, out, img)
}
