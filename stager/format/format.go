// Package format turns an image's verified blobs into the forms HPC
// runtimes use: an OCI image layout, an unpacked root filesystem, a
// squashfs of it, or a SIF. Each is built in a directory the caller
// publishes atomically; nothing here knows the registry or the cache.
package format

import (
	"fmt"
	"strings"
)

// Format is one form of a staged image.
type Format string

const (
	OCI      Format = "oci"
	Rootfs   Format = "rootfs"
	Squashfs Format = "squashfs"
	SIF      Format = "sif"
)

// All lists every format.
var All = []Format{OCI, Rootfs, Squashfs, SIF}

// Parse reads a format name.
func Parse(s string) (Format, error) {
	for _, f := range All {
		if string(f) == strings.ToLower(s) {
			return f, nil
		}
	}
	return "", fmt.Errorf("format %q is not one of oci, rootfs, squashfs, sif", s)
}

// Artifact is the file or directory name of the format in an image's
// directory: what `stager path` prints.
func (f Format) Artifact() string {
	switch f {
	case Squashfs:
		return "image.squashfs"
	case SIF:
		return "image.sif"
	}
	return string(f)
}
