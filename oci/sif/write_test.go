package sif_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	sylabs "github.com/sylabs/sif/v2/pkg/sif"

	"github.com/oyster-registry/oyster/internal/testlayers"
	"github.com/oyster-registry/oyster/oci"
	"github.com/oyster-registry/oyster/oci/sif"
)

// converted builds a SIF of a small rootfs as the stager converts a
// registry image, and returns its bytes and path.
func converted(t *testing.T, created time.Time) ([]byte, string) {
	t.Helper()
	dir := t.TempDir()
	testlayers.WriteTree(t, dir, map[string]string{
		"etc/os-release":  "ID=debian\n",
		"usr/bin/hello":   "#!/bin/sh\necho hello\n",
		"usr/lib/libx.so": "-> libx.so.1",
	})
	cfg := v1.ImageConfig{
		Env:    []string{"PATH=/usr/bin:/bin", `GREETING=say "hi" $HOME`},
		Cmd:    []string{"hello", "it's"},
		Labels: map[string]string{"org.opencontainers.image.version": "1.2"},
	}
	img := sif.FromConfig("oyster.example/lab/hello:1.2", cfg, "amd64")
	img.Created = created
	must(t, sif.Prepare(dir, img))
	out := filepath.Join(t.TempDir(), "hello.sif")
	must(t, sif.Build(dir, out, img))
	b, err := os.ReadFile(out)
	must(t, err)
	return b, out
}

