package search

import (
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/pkgdb"
)

// The fixtures are hand-made records whose expected search results are
// written out in the tests. Each record's digest is "sha256:" + its id, and
// tests name records by id.

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

// pkgs reads "name version" pairs of one ecosystem.
func pkgs(eco string, nameVersions ...string) []catalog.Package {
	out := make([]catalog.Package, 0, len(nameVersions))
	for _, nv := range nameVersions {
		name, v, _ := strings.Cut(nv, " ")
		out = append(out, catalog.Package{Name: name, Version: v, Ecosystem: eco, Source: "fixture"})
	}
	return out
}

func join(lists ...[]catalog.Package) []catalog.Package {
	var out []catalog.Package
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

var (
	debian12  = pkgdb.OSRelease{ID: "debian", VersionID: "12", VersionCodename: "bookworm", PrettyName: "Debian GNU/Linux 12 (bookworm)"}
	ubuntu20  = pkgdb.OSRelease{ID: "ubuntu", VersionID: "20.04", VersionCodename: "focal", PrettyName: "Ubuntu 20.04.6 LTS"}
	ubuntu22  = pkgdb.OSRelease{ID: "ubuntu", VersionID: "22.04", VersionCodename: "jammy", PrettyName: "Ubuntu 22.04.4 LTS"}
	ubuntu24  = pkgdb.OSRelease{ID: "ubuntu", VersionID: "24.04", VersionCodename: "noble", PrettyName: "Ubuntu 24.04 LTS"}
	alpine319 = pkgdb.OSRelease{ID: "alpine", VersionID: "3.19.1", PrettyName: "Alpine Linux v3.19"}
	rocky9    = pkgdb.OSRelease{ID: "rocky", VersionID: "9.3", PrettyName: "Rocky Linux 9.3 (Blue Onyx)"}
	amd64     = []string{"linux/amd64"}
	debBase   = []catalog.ImageRef{{Repository: "library/debian", Digest: "sha256:deb12", Tag: "12", Via: "layers"}}
)

func fixtures() []*catalog.Record {
	r := func(id, repo, kind, updated string, tags ...string) *catalog.Record {
		return &catalog.Record{Repository: repo, Digest: digest.Digest("sha256:" + id), Kind: kind, Tags: tags, Updated: day(updated), Size: int64(len(id)) << 20}
	}
	np126 := r("np126", "sci/numpy-stack", catalog.KindImage, "2024-03-01", "latest", "2024.01")
	np126.OCI = catalog.OCIInfo{Title: "NumPy stack", Description: "Scientific Python with NumPy, SciPy and pandas for data analysis", Licenses: "MIT"}
	np126.Platforms, np126.OS, np126.BaseImages = amd64, debian12, debBase
	np126.Labels = map[string]string{"org.example.team": "chem", "org.example.note": "two words"}
	np126.Runtimes = map[string]string{"python": "3.11.7"}
	np126.Packages = join(pkgs("python", "numpy 1.26.4", "scipy 1.11.4", "pandas 2.1.4"),
		pkgs("deb", "openssl 3.0.11-1~deb12u2", "libc6 2.36-9+deb12u4"))

	np124 := r("np124", "sci/numpy-stack", catalog.KindImage, "2023-06-01", "2023.06")
	np124.OCI = catalog.OCIInfo{Title: "NumPy stack", Licenses: "MIT"}
	np124.Platforms, np124.OS, np124.BaseImages = amd64, debian12, debBase
	np124.Labels = map[string]string{"org.example.team": "physics"}
	np124.Runtimes = map[string]string{"python": "3.10.13"}
	np124.Packages = join(pkgs("python", "numpy 1.24.0", "scipy 1.10.1"), pkgs("deb", "openssl 3.0.11-1~deb12u1"))

	np2 := r("np2", "sci/numpy2", catalog.KindIndex, "2024-05-01", "latest")
	np2.OCI = catalog.OCIInfo{Title: "NumPy 2", Licenses: "BSD-3-Clause"}
	np2.Platforms, np2.OS = []string{"linux/amd64", "linux/arm64/v8"}, ubuntu24
	np2.Runtimes = map[string]string{"python": "3.12.1"}
	np2.Packages = join(pkgs("python", "numpy 2.0.1", "scipy 1.13.1"), pkgs("deb", "openssl 3.0.13-0ubuntu3.1"))

	nprc := r("nprc", "sci/numpy-rc", catalog.KindImage, "2023-09-01", "rc")
	nprc.Platforms, nprc.OS = amd64, ubuntu22
	nprc.Runtimes = map[string]string{"python": "3.11.4"}
	nprc.Packages = join(pkgs("python", "numpy 1.26.0rc1"), pkgs("deb", "openssl 3.0.2-0ubuntu1.15"))

	pmg12 := r("pmg12", "materials/pymatgen-cuda", catalog.KindImage, "2024-04-01", "2024.2.8-cuda12")
	pmg12.OCI = catalog.OCIInfo{Title: "pymatgen on CUDA", Description: "Materials analysis with pymatgen, GPU accelerated", Licenses: "MIT OR Apache-2.0", BaseName: "docker.io/library/ubuntu:22.04"}
	pmg12.Platforms, pmg12.OS, pmg12.CUDA = amd64, ubuntu22, "12.2.2"
	pmg12.BaseImages = []catalog.ImageRef{{Repository: "library/ubuntu", Digest: "sha256:u2204", Tag: "22.04", Via: "annotation"}}
	pmg12.Runtimes = map[string]string{"python": "3.11.9"}
	pmg12.Packages = pkgs("python", "pymatgen 2024.2.8", "numpy 1.26.4", "scipy 1.11.4")

	pmg11 := r("pmg11", "materials/pymatgen", catalog.KindIndex, "2023-07-01", "2023.5.31")
	pmg11.OCI = catalog.OCIInfo{Title: "pymatgen", Licenses: "MIT"}
	pmg11.Platforms, pmg11.OS, pmg11.CUDA = []string{"linux/amd64", "linux/arm64"}, ubuntu22, "11.8.0"
	pmg11.Runtimes = map[string]string{"python": "3.10.12"}
	pmg11.Packages = pkgs("python", "pymatgen 2023.5.31", "numpy 1.24.4")

	r43 := r("r43", "stats/r-base", catalog.KindImage, "2024-02-01", "4.3.2")
	r43.OCI = catalog.OCIInfo{Title: "R 4.3 with ggplot2", Licenses: "GPL-2.0-or-later"}
	r43.Platforms, r43.OS = amd64, debian12
	r43.Runtimes = map[string]string{"r": "4.3.2"}
	r43.Packages = pkgs("r", "ggplot2 3.4.4", "Matrix 1.6-1")

	r42 := r("r42", "stats/r-base", catalog.KindImage, "2023-03-01", "4.2.3")
	r42.Platforms, r42.OS = []string{"linux/arm64"}, ubuntu20
	r42.Runtimes = map[string]string{"r": "4.2.3"}
	r42.Packages = pkgs("r", "Matrix 1.5-4")

	lammps := r("lammps", "hpc/lammps", catalog.KindSIF, "2024-01-15", "stable")
	lammps.OCI = catalog.OCIInfo{Title: "LAMMPS", Description: "Classical molecular dynamics for materials"}
	lammps.OS = rocky9
	lammps.SIF = &catalog.SIFInfo{Arch: "amd64", Labels: map[string]string{"org.example.app": "lammps"}}
	lammps.Packages = pkgs("rpm", "openssl 3.0.7-25.el9")

	alpy := r("alpy", "tools/alpine-py", catalog.KindImage, "2024-02-15", "3.19")
	alpy.Platforms, alpy.OS = []string{"linux/arm64"}, alpine319
	alpy.Runtimes = map[string]string{"python": "3.11.8"}
	alpy.Packages = join(pkgs("apk", "openssl 3.1.4-r5"), pkgs("python", "numpy 1.26.2"))

	julia := r("julia", "ml/julia", catalog.KindImage, "2024-03-10", "1.10")
	julia.Platforms, julia.OS = amd64, debian12
	julia.Runtimes = map[string]string{"julia": "1.10.2"}
	julia.Annotations = map[string]string{"org.example.gpu": "none"}

	jdk := r("jdk", "ml/jdk", catalog.KindImage, "2024-01-20", "21")
	jdk.Platforms, jdk.OS = amd64, ubuntu22
	jdk.Runtimes = map[string]string{"java": "21.0.2"}

	sbom := r("sbom", "data/results", catalog.KindArtifact, "2024-03-05", "run-42")
	sbom.OCI = catalog.OCIInfo{Title: "Simulation results"}

	torch := r("torch", "ml/torch-conda", catalog.KindImage, "2024-04-15", "latest-gpu")
	torch.OCI = catalog.OCIInfo{Title: "PyTorch", Licenses: "BSD-3-Clause"}
	torch.Platforms, torch.OS, torch.CUDA = amd64, ubuntu22, "12.1.1"
	torch.Runtimes = map[string]string{"python": "3.11.7"}
	torch.Labels = map[string]string{"org.example.note": "two words"}
	torch.Packages = pkgs("conda", "pytorch 2.2.0", "numpy 1.26.4")

	sk := r("sklearn", "ml/sklearn", catalog.KindImage, "2024-02-20", "1.4")
	sk.Platforms, sk.OS = amd64, debian12
	sk.Runtimes = map[string]string{"python": "3.12.0"}
	sk.Packages = pkgs("python", "scikit_learn 1.4.0")

	return []*catalog.Record{np126, np124, np2, nprc, pmg12, pmg11, r43, r42, lammps, alpy, julia, jdk, sbom, torch, sk}
}

// allIDs are the fixture ids, in fixture order.
var allIDs = []string{"np126", "np124", "np2", "nprc", "pmg12", "pmg11", "r43", "r42", "lammps", "alpy", "julia", "jdk", "sbom", "torch", "sklearn"}

// id reads a fixture id back from a hit.
func id(h Hit) string { return strings.TrimPrefix(h.Digest, "sha256:") }

func ids(hits []Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = id(h)
	}
	return out
}

// openFixtures indexes the fixtures in a fresh index.
func openFixtures(t testing.TB) *Index {
	t.Helper()
	ix, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	if err := ix.PutBatch(fixtures()); err != nil {
		t.Fatal(err)
	}
	return ix
}
