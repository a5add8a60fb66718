package e2e

import (
	"os"
	"strings"
	"testing"
	"time"

	sylabs "github.com/sylabs/sif/v2/pkg/sif"

	"github.com/oyster-registry/oyster/internal/testlayers"
)

// writeSystemSIF builds a SIF the way `apptainer pull docker://` does: a
// definition file and a squashfs primary system partition made by
// mksquashfs from a root holding genuine package databases.
func writeSystemSIF(t *testing.T, path string) {
	t.Helper()
	root := t.TempDir()
	mpi4py := testlayers.DistInfo("mpi4py", "3.1.5")
	testlayers.WriteTree(t, root, map[string]string{
		"etc/os-release":                       "ID=ubuntu\nVERSION_ID=\"22.04\"\nPRETTY_NAME=\"Ubuntu 22.04.4 LTS\"\n",
		"var/lib/dpkg/status":                  testlayers.DpkgStatus("libc6=2.35-0ubuntu3.6", "libopenmpi3=4.1.2-2ubuntu1"),
		".singularity.d/runscript":             "#!/bin/sh\nexec lammps \"$@\"\n",
		".singularity.d/labels.json":           `{"org.opencontainers.image.title":"LAMMPS for HPC"}`,
		".singularity.d/env/90-environment.sh": "export OMP_NUM_THREADS=1\n",
		mpi4py.Name:                            mpi4py.Body,
	})
	file := testlayers.SIF(t, time.Now(), testlayers.DefFile("bootstrap: docker\nfrom: lammps/lammps:stable\n"),
		testlayers.Partition(sylabs.FsSquash, testlayers.Mksquashfs(t, root)))
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCatalogSIFAndSBOM pushes a SIF as apptainer does and attaches an SBOM
// to an image with oras; both become searchable by what they contain.
func TestCatalogSIFAndSBOM(t *testing.T) {
	requireTool(t, "oras")
	requireTool(t, "crane")
	reg := startRegistry(t, "")
	h := reg.Host
	t.Chdir(t.TempDir())
	writeSystemSIF(t, "lammps.sif")
	write(t, "config.json", "{}")
	run(t, "oras", "push", "--plain-http", h+"/hpc/lammps:stable",
		"--config", "config.json:application/vnd.sylabs.sif.config.v1+json", "lammps.sif:application/vnd.sylabs.sif.layer.v1.sif")
	eventually(t, h, "type:sif pkg:mpi4py", "hpc/lammps:stable")
	eventually(t, h, "os:ubuntu:22.04 pkg:deb/libopenmpi3", "hpc/lammps:stable")
	rec := getImage(t, h, "hpc/lammps:stable")
	s, _ := rec["sif"].(map[string]any)
	if !strings.Contains(s["definition_file"].(string), "lammps/lammps:stable") || !strings.Contains(s["runscript"].(string), "exec lammps") {
		t.Fatalf("SIF details: %v", s)
	}

	dir := t.TempDir()
	pushLayers(t, h+"/ml/torch:2.1", "", nil, writeLayer(t, dir, "torch", debianRelease))
	write(t, "sbom.spdx.json", `{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"ml/torch","packages":[
 {"SPDXID":"SPDXRef-torch","name":"torch","versionInfo":"2.1.0","externalRefs":[{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:pypi/torch@2.1.0"}]}]}`)
	run(t, "oras", "attach", "--plain-http", h+"/ml/torch:2.1", "--artifact-type", "application/spdx+json", "sbom.spdx.json:application/spdx+json")
	eventually(t, h, "pkg:torch>=2", "ml/torch:2.1")
	rec = getImage(t, h, "ml/torch:2.1")
	if !strings.Contains(toJSON(rec["packages"]), `"source":"sbom:sha256:`) {
		t.Fatalf("SBOM packages are not marked with their source: %v", rec["packages"])
	}
}
