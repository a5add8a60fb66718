package sif_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	sylabs "github.com/sylabs/sif/v2/pkg/sif"

	"github.com/oyster-registry/oyster/internal/testlayers"
	"github.com/oyster-registry/oyster/oci"
	"github.com/oyster-registry/oyster/oci/sif"
)

// The objects `apptainer pull docker://ghcr.io/materials/pymatgen:2024.2.8`
// writes besides the partition.
const (
	defFile   = "bootstrap: docker\nfrom: ghcr.io/materials/pymatgen:2024.2.8\n"
	ociConfig = `{"User":"1000:1000","ExposedPorts":{"8888/tcp":{}},"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","OMPI_VERSION=4.1.6"],` +
		`"Cmd":["python3"],"WorkingDir":"/work","Labels":{"org.opencontainers.image.ref.name":"ubuntu","org.opencontainers.image.version":"22.04","maintainer":"materials@example.org"}}`
	inspectMetadata = `{"data":{"attributes":{"labels":{"org.label-schema.build-arch":"amd64","org.label-schema.schema-version":"1.0"},` +
		`"deffile":"bootstrap: docker\nfrom: ghcr.io/materials/pymatgen:2024.2.8\n","runscript":"#!/bin/sh\nexec python3\n",` +
		`"environment":{"/.singularity.d/env/90-environment.sh":"#!/bin/sh\nexport A=1\n"}}},"type":"container"}`
)

// rootfs copies testdata/rootfs to a temporary directory and adds what git
// does not keep well: the dot directory and the symlinks apptainer makes.
func rootfs(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	must(t, os.CopyFS(dir, os.DirFS("testdata/rootfs")))
	must(t, os.Rename(filepath.Join(dir, "singularity.d"), filepath.Join(dir, ".singularity.d")))
	must(t, os.Symlink(".singularity.d/runscript", filepath.Join(dir, "singularity")))
	must(t, os.Symlink(".singularity.d/env/90-environment.sh", filepath.Join(dir, "environment")))
	return dir
}

func deffile() testlayers.SIFObject { return testlayers.DefFile(defFile) }

// pulledSIF is what `apptainer pull docker://` makes of the test rootfs.
func pulledSIF(t *testing.T) []byte {
	return testlayers.SIF(t, time.Date(2024, 3, 7, 10, 12, 1, 0, time.UTC),
		deffile(), testlayers.GenericJSON("inspect-metadata.json", inspectMetadata), testlayers.GenericJSON("oci-config.json", ociConfig),
		testlayers.Partition(sylabs.FsSquash, testlayers.Mksquashfs(t, rootfs(t))))
}

func read(t *testing.T, b []byte, l oci.Limits) sif.Info {
	t.Helper()
	info, err := sif.Read(bytes.NewReader(b), int64(len(b)), l)
	must(t, err)
	return info
}

func TestPulledSIF(t *testing.T) {
	info := read(t, pulledSIF(t), oci.Limits{})
	if info.Root == nil {
		t.Fatalf("no root: %q", info.Problems)
	}
	info.Root = nil
	want := sif.Info{
		Arch:    "amd64",
		DefFile: defFile,
		Labels: map[string]string{
			"maintainer":                                           "materials@example.org",
			"org.label-schema.build-arch":                          "amd64",
			"org.label-schema.build-date":                          "Thursday_7_March_2024_10:12:1_UTC",
			"org.label-schema.schema-version":                      "1.0",
			"org.label-schema.usage.apptainer.version":             "1.2.5",
			"org.label-schema.usage.singularity.deffile.bootstrap": "docker",
			"org.label-schema.usage.singularity.deffile.from":      "ghcr.io/materials/pymatgen:2024.2.8",
			"org.opencontainers.image.ref.name":                    "ubuntu",
			"org.opencontainers.image.version":                     "22.04",
		},
		Env: "# /.singularity.d/env/10-docker2singularity.sh\n" + readTestdata(t, "singularity.d/env/10-docker2singularity.sh") +
			"# /.singularity.d/env/90-environment.sh\n" + readTestdata(t, "singularity.d/env/90-environment.sh"),
		Runscript:  readTestdata(t, "singularity.d/runscript"),
		Partitions: []string{"FS (Squashfs/*System/amd64)"},
		Config: sif.Config{
			Env:          []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "OMPI_VERSION=4.1.6"},
			Cmd:          []string{"python3"},
			WorkingDir:   "/work",
			User:         "1000:1000",
			ExposedPorts: []string{"8888/tcp"},
		},
		Created: time.Date(2024, 3, 7, 10, 12, 1, 0, time.UTC),
	}
	if !reflect.DeepEqual(info, want) {
		t.Errorf("got  %#v\nwant %#v", info, want)
	}
}

