package sifread_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sylabs/sif/v2/pkg/sif"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/sbom"
	"github.com/oyster-registry/oyster/catalog/sifread"
	"github.com/oyster-registry/oyster/oci"
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

func mksquashfs(t testing.TB, dir string) []byte {
	t.Helper()
	bin, err := exec.LookPath("mksquashfs")
	if err != nil {
		t.Fatal("mksquashfs not found: install the Debian package squashfs-tools")
	}
	out := filepath.Join(t.TempDir(), "rootfs.sqfs")
	if msg, err := exec.Command(bin, dir, out, "-noappend", "-quiet", "-no-progress", "-all-root").CombinedOutput(); err != nil {
		t.Fatalf("mksquashfs: %v\n%s", err, msg)
	}
	b, err := os.ReadFile(out)
	must(t, err)
	return b
}

// object is one descriptor of a SIF under construction.
type object struct {
	typ  sif.DataType
	data []byte
	opts []sif.DescriptorInputOpt
}

func deffile() object { return object{typ: sif.DataDeffile, data: []byte(defFile)} }

func genericJSON(name, body string) object {
	return object{typ: sif.DataGenericJSON, data: []byte(body), opts: []sif.DescriptorInputOpt{sif.OptObjectName(name)}}
}

func partition(fs sif.FSType, data []byte) object {
	return object{typ: sif.DataPartition, data: data, opts: []sif.DescriptorInputOpt{sif.OptPartitionMetadata(fs, sif.PartPrimSys, "amd64")}}
}

// makeSIF assembles a SIF as apptainer's SIF assembler does.
func makeSIF(t testing.TB, created time.Time, objects ...object) []byte {
	t.Helper()
	var dis []sif.DescriptorInput
	for _, o := range objects {
		di, err := sif.NewDescriptorInput(o.typ, bytes.NewReader(o.data), o.opts...)
		must(t, err)
		dis = append(dis, di)
	}
	buf := sif.NewBuffer(nil)
	f, err := sif.CreateContainer(buf, sif.OptCreateWithDescriptors(dis...), sif.OptCreateWithTime(created),
		sif.OptCreateWithID("8a0b2a7f-3c44-4d3e-9f7e-0a1b2c3d4e5f"), sif.OptCreateWithLaunchScript("#!/usr/bin/env run-singularity\n"))
	must(t, err)
	must(t, f.UnloadContainer())
	return buf.Bytes()
}

// pulledSIF is what `apptainer pull docker://` makes of the test rootfs.
func pulledSIF(t *testing.T) []byte {
	return makeSIF(t, time.Date(2024, 3, 7, 10, 12, 1, 0, time.UTC),
		deffile(), genericJSON("inspect-metadata.json", inspectMetadata), genericJSON("oci-config.json", ociConfig),
		partition(sif.FsSquash, mksquashfs(t, rootfs(t))))
}

func read(t *testing.T, b []byte, l oci.Limits) sifread.Info {
	t.Helper()
	info, err := sifread.Read(bytes.NewReader(b), int64(len(b)), l)
	must(t, err)
	return info
}

