package testlayers

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sylabs "github.com/sylabs/sif/v2/pkg/sif"
)

// SIFObject is one descriptor of a SIF under construction.
type SIFObject struct {
	Type sylabs.DataType
	Data []byte
	Opts []sylabs.DescriptorInputOpt
}

// DefFile is the definition file object.
func DefFile(def string) SIFObject { return SIFObject{Type: sylabs.DataDeffile, Data: []byte(def)} }

// GenericJSON is a named JSON.Generic object (apptainer's oci-config.json,
// inspect-metadata.json).
func GenericJSON(name, body string) SIFObject {
	return SIFObject{Type: sylabs.DataGenericJSON, Data: []byte(body), Opts: []sylabs.DescriptorInputOpt{sylabs.OptObjectName(name)}}
}

// Partition is the primary system partition for amd64.
func Partition(fs sylabs.FSType, data []byte) SIFObject {
	return SIFObject{Type: sylabs.DataPartition, Data: data, Opts: []sylabs.DescriptorInputOpt{sylabs.OptPartitionMetadata(fs, sylabs.PartPrimSys, "amd64")}}
}

// SIF assembles a SIF file as apptainer's assembler does; created is its
// creation time (zero for a deterministic file).
func SIF(t testing.TB, created time.Time, objects ...SIFObject) []byte {
	t.Helper()
	var dis []sylabs.DescriptorInput
	for _, o := range objects {
		di, err := sylabs.NewDescriptorInput(o.Type, bytes.NewReader(o.Data), o.Opts...)
		if err != nil {
			t.Fatal(err)
		}
		dis = append(dis, di)
	}
	buf := sylabs.NewBuffer(nil)
	f, err := sylabs.CreateContainer(buf, sylabs.OptCreateWithDescriptors(dis...), sylabs.OptCreateWithTime(created),
		sylabs.OptCreateWithID("8a0b2a7f-3c44-4d3e-9f7e-0a1b2c3d4e5f"), sylabs.OptCreateWithLaunchScript("#!/usr/bin/env run-singularity\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.UnloadContainer(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Mksquashfs makes a squashfs image of dir with the real tool, as apptainer
// does, owned by root; args add mksquashfs options (-comp, -b, ...).
func Mksquashfs(t testing.TB, dir string, args ...string) []byte {
	t.Helper()
	bin, err := exec.LookPath("mksquashfs")
	if err != nil {
		t.Fatal("mksquashfs not found: install the Debian package squashfs-tools (scripts/install-test-deps.sh)")
	}
	out := filepath.Join(t.TempDir(), "img.sqfs")
	cmd := exec.Command(bin, append([]string{dir, out, "-noappend", "-quiet", "-no-progress", "-all-root"}, args...)...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mksquashfs %v: %v\n%s", args, err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// WriteTree writes files (path → content) under dir; a content of the form
// "-> target" makes a symlink.
func WriteTree(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if target, ok := strings.CutPrefix(body, "-> "); ok {
			err = os.Symlink(target, p)
		} else {
			err = os.WriteFile(p, []byte(body), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}