// TestPulledSIFRoot reads the primary partition through Root: every file of
// the tree it was made from, with its content.
func TestPulledSIFRoot(t *testing.T) {
	info := read(t, pulledSIF(t), oci.Limits{})
	want := os.DirFS("testdata/rootfs")
	err := fs.WalkDir(want, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		inSIF := strings.Replace(p, "singularity.d", ".singularity.d", 1)
		got, err := fs.ReadFile(info.Root, inSIF)
		if err != nil {
			return err
		}
		if body, _ := fs.ReadFile(want, p); !bytes.Equal(got, body) {
			t.Errorf("%s: read %q, want %q", inSIF, got, body)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestInspectMetadataFallback reads a SIF whose partition is not squashfs:
// what the root filesystem would say comes from the inspect metadata.
func TestInspectMetadataFallback(t *testing.T) {
	b := testlayers.SIF(t, time.Time{}, testlayers.GenericJSON("inspect-metadata.json", inspectMetadata), testlayers.Partition(sylabs.FsExt3, make([]byte, 4096)))
	info := read(t, b, oci.Limits{})
	if info.DefFile != defFile || info.Runscript != "#!/bin/sh\nexec python3\n" ||
		info.Env != "# /.singularity.d/env/90-environment.sh\n#!/bin/sh\nexport A=1\n" ||
		info.Labels["org.label-schema.schema-version"] != "1.0" || info.Root != nil || !info.Created.IsZero() {
		t.Errorf("%#v", info)
	}
	if want := []string{"primary partition is Ext3: its contents are not indexed"}; !reflect.DeepEqual(info.Problems, want) {
		t.Errorf("problems %q", info.Problems)
	}
}

func TestDefFileOnly(t *testing.T) {
	info := read(t, testlayers.SIF(t, time.Time{}, deffile()), oci.Limits{})
	want := sif.Info{DefFile: defFile, Arch: info.Arch, Problems: []string{"no primary system partition: contents not indexed"}}
	if !reflect.DeepEqual(info, want) {
		t.Errorf("got %#v", info)
	}
}

func TestLabelsObjects(t *testing.T) {
	b := testlayers.SIF(t, time.Time{},
		testlayers.SIFObject{Type: sylabs.DataLabels, Data: []byte(`{"a":"1","n":2,"b":true,"skip":{"x":1},"null":null}`)},
		testlayers.GenericJSON("labels.json", `{"a":"from generic"}`),
		testlayers.GenericJSON("other-tool.json", `[1,2,3]`),
		testlayers.GenericJSON("oci-config.json", `{"Env":`),
	)
	info := read(t, b, oci.Limits{})
	if want := map[string]string{"a": "from generic", "n": "2", "b": "true"}; !reflect.DeepEqual(info.Labels, want) {
		t.Errorf("labels %q", info.Labels)
	}
	if len(info.Problems) != 2 || !strings.HasPrefix(info.Problems[0], `JSON.Generic object "oci-config.json": unexpected end of JSON input`) {
		t.Errorf("problems %q", info.Problems)
	}
}

func TestNotSIF(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	junk := make([]byte, 64<<10)
	for i := range junk {
		junk[i] = byte(rng.IntN(256))
	}
	good := testlayers.SIF(t, time.Time{}, deffile())
	forged := bytes.Clone(good)
	binary.LittleEndian.PutUint64(forged[88:], 1<<40) // descriptors total
	for name, b := range map[string][]byte{
		"empty": nil, "random": junk, "header only": good[:100], "cut descriptors": good[:200], "forged count": forged,
		"squashfs": testlayers.Mksquashfs(t, rootfs(t)),
	} {
		if _, err := sif.Read(bytes.NewReader(b), int64(len(b)), oci.Limits{}); !errors.Is(err, sif.ErrNotSIF) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestTruncated cuts a pulled SIF at many points: each gives ErrNotSIF or
// an Info whose Problems say what was cut off.
func TestTruncated(t *testing.T) {
	b := pulledSIF(t)
	for cut := 0; cut < len(b); cut += 1 + len(b)/61 {
		info, err := sif.Read(bytes.NewReader(b[:cut]), int64(cut), oci.Limits{})
		if err == nil && len(info.Problems) == 0 {
			t.Errorf("cut at %d of %d: no error, no problem", cut, len(b))
		}
	}
}

// TestAbsurdDescriptor forges one descriptor's size and another's offset.
func TestAbsurdDescriptor(t *testing.T) {
	b := pulledSIF(t)
	table := int(binary.LittleEndian.Uint64(b[96:]))
	const descriptorSize, offsetField, sizeField = 585, 17, 25
	binary.LittleEndian.PutUint64(b[table+offsetField:], 1<<62)                // def file
	binary.LittleEndian.PutUint64(b[table+3*descriptorSize+sizeField:], 1<<62) // partition
	info := read(t, b, oci.Limits{})
	want := []string{
		"Def.FILE object 1: 60 bytes at 4611686018427387904 lie outside the file",
		"FS object 4: 4611686018427387904 bytes at 36864 lie outside the file",
		"no primary system partition: contents not indexed",
	}
	// The definition file still comes from the inspect metadata.
	if info.DefFile != defFile || info.Root != nil || !reflect.DeepEqual(info.Problems, want) {
		t.Errorf("def file %q, problems %q", info.DefFile, info.Problems)
	}
}

func TestPartitionNotSquashfs(t *testing.T) {
	junk := bytes.Repeat([]byte("not squashfs "), 1000)
	info := read(t, testlayers.SIF(t, time.Time{}, deffile(), testlayers.Partition(sylabs.FsSquash, junk)), oci.Limits{})
	if info.Root != nil || info.Arch != "amd64" || len(info.Problems) != 1 || !strings.Contains(info.Problems[0], "not a squashfs") {
		t.Errorf("root %v, problems %q", info.Root, info.Problems)
	}
	info = read(t, testlayers.SIF(t, time.Time{}, testlayers.Partition(sylabs.FsEncryptedSquashfs, junk)), oci.Limits{})
	if len(info.Problems) != 1 || !strings.Contains(info.Problems[0], "Encrypted squashfs") {
		t.Errorf("encrypted: %q", info.Problems)
	}
}

// TestLimits: objects and files over MaxFileBytes become Problems; a scan
// over the partition's byte budget stops with a LimitError.
func TestLimits(t *testing.T) {
	b := pulledSIF(t)
	info := read(t, b, oci.Limits{MaxFileBytes: 300})
	joined := strings.Join(info.Problems, "\n")
	for _, want := range []string{
		fmt.Sprintf(`JSON.Generic object "oci-config.json": %d bytes, over the limit of 300`, len(ociConfig)),
		"/.singularity.d/runscript: over the limit of 300 bytes",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("problems lack %q:\n%s", want, joined)
		}
	}
	var le *oci.LimitError
	if _, err := fs.ReadFile(info.Root, "var/lib/dpkg/status"); !errors.As(err, &le) || le.Limit != oci.LimitFileBytes || le.Max != 300 {
		t.Errorf("reading a file over the limit: %v", err)
	}
	info = read(t, b, oci.Limits{MaxLayerBytes: 8000})
	if err := readAll(info.Root); !errors.As(err, &le) || le.Limit != oci.LimitLayerBytes {
		t.Errorf("reading the partition over its byte budget: %v", err)
	}
}

func readTestdata(t *testing.T, p string) string {
	b, err := os.ReadFile(filepath.Join("testdata/rootfs", p))
	must(t, err)
	return string(b)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestEmbeddedSBOM reads an SBOM object of the SIF with its format.
func TestEmbeddedSBOM(t *testing.T) {
	doc := `{"spdxVersion":"SPDX-2.3","packages":[{"name":"numpy","versionInfo":"1.26.4",` +
		`"externalRefs":[{"referenceType":"purl","referenceLocator":"pkg:pypi/numpy@1.26.4"}]}]}`
	b := testlayers.SIF(t, time.Time{}, deffile(),
		testlayers.SIFObject{Type: sylabs.DataSBOM, Data: []byte(doc), Opts: []sylabs.DescriptorInputOpt{sylabs.OptSBOMMetadata(sylabs.SBOMFormatSPDXJSON)}})
	info := read(t, b, oci.Limits{})
	if len(info.SBOMs) != 1 || info.SBOMs[0].MediaType != "application/spdx+json" || string(info.SBOMs[0].Data) != doc {
		t.Fatalf("%+v", info.SBOMs)
	}
}

// readAll reads every regular file of fsys and returns the first error.
func readAll(fsys fs.FS) error {
	return fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		_, err = fs.ReadFile(fsys, p)
		return err
	})
}
