package format

import (
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// WriteLayout makes an OCI image layout in the empty directory dir
// holding one manifest (desc, tagged refName) and its blobs. blobPath
// finds each blob (manifest included) in the store; blobs are hard-linked
// from there, so a layer shared by many layouts is on disk once.
func WriteLayout(dir string, desc v1.Descriptor, refName string, blobs []digest.Digest, blobPath func(digest.Digest) string) error {
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
		return err
	}
	for _, d := range append([]digest.Digest{desc.Digest}, blobs...) {
		dst := filepath.Join(dir, "blobs", d.Algorithm().String(), d.Encoded())
		if _, err := os.Lstat(dst); err == nil {
			continue // a blob listed twice
		}
		if err := LinkOrCopy(blobPath(d), dst); err != nil {
			return err
		}
	}
	if refName != "" {
		desc.Annotations = map[string]string{v1.AnnotationRefName: refName}
	}
	index := v1.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: v1.MediaTypeImageIndex, Manifests: []v1.Descriptor{desc}}
	if err := writeJSON(filepath.Join(dir, v1.ImageLayoutFile), v1.ImageLayout{Version: v1.ImageLayoutVersion}); err != nil {
		return err
	}
	return writeJSON(filepath.Join(dir, "index.json"), index)
}

func writeJSON(p string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(p, b, 0o644)
}

// LinkOrCopy hard-links a store blob to dst, copying when they are on
// different filesystems (a SIF stored in the registry is staged so).
func LinkOrCopy(src, dst string) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	b, err := os.Open(src)
	if err != nil {
		return err
	}
	defer b.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := out.ReadFrom(b); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
