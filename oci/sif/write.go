package sif

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	sylabs "github.com/sylabs/sif/v2/pkg/sif"
)

// launchScript is the first line apptainer gives every SIF, so that an
// executable SIF runs itself through run-singularity.
const launchScript = "#!/usr/bin/env run-singularity\n"

// Image is the metadata a SIF carries besides its root filesystem.
type Image struct {
	// DefFile is the definition file; for an image converted from a
	// registry, the two-line bootstrap apptainer writes (DockerDefFile).
	DefFile string
	// Config is the OCI image config of a converted image, stored as the
	// oci-config.json object; nil for a definition-file build.
	Config *v1.ImageConfig
	// Labels, Environment (script path → body) and Runscript go into the
	// inspect metadata object, as `apptainer inspect --json` shows them.
	Labels      map[string]string
	Environment map[string]string
	Runscript   string
	// Arch is the Go architecture of the root filesystem ("amd64").
	Arch string
	// Created is the file's creation time; zero makes a deterministic file
	// (no time, a fixed ID), as reproducible builds want.
	Created time.Time
}

// DockerDefFile is the definition file apptainer records for an image
// pulled or built from a registry reference.
func DockerDefFile(ref string) string { return "bootstrap: docker\nfrom: " + ref + "\n" }

// ErrNoArch is returned for an Image without an architecture.
var ErrNoArch = errors.New("sif: image has no architecture")

// Write writes a SIF to w laid out as apptainer 1.5's assembler lays it
// out: the definition file, the inspect metadata and OCI config JSON
// objects, then the squashfs read from partition as the primary system
// partition of img.Arch, aligned to 4 KiB.
func Write(w sylabs.ReadWriter, img Image, partition io.Reader) error {
	if img.Arch == "" {
		return ErrNoArch
	}
	inputs, err := metadataObjects(img)
	if err != nil {
		return err
	}
	part, err := sylabs.NewDescriptorInput(sylabs.DataPartition, partition,
		sylabs.OptPartitionMetadata(sylabs.FsSquash, sylabs.PartPrimSys, img.Arch))
	if err != nil {
		return fmt.Errorf("sif: partition: %w", err)
	}
	opts := []sylabs.CreateOpt{
		sylabs.OptCreateWithDescriptors(append(inputs, part)...),
		sylabs.OptCreateWithLaunchScript(launchScript),
		sylabs.OptCreateWithCloseOnUnload(false),
	}
	if img.Created.IsZero() {
		opts = append(opts, sylabs.OptCreateDeterministic())
	} else {
		opts = append(opts, sylabs.OptCreateWithTime(img.Created))
	}
	f, err := sylabs.CreateContainer(w, opts...)
	if err != nil {
		return fmt.Errorf("sif: writing: %w", err)
	}
	return f.UnloadContainer()
}

// metadataObjects are the descriptors before the partition.
func metadataObjects(img Image) ([]sylabs.DescriptorInput, error) {
	var objects []sylabs.DescriptorInput
	add := func(t sylabs.DataType, data []byte, opts ...sylabs.DescriptorInputOpt) error {
		di, err := sylabs.NewDescriptorInput(t, bytes.NewReader(data), opts...)
		objects = append(objects, di)
		return err
	}
	if img.DefFile != "" {
		if err := add(sylabs.DataDeffile, []byte(img.DefFile)); err != nil {
			return nil, err
		}
	}
	inspect, err := inspectJSON(img)
	if err != nil {
		return nil, err
	}
	if err := add(sylabs.DataGenericJSON, inspect, sylabs.OptObjectName(inspectMetadataName)); err != nil {
		return nil, err
	}
	if img.Config != nil {
		config, err := json.Marshal(img.Config)
		if err != nil {
			return nil, err
		}
		if err := add(sylabs.DataGenericJSON, config, sylabs.OptObjectName(ociConfigName)); err != nil {
			return nil, err
		}
	}
	return objects, nil
}

// inspectJSON is the inspect metadata object in apptainer's shape.
func inspectJSON(img Image) ([]byte, error) {
	type attributes struct {
		Labels      map[string]string `json:"labels"`
		Environment map[string]string `json:"environment,omitempty"`
		Runscript   string            `json:"runscript,omitempty"`
		Deffile     string            `json:"deffile,omitempty"`
	}
	var m struct {
		Data struct {
			Attributes attributes `json:"attributes"`
		} `json:"data"`
		Type string `json:"type"`
	}
	m.Type = "container"
	labels := img.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	m.Data.Attributes = attributes{Labels: labels, Environment: img.Environment, Runscript: img.Runscript, Deffile: img.DefFile}
	return json.Marshal(m)
}

// Build makes a SIF at out from the root filesystem in dir: mksquashfs
// (every file owned by root, as apptainer builds it) into a temporary file
// beside out, then Write. A zero img.Created makes the whole file
// reproducible: the squashfs's times are fixed as well. The caller prepares dir (Prepare) and publishes
// out; on error out is removed.
func Build(dir, out string, img Image) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(out), ".squashfs-*")
	if err != nil {
		return err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	var reproducible []string
	if img.Created.IsZero() { // every time in the squashfs fixed too
		reproducible = []string{"-mkfs-time", "0", "-all-time", "0"}
	}
	if err := Mksquashfs(dir, tmp.Name(), reproducible...); err != nil {
		return err
	}
	part, err := os.Open(tmp.Name())
	if err != nil {
		return err
	}
	defer part.Close()
	f, err := os.OpenFile(out, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(out)
		}
	}()
	return Write(f, img, part)
}

// Mksquashfs makes a squashfs of dir at out with the mksquashfs tool, all
// files owned by root, as apptainer does; args add mksquashfs options.
func Mksquashfs(dir, out string, args ...string) error {
	bin, err := exec.LookPath("mksquashfs")
	if err != nil {
		return fmt.Errorf("mksquashfs not found (Debian package squashfs-tools): %w", err)
	}
	cmd := exec.Command(bin, append([]string{dir, out, "-noappend", "-all-root", "-no-progress", "-quiet"}, args...)...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("mksquashfs %s: %v: %s", dir, err, bytes.TrimSpace(msg))
	}
	return nil
}

// ExtractPrimary copies the primary system partition of the SIF at path
// to out: the squashfs of a SIF stored in a registry.
func ExtractPrimary(path, out string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if err := checkHeader(f, fi.Size()); err != nil {
		return err
	}
	img, err := sylabs.LoadContainer(readOnly{f}, sylabs.OptLoadWithCloseOnUnload(false))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNotSIF, err)
	}
	d, err := img.GetDescriptor(sylabs.WithPartitionType(sylabs.PartPrimSys))
	if err != nil {
		return fmt.Errorf("%s: no primary partition: %w", path, err)
	}
	if fs, _, _, err := d.PartitionMetadata(); err != nil || fs != sylabs.FsSquash {
		return fmt.Errorf("%s: primary partition is not squashfs", path)
	}
	if d.Offset() < 0 || d.Size() < 0 || d.Offset()+d.Size() > fi.Size() {
		return fmt.Errorf("%s: primary partition lies outside the file", path)
	}
	w, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, io.NewSectionReader(f, d.Offset(), d.Size())); err != nil {
		w.Close()
		os.Remove(out)
		return err
	}
	return w.Close()
}
