package scan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/internal/testlayers"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/oyster-registry/oyster/catalog/pkgdb"
	"github.com/oyster-registry/oyster/oci"
)

const sitePackages = "opt/conda/lib/python3.11/site-packages/"

// debianLayers is a three-layer image: a Debian base (gzip), a layer that
// rewrites the dpkg database, deletes a Python package and adds conda, R and
// CUDA (zstd), and a layer that hides the R site library behind an opaque
// directory and adds a status.d entry (plain tar).
func debianLayers(t *testing.T) [][]byte {
	return [][]byte{
		testlayers.Gzip(t, testlayers.Tar(t,
			testlayers.Dir("etc/"),
			testlayers.Symlink("etc/os-release", "../usr/lib/os-release"),
			testlayers.File("usr/lib/os-release", testlayers.DebianOSRelease),
			testlayers.File("var/lib/dpkg/status", dpkgBase),
			testlayers.File("usr/lib/python3.11/os.py", "import abc\n"),
			testlayers.File("usr/lib/python3/dist-packages/python_apt-2.6.0.egg-info", aptPkgInfo),
			testlayers.File("usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA", sixMetadata),
			testlayers.File("usr/lib/R/library/base/DESCRIPTION", rBase),
			testlayers.File("../../etc/shadow", "root:*:"),
		)),
		testlayers.Zstd(t, testlayers.Tar(t,
			testlayers.File("var/lib/dpkg/status", dpkgUpper),
			testlayers.Whiteout("usr/lib/python3/dist-packages/six-1.16.0.dist-info"),
			testlayers.File("usr/local/lib/R/site-library/ggplot2/DESCRIPTION", ggplot2Description),
			testlayers.File("opt/conda/conda-meta/history", "==> 2024-01-01 <==\n+conda-forge/linux-64::python-3.11.7\n"),
			testlayers.File("opt/conda/conda-meta/python-3.11.7-hab00c5b_0_cpython.json", condaPython),
			testlayers.File("opt/conda/conda-meta/numpy-1.26.4-py311h64a7726_0.json", condaNumpy),
			testlayers.File(sitePackages+"numpy-1.26.4.dist-info/METADATA", numpyMetadata),
			testlayers.File(sitePackages+"setuptools/_vendor/packaging-24.0.dist-info/METADATA", packagingMetadata),
			testlayers.File("opt/conda/pkgs/numpy-1.26.4-py311h64a7726_0/lib/python3.11/site-packages/numpy-1.26.4.dist-info/METADATA", numpyMetadata),
			testlayers.File("usr/local/cuda-12.2/version.json", cudaVersionJSON),
		)),
		testlayers.Tar(t,
			testlayers.Opaque("usr/local/lib/R/site-library"),
			testlayers.File("usr/local/lib/R/site-library/data.table/DESCRIPTION", dataTableDescription),
			testlayers.File("var/lib/dpkg/status.d/tzdata", tzdataStatusD),
			testlayers.File("var/lib/dpkg/status.d/tzdata.md5sums", "d41d8cd98f00b204e9800998ecf8427e  usr/share/zoneinfo/UTC\n"),
		),
	}
}

var debianMediaTypes = []string{v1.MediaTypeImageLayerGzip, v1.MediaTypeImageLayerZstd, v1.MediaTypeImageLayer}

func scanAll(t *testing.T, blobs [][]byte, mediaTypes []string) []LayerFacts {
	t.Helper()
	var layers []LayerFacts
	for i, b := range blobs {
		f, err := ScanLayer(bytes.NewReader(b), mediaTypes[i], oci.Limits{}, catalog.Budget{})
		if err != nil {
			t.Fatalf("layer %d: %v", i, err)
		}
		layers = append(layers, f)
	}
	return layers
}

func pkgKeys(pkgs []pkgdb.Package) []string {
	var out []string
	for _, p := range pkgs {
		out = append(out, fmt.Sprintf("%s %s %s", p.Ecosystem, p.Name, p.Version))
	}
	return out
}