func TestWriteReadBack(t *testing.T) {
	b, _ := converted(t, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	info := read(t, b, oci.Limits{})
	if len(info.Problems) > 0 {
		t.Fatalf("problems: %q", info.Problems)
	}
	if info.Root == nil {
		t.Fatal("no root filesystem")
	}
	if got, err := fsReadFile(info, "usr/bin/hello"); err != nil || got != "#!/bin/sh\necho hello\n" {
		t.Errorf("usr/bin/hello = %q, %v", got, err)
	}
	info.Root = nil
	want := sif.Info{
		Arch:    "amd64",
		DefFile: "bootstrap: docker\nfrom: oyster.example/lab/hello:1.2\n",
		Labels: map[string]string{
			"org.label-schema.schema-version":                      "1.0",
			"org.label-schema.build-arch":                          "amd64",
			"org.label-schema.usage.singularity.deffile.bootstrap": "docker",
			"org.label-schema.usage.singularity.deffile.from":      "oyster.example/lab/hello:1.2",
			"org.opencontainers.image.version":                     "1.2",
		},
		Env:        "# /.singularity.d/env/10-docker2singularity.sh\n#!/bin/sh\nexport PATH=\"${PATH:-/usr/bin:/bin}\"\nexport GREETING=\"${GREETING:-say \\\"hi\\\" \\$HOME}\"\n# /.singularity.d/env/90-environment.sh\n#!/bin/sh\n# Custom environment shell code should follow\n",
		Partitions: []string{"FS (Squashfs/*System/amd64)"},
		Config:     sif.Config{Env: []string{"PATH=/usr/bin:/bin", `GREETING=say "hi" $HOME`}, Cmd: []string{"hello", "it's"}},
		Created:    time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	if !strings.Contains(info.Runscript, `OCI_CMD=''\''hello'\'' '\''it'\''\'\'''\''s'\'''`) {
		t.Errorf("runscript does not quote the command: %s", info.Runscript)
	}
	info.Runscript = ""
	if !reflect.DeepEqual(info, want) {
		t.Errorf("read back\n got %#v\nwant %#v", info, want)
	}
}

// TestRunscriptRuns runs the generated runscript with sh: the command with
// its quote, then arguments in its place.
func TestRunscriptRuns(t *testing.T) {
	img := sif.FromConfig("x/y:1", v1.ImageConfig{Entrypoint: []string{"printf", "%s|"}, Cmd: []string{"it's", "a b"}}, "amd64")
	script := filepath.Join(t.TempDir(), "runscript")
	must(t, os.WriteFile(script, []byte(img.Runscript), 0o755))
	for _, c := range []struct {
		args []string
		want string
	}{{nil, "it's|a b|"}, {[]string{"x y", "z"}, "x y|z|"}} {
		out, err := exec.Command(script, c.args...).Output()
		if err != nil || string(out) != c.want {
			t.Errorf("runscript %q = %q, %v; want %q", c.args, out, err, c.want)
		}
	}
}

func TestDeterministic(t *testing.T) {
	a, _ := converted(t, time.Time{})
	b, _ := converted(t, time.Time{})
	if !bytes.Equal(a, b) {
		t.Error("two deterministic builds of the same tree differ")
	}
}

// TestSiftoolList checks the layout with the SIF project's own tool.
func TestSiftoolList(t *testing.T) {
	siftool, err := exec.LookPath("siftool")
	if err != nil { // where scripts/install-test-deps.sh puts it, if PATH lacks it
		siftool, err = exec.LookPath("../../.cache/tools/bin/siftool")
	}
	if err != nil {
		t.Fatal("siftool not found: run scripts/install-test-deps.sh and put .cache/tools/bin on PATH")
	}
	_, path := converted(t, time.Now())
	out, err := exec.Command(siftool, "list", path).CombinedOutput()
	if err != nil {
		t.Fatalf("siftool list: %v\n%s", err, out)
	}
	var types []string
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Split(line, "|"); len(f) == 5 && strings.TrimSpace(f[0]) != "ID" {
			types = append(types, strings.TrimSpace(f[4]))
		}
	}
	want := []string{"Def.FILE", "JSON.Generic", "JSON.Generic", "FS (Squashfs/*System/amd64)"}
	if !reflect.DeepEqual(types, want) {
		t.Errorf("siftool list objects %q, want %q\n%s", types, want, out)
	}
	f, err := os.Open(path)
	must(t, err)
	defer f.Close()
	img, err := sylabs.LoadContainer(f, sylabs.OptLoadWithFlag(os.O_RDONLY))
	must(t, err)
	defer img.UnloadContainer()
	d, err := img.GetDescriptor(sylabs.WithPartitionType(sylabs.PartPrimSys))
	must(t, err)
	if d.Offset()%4096 != 0 {
		t.Errorf("partition at %d, not 4 KiB aligned", d.Offset())
	}
	if img.LaunchScript() != "#!/usr/bin/env run-singularity\n" {
		t.Errorf("launch script %q", img.LaunchScript())
	}
}

func TestWriteNoArch(t *testing.T) {
	buf := sylabs.NewBuffer(nil)
	if err := sif.Write(buf, sif.Image{DefFile: "x"}, strings.NewReader("sq")); !errors.Is(err, sif.ErrNoArch) {
		t.Errorf("Write without arch: %v", err)
	}
	if len(buf.Bytes()) != 0 {
		t.Errorf("Write without arch wrote %d bytes", len(buf.Bytes()))
	}
}

// TestPrepareDoesNotFollowLinks: a metadata directory that is a symlink
// is replaced, not written through.
func TestPrepareDoesNotFollowLinks(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	must(t, os.Symlink(outside, filepath.Join(dir, ".singularity.d")))
	must(t, sif.Prepare(dir, sif.FromConfig("x/y:1", v1.ImageConfig{}, "amd64")))
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("Prepare wrote through the link: %v", entries)
	}
	if _, err := os.Stat(filepath.Join(dir, ".singularity.d/actions/exec")); err != nil {
		t.Error(err)
	}
}

func TestBuildFailureLeavesNothing(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x.sif")
	if err := sif.Build(filepath.Join(t.TempDir(), "missing"), out, sif.Image{Arch: "amd64"}); err == nil {
		t.Fatal("Build of a missing directory succeeded")
	}
	entries, _ := os.ReadDir(filepath.Dir(out))
	if len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}

func fsReadFile(info sif.Info, name string) (string, error) {
	b, err := fs.ReadFile(info.Root, name)
	return string(b), err
}
