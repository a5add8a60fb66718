package scan

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/internal/testlayers"

	"github.com/oyster-registry/oyster/catalog/pkgdb"
	"github.com/oyster-registry/oyster/oci"
)

func TestDeriveDebianImage(t *testing.T) {
	img := Merge(scanAll(t, debianLayers(t), debianMediaTypes), catalog.Budget{})
	d := Infer(img, []string{"PATH=/usr/bin", "JULIA_VERSION=1.10.2", "JAVA_VERSION=jdk-17.0.10+7"}, nil)
	want := []Runtime{
		{"java", "17.0.10+7", "env JAVA_VERSION"},
		{"julia", "1.10.2", "env JULIA_VERSION"},
		{"python", "3.11.7", "conda python"},
		{"r", "4.2.2.20221110", "deb r-base-core"},
		{"r", "4.3.2", "r base"},
	}
	if !reflect.DeepEqual(d.Runtimes, want) {
		t.Errorf("runtimes =\n%+v\nwant\n%+v", d.Runtimes, want)
	}
	if d.CUDA != "12.2.2" || d.CUDAEvidence != "file usr/local/cuda-12.2/version.json" {
		t.Errorf("cuda = %q from %q", d.CUDA, d.CUDAEvidence)
	}
}

// The base layer alone has Debian's Python: the package's version wins
// over the lib directory's less precise one.
func TestDeriveDebianBase(t *testing.T) {
	img := Merge(scanAll(t, debianLayers(t)[:1], debianMediaTypes), catalog.Budget{})
	d := Infer(img, nil, nil)
	want := []Runtime{{"python", "3.11.2", "deb python3.11-minimal"}, {"r", "4.3.2", "r base"}}
	if !reflect.DeepEqual(d.Runtimes, want) || d.CUDA != "" {
		t.Errorf("runtimes = %+v, cuda %q", d.Runtimes, d.CUDA)
	}
}

// python:3.12-slim builds Python from source: only the env and the lib
// directory tell the version.
func TestDerivePythonFromPathAndEnv(t *testing.T) {
	f, err := ScanLayer(bytes.NewReader(testlayers.Tar(t,
		testlayers.File("usr/local/lib/python3.12/site-packages/pip-24.0.dist-info/METADATA", "Name: pip\nVersion: 24.0\n"),
		testlayers.File("usr/local/lib/python3.12/os.py", ""),
	)), "", oci.Limits{}, catalog.Budget{})
	if err != nil {
		t.Fatal(err)
	}
	img := Merge([]LayerFacts{f}, catalog.Budget{})
	if d := Infer(img, nil, nil); !reflect.DeepEqual(d.Runtimes, []Runtime{{"python", "3.12", "path usr/local/lib/python3.12"}}) {
		t.Errorf("from path: %+v", d.Runtimes)
	}
	if d := Infer(img, []string{"PYTHON_VERSION=3.12.2"}, nil); !reflect.DeepEqual(d.Runtimes, []Runtime{{"python", "3.12.2", "env PYTHON_VERSION"}}) {
		t.Errorf("from env: %+v", d.Runtimes)
	}
}

func TestDeriveJavaFromPackages(t *testing.T) {
	img := ImageFacts{Packages: []pkgdb.Package{
		{Name: "openjdk-17-jre-headless", Version: "17.0.10+7-1~deb12u1", Ecosystem: pkgdb.Deb},
		{Name: "java-11-openjdk-headless", Version: "1:11.0.22.0.7-1.el9", Ecosystem: pkgdb.RPM},
	}}
	want := []Runtime{{"java", "11.0.22.0.7", "rpm java-11-openjdk-headless"}, {"java", "17.0.10+7", "deb openjdk-17-jre-headless"}}
	if d := Infer(img, []string{"JAVA_VERSION=jdk-17.0.10+7"}, nil); !reflect.DeepEqual(d.Runtimes, want) {
		t.Errorf("runtimes = %+v", d.Runtimes)
	}
}

func TestDeriveCUDA(t *testing.T) {
	cudart := pkgdb.Package{Name: "cuda-cudart-11-8", Version: "11.8.89-1", Ecosystem: pkgdb.Deb}
	condaCuda := pkgdb.Package{Name: "cuda-version", Version: "12.4", Ecosystem: pkgdb.Conda}
	pipCuda := pkgdb.Package{Name: "nvidia-cuda-runtime-cu12", NormalizedName: "nvidia-cuda-runtime-cu12", Version: "12.1.105", Ecosystem: pkgdb.Python}
	twoToolkits := []Finding{
		{Path: "usr/local/cuda-11.8/version.json", Kind: FileCUDA, Version: "11.8.0"},
		{Path: "usr/local/cuda-12.1/version.txt", Kind: FileCUDA, Version: "12.1.105"},
	}
	cases := []struct {
		name      string
		img       ImageFacts
		env       []string
		labels    map[string]string
		want, via string
	}{
		{"nothing", ImageFacts{}, nil, nil, "", ""},
		{"two toolkits", ImageFacts{Findings: twoToolkits}, []string{"CUDA_VERSION=11.8.0"}, nil, "12.1.105", "file usr/local/cuda-12.1/version.txt"},
		{"env", ImageFacts{Packages: []pkgdb.Package{cudart}}, []string{"CUDA_VERSION=12.2.2", "NVIDIA_REQUIRE_CUDA=cuda>=12.2"}, nil, "12.2.2", "env CUDA_VERSION"},
		{"label", ImageFacts{}, nil, map[string]string{"com.nvidia.cuda.version": "10.2.89"}, "10.2.89", "label com.nvidia.cuda.version"},
		{"conda", ImageFacts{Packages: []pkgdb.Package{condaCuda, cudart}}, nil, nil, "12.4", "conda cuda-version"},
		{"deb cudart", ImageFacts{Packages: []pkgdb.Package{cudart}}, nil, nil, "11.8", "deb cuda-cudart-11-8"},
		{"pip wheel", ImageFacts{Packages: []pkgdb.Package{pipCuda}}, nil, nil, "12.1.105", "python nvidia-cuda-runtime-cu12"},
		{"driver requirement", ImageFacts{}, []string{"NVIDIA_REQUIRE_CUDA=cuda>=11.8 brand=tesla,driver>=470,driver<471"}, nil, "11.8", "env NVIDIA_REQUIRE_CUDA"},
	}
	for _, tc := range cases {
		d := Infer(tc.img, tc.env, tc.labels)
		if d.CUDA != tc.want || d.CUDAEvidence != tc.via {
			t.Errorf("%s: cuda = %q from %q, want %q from %q", tc.name, d.CUDA, d.CUDAEvidence, tc.want, tc.via)
		}
	}
}

func TestParseCUDAVersionTxt(t *testing.T) {
	f, err := ScanLayer(bytes.NewReader(testlayers.Tar(t, testlayers.File("usr/local/cuda-10.2/version.txt", "CUDA Version 10.2.89\n"))), "", oci.Limits{}, catalog.Budget{})
	if err != nil || len(f.Findings) != 1 || f.Findings[0].Version != "10.2.89" {
		t.Fatalf("findings %+v, err %v", f.Findings, err)
	}
}