func TestScanAndMergeDebianImage(t *testing.T) {
	layers := scanAll(t, debianLayers(t), debianMediaTypes)
	if got := pkgKeys(Merge(layers[:1], catalog.Budget{}).Packages); !reflect.DeepEqual(got, []string{
		"deb base-files 12.4+deb12u5", "deb libc6 2.36-9+deb12u4", "deb python3.11-minimal 3.11.2-6+deb12u1",
		"python python-apt 2.6.0", "python six 1.16.0", "r base 4.3.2",
	}) {
		t.Errorf("base layer packages = %q", got)
	}
	img := Merge(layers, catalog.Budget{})
	want := []string{
		"conda numpy 1.26.4",
		"conda python 3.11.7",
		"deb base-files 12.4+deb12u5",
		"deb libc6 2.36-9+deb12u4",
		"deb r-base-core 4.2.2.20221110-2",
		"deb tzdata 2024a-0+deb12u1",
		"python numpy 1.26.4",
		"python python-apt 2.6.0",
		"r base 4.3.2",
		"r data.table 1.15.0",
	}
	if got := pkgKeys(img.Packages); !reflect.DeepEqual(got, want) {
		t.Errorf("image packages =\n%q\nwant\n%q", got, want)
	}
	if img.OS == nil || img.OS.ID != "debian" || img.OS.VersionID != "12" || img.OS.VersionCodename != "bookworm" {
		t.Errorf("os = %+v", img.OS)
	}
	if len(img.Problems) != 1 || !strings.HasPrefix(img.Problems[0], "layer 0: ../../etc/shadow: entry name leaves the image root") {
		t.Errorf("problems = %q", img.Problems)
	}
	for _, p := range img.Packages {
		if p.Name == "numpy" && p.Ecosystem == pkgdb.Python &&
			(p.Source != sitePackages+"numpy-1.26.4.dist-info/METADATA" || p.NormalizedName != "numpy") {
			t.Errorf("numpy = %+v", p)
		}
	}
}

func TestScanLayerFindings(t *testing.T) {
	layers := scanAll(t, debianLayers(t), debianMediaTypes)
	if layers[0].Compression != oci.CompressionGzip || layers[1].Compression != oci.CompressionZstd || layers[2].Compression != oci.CompressionNone {
		t.Errorf("compressions = %s %s %s", layers[0].Compression, layers[1].Compression, layers[2].Compression)
	}
	var paths []string
	for _, f := range layers[0].Findings {
		paths = append(paths, string(f.Kind)+" "+f.Path)
	}
	want := []string{
		"os-release etc/os-release",
		"r usr/lib/R/library/base/DESCRIPTION",
		"os-release usr/lib/os-release",
		"python-lib usr/lib/python3.11",
		"python usr/lib/python3/dist-packages/python_apt-2.6.0.egg-info",
		"python usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA",
		"dpkg var/lib/dpkg/status",
	}
	if !reflect.DeepEqual(paths, want) {
		t.Errorf("layer 0 findings =\n%q\nwant\n%q", paths, want)
	}
	if !reflect.DeepEqual(layers[1].Whiteouts, []string{"usr/lib/python3/dist-packages/six-1.16.0.dist-info"}) {
		t.Errorf("layer 1 whiteouts = %q", layers[1].Whiteouts)
	}
	if !reflect.DeepEqual(layers[2].OpaqueDirs, []string{"usr/local/lib/R/site-library"}) {
		t.Errorf("layer 2 opaque dirs = %q", layers[2].OpaqueDirs)
	}
}

// LayerFacts is what the registry caches by digest: it must survive JSON.
func TestLayerFactsJSONRoundTrip(t *testing.T) {
	layers := scanAll(t, debianLayers(t), debianMediaTypes)
	data, err := json.Marshal(layers)
	if err != nil {
		t.Fatal(err)
	}
	var back []LayerFacts
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, layers) {
		t.Fatalf("round trip changed the facts:\n%s", data)
	}
	if !reflect.DeepEqual(Merge(back, catalog.Budget{}), Merge(layers, catalog.Budget{})) {
		t.Error("merging cached facts differs from merging fresh ones")
	}
}

