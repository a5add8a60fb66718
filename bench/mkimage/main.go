// Command mkimage writes an OCI image layout holding one image whose layers
// are uncompressed tar archives of random bytes, for `make bench`.
//
// Each layer is exactly -layer-size bytes: one regular file padded so that
// header, content and the tar end-of-archive blocks add up to that size. The
// layer media type is application/vnd.oci.image.layer.v1.tar, so clients copy
// the bytes as they are: nothing is (de)compressed while a benchmark runs.
//
//	mkimage -out DIR [-layers 4] [-layer-size 268435456] [-seed N]
package main

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"
)

const (
	mediaTypeManifest = "application/vnd.oci.image.manifest.v1+json"
	mediaTypeIndex    = "application/vnd.oci.image.index.v1+json"
	mediaTypeConfig   = "application/vnd.oci.image.config.v1+json"
	mediaTypeLayerTar = "application/vnd.oci.image.layer.v1.tar"
	tarBlock          = 512
)

type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

func main() {
	out := flag.String("out", "", "directory to create the OCI layout in (must not exist or be empty)")
	layers := flag.Int("layers", 4, "number of layers")
	layerSize := flag.Int64("layer-size", 256<<20, "size of each layer blob in bytes (a multiple of 512, at least 2048)")
	seed := flag.Uint64("seed", 0, "random seed (0: pick one from the clock)")
	flag.Parse()
	if err := run(*out, *layers, *layerSize, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

func run(out string, layers int, layerSize int64, seed uint64) error {
	if out == "" {
		return errors.New("-out is required")
	}
	if layers < 1 {
		return errors.New("-layers must be at least 1")
	}
	// header + at least one content block + two end-of-archive blocks
	if layerSize%tarBlock != 0 || layerSize < 4*tarBlock {
		return fmt.Errorf("-layer-size %d is not a multiple of %d of at least %d", layerSize, tarBlock, 4*tarBlock)
	}
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	blobs := filepath.Join(out, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		return err
	}
	var layerDescs []descriptor
	var diffIDs []string
	for i := 0; i < layers; i++ {
		d, err := writeLayer(blobs, i, layerSize, seed)
		if err != nil {
			return fmt.Errorf("layer %d: %w", i, err)
		}
		layerDescs = append(layerDescs, d)
		diffIDs = append(diffIDs, d.Digest) // uncompressed: the diff ID is the digest
	}
	config := map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"config":       map[string]any{},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": diffIDs},
	}
	cfgDesc, err := writeJSON(blobs, mediaTypeConfig, config)
	if err != nil {
		return err
	}
	manifest := map[string]any{
		"schemaVersion": 2,
		"mediaType":     mediaTypeManifest,
		"config":        cfgDesc,
		"layers":        layerDescs,
	}
	mDesc, err := writeJSON(blobs, mediaTypeManifest, manifest)
	if err != nil {
		return err
	}
	mDesc.Annotations = map[string]string{"org.opencontainers.image.ref.name": "bench"}
	index := map[string]any{
		"schemaVersion": 2,
		"mediaType":     mediaTypeIndex,
		"manifests":     []descriptor{mDesc},
	}
	raw, err := json.Marshal(index)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "index.json"), raw, 0o644); err != nil {
		return err
	}
	var total int64
	for _, d := range layerDescs {
		total += d.Size
	}
	fmt.Printf("wrote %s: %d layers, %d bytes of layers, manifest %s\n", out, layers, total, mDesc.Digest)
	return nil
}

// writeLayer writes a tar archive of exactly size bytes holding one file of
// random content, and returns its descriptor.
func writeLayer(dir string, n int, size int64, seed uint64) (descriptor, error) {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[0:], seed)
	binary.LittleEndian.PutUint64(key[8:], uint64(n))
	src := rand.NewChaCha8(key)
	content := size - 3*tarBlock // one header block, two end-of-archive blocks
	return writeBlob(dir, mediaTypeLayerTar, func(w io.Writer) error {
		tw := tar.NewWriter(w)
		hdr := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     fmt.Sprintf("random-%d.bin", n),
			Mode:     0o644,
			Size:     content,
			ModTime:  time.Unix(0, 0),
			Format:   tar.FormatUSTAR,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		buf := make([]byte, 1<<20)
		for left := content; left > 0; {
			chunk := buf
			if int64(len(chunk)) > left {
				chunk = chunk[:left]
			}
			_, _ = src.Read(chunk)
			if _, err := tw.Write(chunk); err != nil {
				return err
			}
			left -= int64(len(chunk))
		}
		return tw.Close()
	})
}

func writeJSON(dir, mediaType string, v any) (descriptor, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return descriptor{}, err
	}
	return writeBlob(dir, mediaType, func(w io.Writer) error {
		_, err := w.Write(raw)
		return err
	})
}

// writeBlob streams fill's output to a temporary file while hashing it, then
// names the file by its digest.
func writeBlob(dir, mediaType string, fill func(io.Writer) error) (descriptor, error) {
	f, err := os.CreateTemp(dir, ".tmp-")
	if err != nil {
		return descriptor{}, err
	}
	defer os.Remove(f.Name()) // no-op once renamed
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return descriptor{}, err
	}
	h := sha256.New()
	cw := &countingWriter{w: io.MultiWriter(f, h)}
	if err := fill(cw); err != nil {
		f.Close()
		return descriptor{}, err
	}
	if err := f.Close(); err != nil {
		return descriptor{}, err
	}
	hexDigest := hexSum(h)
	if err := os.Rename(f.Name(), filepath.Join(dir, hexDigest)); err != nil {
		return descriptor{}, err
	}
	return descriptor{MediaType: mediaType, Digest: "sha256:" + hexDigest, Size: cw.n}, nil
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
