// Package sif reads and writes SIF files (the Singularity/Apptainer image
// format). Write, Build and Prepare make them as apptainer 1.5 does (the
// stager converts registry images with them; the recipe builders build
// definition files with them). Read reads them as apptainer writes them:
// the definition file, labels, OCI config, environment, runscript and
// partitions, and the primary system partition as an fs.FS (the catalog's
// scan.ScanFS finds packages in it).
//
// It knows nothing of the catalog; the catalog maps Info to its SIFInfo
// field by field.
//
// SIFs come from anyone who can push, so the header and descriptor table
// are checked before github.com/sylabs/sif/v2 allocates from them, every
// object's offset and size is checked against the file, and every object or
// file read is capped by oci.Limits.MaxFileBytes.
package sif

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	sylabs "github.com/sylabs/sif/v2/pkg/sif"

	"github.com/oyster-registry/oyster/oci"
)

// ErrNotSIF is returned for data that is not a SIF file or whose header or
// descriptor table is corrupt.
var ErrNotSIF = errors.New("not a SIF file")

// Info is what a SIF file says about itself.
type Info struct {
	// Arch is the Go architecture of the primary system partition, else of
	// the header; empty when unknown.
	Arch string
	// DefFile is the definition file it was built from (for `apptainer
	// pull docker://`, a two-line bootstrap).
	DefFile string
	// Labels merge, from lowest precedence up: the OCI config's labels,
	// JSON label objects, /.singularity.d/labels.json, inspect metadata.
	Labels map[string]string
	// Env is the container's environment scripts (/.singularity.d/env),
	// each headed by a "# <path>" comment line, apptainer's own
	// boilerplate scripts left out.
	Env       string
	Runscript string
	// Partitions are named as `apptainer sif list` names them:
	// "FS (Squashfs/*System/amd64)".
	Partitions []string
	// Config is the OCI image config of an image pulled from a registry.
	Config Config
	// Created is when the file was made; zero for deterministic SIFs.
	Created time.Time
	// SBOMs are bills of materials stored in the file itself, for
	// sbom.Parse.
	SBOMs []SBOM
	// Root is the primary system partition, nil if there is none that can
	// be read. It reads from the io.ReaderAt given to Read, lazily: scan it
	// it (scan.ScanFS does) before releasing that.
	Root fs.FS
	// Problems are what could not be read; the rest is still valid.
	Problems []string
}

// Config is the part of an OCI image config (apptainer's oci-config.json
// object) that the catalog shows.
type Config struct {
	Env          []string
	Entrypoint   []string
	Cmd          []string
	WorkingDir   string
	User         string
	ExposedPorts []string
}

// SBOM is an SBOM object of the file with the media type of its format.
type SBOM struct {
	MediaType string
	Data      []byte
}

// Read reads the SIF file held in the first size bytes of r. It fails only
// for a file that is not a SIF or whose header or descriptor table is
// corrupt; a broken object or partition becomes a Problem.
func Read(r io.ReaderAt, size int64, limits oci.Limits) (Info, error) {
	if err := checkHeader(r, size); err != nil {
		return Info{}, err
	}
	f, err := sylabs.LoadContainer(readOnly{r}, sylabs.OptLoadWithCloseOnUnload(false))
	if err != nil {
		return Info{}, fmt.Errorf("%w: %v", ErrNotSIF, err)
	}
	rd := &reader{r: r, size: size, limits: limits}
	rd.info.Arch = knownArch(f.PrimaryArch())
	if t := f.CreatedAt(); t.Unix() != 0 {
		rd.info.Created = t.UTC()
	}
	f.WithDescriptors(func(d sylabs.Descriptor) bool {
		rd.object(d)
		return false
	})
	rd.finish()
	return rd.info, nil
}

// Header layout of SIF version 01, from github.com/sylabs/sif/v2.
const (
	headerSize     = 128
	descriptorSize = 585 // binary.Size of the library's rawDescriptor
	// maxDescriptors bounds the descriptor table: the library allocates it
	// whole from the header's count. apptainer makes 48.
	maxDescriptors = 4096
)

// checkHeader validates what sylabs.LoadContainer would trust: the magic,
// the version, and a descriptor table that fits in the file.
func checkHeader(r io.ReaderAt, size int64) error {
	var h [headerSize]byte
	if size < headerSize {
		return fmt.Errorf("%w: %d bytes", ErrNotSIF, size)
	}
	if _, err := r.ReadAt(h[:], 0); err != nil {
		return fmt.Errorf("%w: reading header: %v", ErrNotSIF, err)
	}
	if !bytes.Equal(h[32:42], []byte("SIF_MAGIC\x00")) {
		return fmt.Errorf("%w: no SIF magic", ErrNotSIF)
	}
	if !bytes.Equal(h[42:45], []byte("01\x00")) {
		return fmt.Errorf("%w: SIF version %q", ErrNotSIF, bytes.TrimRight(h[42:45], "\x00"))
	}
	total := int64(binary.LittleEndian.Uint64(h[88:]))
	off := int64(binary.LittleEndian.Uint64(h[96:]))
	if total < 0 || total > maxDescriptors || off < headerSize || off > size || total*descriptorSize > size-off {
		return fmt.Errorf("%w: descriptor table of %d entries at %d does not fit %d bytes", ErrNotSIF, total, off, size)
	}
	return nil
}

// readOnly lets an io.ReaderAt pass for the read-write file sylabs.LoadContainer
// asks for; nothing here writes.
type readOnly struct{ io.ReaderAt }

var errReadOnly = errors.New("sifread: read-only")

func (readOnly) Write([]byte) (int, error)      { return 0, errReadOnly }
func (readOnly) Seek(int64, int) (int64, error) { return 0, errReadOnly }
func (readOnly) Truncate(int64) error           { return errReadOnly }

// knownArch maps the library's "unknown" to empty.
func knownArch(a string) string {
	if a == "unknown" {
		return ""
	}
	return a
}