func TestMergeWhiteouts(t *testing.T) {
	pkg := func(name, src string) Finding {
		return Finding{Path: src, Kind: FilePython, Packages: []pkgdb.Package{{Name: name, Version: "1", Ecosystem: pkgdb.Python, Source: src}}}
	}
	base := LayerFacts{Findings: []Finding{
		pkg("a", "sp/a-1.dist-info/METADATA"),
		pkg("b", "sp/b-1.dist-info/METADATA"),
		pkg("c", "other/c-1.dist-info/METADATA"),
		pkg("d", "sp2/d-1.dist-info/METADATA"),
	}}
	cases := []struct {
		name  string
		upper LayerFacts
		want  []string
	}{
		{"whiteout dir", LayerFacts{Whiteouts: []string{"sp/a-1.dist-info"}}, []string{"b", "c", "d"}},
		{"whiteout file", LayerFacts{Whiteouts: []string{"sp/b-1.dist-info/METADATA"}}, []string{"a", "c", "d"}},
		{"whiteout is not a prefix match", LayerFacts{Whiteouts: []string{"sp"}}, []string{"c", "d"}},
		{"opaque dir", LayerFacts{OpaqueDirs: []string{"sp"}}, []string{"c", "d"}},
		{"opaque root", LayerFacts{OpaqueDirs: []string{""}}, nil},
		{"opaque dir keeps own content", LayerFacts{OpaqueDirs: []string{"sp"}, Findings: []Finding{pkg("e", "sp/e-1.dist-info/METADATA")}}, []string{"c", "d", "e"}},
		{"whiteout keeps same-layer content", LayerFacts{Whiteouts: []string{"sp/a-1.dist-info"}, Findings: []Finding{pkg("a2", "sp/a-1.dist-info/METADATA")}}, []string{"a2", "b", "c", "d"}},
		{"replaced by unreadable", LayerFacts{Findings: []Finding{{Path: "other/c-1.dist-info/METADATA", Kind: FilePython}}}, []string{"a", "b", "d"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, p := range Merge([]LayerFacts{base, tc.upper}, catalog.Budget{}).Packages {
				got = append(got, p.Name)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("packages = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestScanLayerAlpine(t *testing.T) {
	f, err := ScanLayer(bytes.NewReader(testlayers.Gzip(t, testlayers.Tar(t,
		testlayers.File("etc/os-release", alpineOSRelease),
		testlayers.File("lib/apk/db/installed", apkInstalled),
		testlayers.File("usr/lib/python3.11/site-packages/pip-23.3.1.dist-info/METADATA", "Metadata-Version: 2.1\nName: pip\nVersion: 23.3.1\n"),
	))), "application/vnd.docker.image.rootfs.diff.tar.gzip", oci.Limits{}, catalog.Budget{})
	if err != nil {
		t.Fatal(err)
	}
	img := Merge([]LayerFacts{f}, catalog.Budget{})
	want := []string{"apk musl 1.2.4_git20230717-r4", "apk python3 3.11.8-r0", "python pip 23.3.1"}
	if got := pkgKeys(img.Packages); !reflect.DeepEqual(got, want) {
		t.Errorf("packages = %q", got)
	}
	if img.OS == nil || img.OS.ID != "alpine" || img.OS.VersionID != "3.19.1" {
		t.Errorf("os = %+v", img.OS)
	}
	d := Infer(img, nil, nil)
	if !reflect.DeepEqual(d.Runtimes, []Runtime{{"python", "3.11.8", "apk python3"}}) {
		t.Errorf("runtimes = %+v", d.Runtimes)
	}
}

func TestScanLayerRPM(t *testing.T) {
	sqlite, err := os.ReadFile("../pkgdb/testdata/rpm/rpmdb.sqlite")
	if err != nil {
		t.Fatal(err)
	}
	bdb, err := os.ReadFile("../pkgdb/testdata/rpm/Packages-le512")
	if err != nil {
		t.Fatal(err)
	}
	lower, err := ScanLayer(bytes.NewReader(testlayers.Tar(t, testlayers.File("var/lib/rpm/Packages", string(bdb)))), "", oci.Limits{}, catalog.Budget{})
	if err != nil {
		t.Fatal(err)
	}
	upper, err := ScanLayer(bytes.NewReader(testlayers.Gzip(t, testlayers.Tar(t,
		testlayers.Whiteout("var/lib/rpm/Packages"),
		testlayers.File("usr/lib/sysimage/rpm/rpmdb.sqlite", string(sqlite)),
		testlayers.File("var/lib/rpm/Packages.db", "RpmP"+strings.Repeat("\x00", 60)),
	))), "", oci.Limits{}, catalog.Budget{})
	if err != nil {
		t.Fatal(err)
	}
	if got := pkgKeys(Merge([]LayerFacts{lower}, catalog.Budget{}).Packages); !reflect.DeepEqual(got, []string{"rpm hello-oyster 1:2.12.1-3.el9", "rpm libfoo 0.9~rc1-1"}) {
		t.Errorf("BDB packages = %q", got)
	}
	img := Merge([]LayerFacts{lower, upper}, catalog.Budget{})
	for _, p := range img.Packages {
		if p.Source != "usr/lib/sysimage/rpm/rpmdb.sqlite" {
			t.Errorf("package %s survived from %s", p.Name, p.Source)
		}
	}
	if len(img.Packages) != 2 || len(img.Problems) != 1 || !strings.Contains(img.Problems[0], "var/lib/rpm/Packages.db: ndb claims 0 slot pages") {
		t.Errorf("packages %q, problems %q", pkgKeys(img.Packages), img.Problems)
	}
}

func TestScanLayerHardlink(t *testing.T) {
	f, err := ScanLayer(bytes.NewReader(testlayers.Tar(t,
		testlayers.File(sitePackages+"numpy-1.26.4.dist-info/METADATA", numpyMetadata),
		testlayers.Hardlink("opt/venv/lib/python3.11/site-packages/numpy-1.26.4.dist-info/METADATA", sitePackages+"numpy-1.26.4.dist-info/METADATA"),
		testlayers.Hardlink("opt/venv2/lib/python3.11/site-packages/x-1.dist-info/METADATA", "usr/share/doc/unread"),
	)), "", oci.Limits{}, catalog.Budget{})
	if err != nil {
		t.Fatal(err)
	}
	var sources []string
	for _, p := range Merge([]LayerFacts{f}, catalog.Budget{}).Packages {
		sources = append(sources, p.Source)
	}
	sort.Strings(sources)
	if !reflect.DeepEqual(sources, []string{sitePackages + "numpy-1.26.4.dist-info/METADATA", "opt/venv/lib/python3.11/site-packages/numpy-1.26.4.dist-info/METADATA"}) {
		t.Errorf("sources = %q", sources)
	}
	if len(f.Problems) != 1 || !strings.Contains(f.Problems[0], "hard link to usr/share/doc/unread, which was not read") {
		t.Errorf("problems = %q", f.Problems)
	}
}

func TestScanLayerMalformedFiles(t *testing.T) {
	f, err := ScanLayer(bytes.NewReader(testlayers.Tar(t,
		testlayers.File("var/lib/dpkg/status", "Package: ok\nVersion: 1.0\nStatus: install ok installed\n\ngarbage without colon\n\nPackage: ok2\nVersion: 2\n\nVersion: 3\n"),
		testlayers.File("opt/conda/conda-meta/broken-1-0.json", "{\"name\": \"broken\", "),
		testlayers.File("usr/lib/python3/dist-packages/x-1.dist-info/METADATA", "\x00\x01\x02"),
		testlayers.File("usr/local/cuda/version.json", "{}"),
		testlayers.File("etc/os-release", "\n"),
	)), "", oci.Limits{}, catalog.Budget{})
	if err != nil {
		t.Fatal(err)
	}
	if got := pkgKeys(Merge([]LayerFacts{f}, catalog.Budget{}).Packages); !reflect.DeepEqual(got, []string{"deb ok 1.0", "deb ok2 2"}) {
		t.Errorf("packages = %q", got)
	}
	wantProblems := []string{
		`var/lib/dpkg/status: line 5: expected "Field: value", got "garbage without colon"`,
		"var/lib/dpkg/status: line 10: stanza without Package and Version",
		"opt/conda/conda-meta/broken-1-0.json: conda-meta record: unexpected EOF",
		"usr/lib/python3/dist-packages/x-1.dist-info/METADATA: line 1: expected",
		"usr/local/cuda/version.json: no cuda.version",
		"etc/os-release: os-release without ID or NAME",
	}
	if len(f.Problems) != len(wantProblems) {
		t.Fatalf("problems = %q", f.Problems)
	}
	for i, w := range wantProblems {
		if !strings.HasPrefix(f.Problems[i], w) {
			t.Errorf("problem %d = %q, want prefix %q", i, f.Problems[i], w)
		}
	}
}

func TestScanLayerNotALayer(t *testing.T) {
	_, err := ScanLayer(strings.NewReader("SIF"), oci.MediaTypeSIFLayer, oci.Limits{}, catalog.Budget{})
	if !errors.Is(err, oci.ErrNotLayer) {
		t.Fatalf("err = %v, want oci.ErrNotLayer", err)
	}
}