func TestPulledSIF(t *testing.T) {
	info := read(t, pulledSIF(t), oci.Limits{})
	if info.Root == nil {
		t.Fatalf("no root: %q", info.Problems)
	}
	info.Root = nil
	want := sifread.Info{
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
		Config: sifread.Config{
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

// TestPulledSIFPackages scans the partition as the indexer does and checks
// every package and the OS.
func TestPulledSIFPackages(t *testing.T) {
	info := read(t, pulledSIF(t), oci.Limits{})
	facts, err := catalog.ScanFS(info.Root, oci.Limits{})
	must(t, err)
	img := catalog.Merge([]catalog.LayerFacts{facts})
	var got []string
	for _, p := range img.Packages {
		got = append(got, fmt.Sprintf("%s %s %s %s", p.Ecosystem, p.Name, p.Version, p.Source))
	}
	want := []string{
		"deb base-files 12ubuntu4.6 var/lib/dpkg/status",
		"deb libc6 2.35-0ubuntu3.6 var/lib/dpkg/status",
		"deb python3-numpy 1:1.21.5-1ubuntu22.04.1 var/lib/dpkg/status",
		"deb python3.10-minimal 3.10.12-1~22.04.3 var/lib/dpkg/status",
		"deb zlib1g 1:1.2.11.dfsg-2ubuntu9.2 var/lib/dpkg/status",
		"python numpy 1.21.5 usr/lib/python3/dist-packages/numpy-1.21.5.dist-info/METADATA",
		"python pymatgen 2024.2.8 usr/local/lib/python3.10/dist-packages/pymatgen-2024.2.8.dist-info/METADATA",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("packages:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if img.OS == nil || img.OS.ID != "ubuntu" || img.OS.VersionID != "22.04" || img.OS.VersionCodename != "jammy" {
		t.Errorf("os: %+v", img.OS)
	}
	if len(img.Problems) != 0 {
		t.Errorf("problems: %q", img.Problems)
	}
}

// TestInspectMetadataFallback reads a SIF whose partition is not squashfs:
// what the root filesystem would say comes from the inspect metadata.
func TestInspectMetadataFallback(t *testing.T) {
	b := makeSIF(t, time.Time{}, genericJSON("inspect-metadata.json", inspectMetadata), partition(sif.FsExt3, make([]byte, 4096)))
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
	info := read(t, makeSIF(t, time.Time{}, deffile()), oci.Limits{})
	want := sifread.Info{DefFile: defFile, Arch: info.Arch, Problems: []string{"no primary system partition: contents not indexed"}}
	if !reflect.DeepEqual(info, want) {
		t.Errorf("got %#v", info)
	}
}

func TestLabelsObjects(t *testing.T) {
	b := makeSIF(t, time.Time{},
		object{typ: sif.DataLabels, data: []byte(`{"a":"1","n":2,"b":true,"skip":{"x":1},"null":null}`)},
		genericJSON("labels.json", `{"a":"from generic"}`),
		genericJSON("other-tool.json", `[1,2,3]`),
		genericJSON("oci-config.json", `{"Env":`),
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
	good := makeSIF(t, time.Time{}, deffile())
	forged := bytes.Clone(good)
	binary.LittleEndian.PutUint64(forged[88:], 1<<40) // descriptors total
	for name, b := range map[string][]byte{
		"empty": nil, "random": junk, "header only": good[:100], "cut descriptors": good[:200], "forged count": forged,
		"squashfs": mksquashfs(t, rootfs(t)),
	} {
		if _, err := sifread.Read(bytes.NewReader(b), int64(len(b)), oci.Limits{}); !errors.Is(err, sifread.ErrNotSIF) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestTruncated cuts a pulled SIF at many points: each gives ErrNotSIF or
// an Info whose Problems say what was cut off.
func TestTruncated(t *testing.T) {
	b := pulledSIF(t)
	for cut := 0; cut < len(b); cut += 1 + len(b)/61 {
		info, err := sifread.Read(bytes.NewReader(b[:cut]), int64(cut), oci.Limits{})
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
	info := read(t, makeSIF(t, time.Time{}, deffile(), partition(sif.FsSquash, junk)), oci.Limits{})
	if info.Root != nil || info.Arch != "amd64" || len(info.Problems) != 1 || !strings.Contains(info.Problems[0], "not a squashfs") {
		t.Errorf("root %v, problems %q", info.Root, info.Problems)
	}
	info = read(t, makeSIF(t, time.Time{}, partition(sif.FsEncryptedSquashfs, junk)), oci.Limits{})
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
	facts, err := catalog.ScanFS(info.Root, oci.Limits{MaxFileBytes: 300})
	if err != nil || !strings.Contains(strings.Join(facts.Problems, "\n"), "var/lib/dpkg/status: file exceeds the limit of 300") {
		t.Errorf("scan: %v, %q", err, facts.Problems)
	}
	info = read(t, b, oci.Limits{MaxLayerBytes: 8000})
	var le *oci.LimitError
	if _, err := catalog.ScanFS(info.Root, oci.Limits{}); !errors.As(err, &le) || le.Limit != oci.LimitLayerBytes {
		t.Errorf("scan over the byte budget: %v", err)
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

// TestEmbeddedSBOM reads an SBOM object of the SIF and parses it as the
// indexer would.
func TestEmbeddedSBOM(t *testing.T) {
	doc := `{"spdxVersion":"SPDX-2.3","packages":[{"name":"numpy","versionInfo":"1.26.4",` +
		`"externalRefs":[{"referenceType":"purl","referenceLocator":"pkg:pypi/numpy@1.26.4"}]}]}`
	b := makeSIF(t, time.Time{}, deffile(),
		object{typ: sif.DataSBOM, data: []byte(doc), opts: []sif.DescriptorInputOpt{sif.OptSBOMMetadata(sif.SBOMFormatSPDXJSON)}})
	info := read(t, b, oci.Limits{})
	if len(info.SBOMs) != 1 || info.SBOMs[0].MediaType != "application/spdx+json" || string(info.SBOMs[0].Data) != doc {
		t.Fatalf("%+v", info.SBOMs)
	}
	pkgs, err := sbom.Parse(info.SBOMs[0].MediaType, bytes.NewReader(info.SBOMs[0].Data), 1<<20)
	if err != nil || len(pkgs) != 1 || pkgs[0].Name != "numpy" || pkgs[0].Ecosystem != "python" {
		t.Errorf("%+v, %v", pkgs, err)
	}
}
