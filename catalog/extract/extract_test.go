package extract_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	sylabs "github.com/sylabs/sif/v2/pkg/sif"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/catalogtest"
	"github.com/oyster-registry/oyster/catalog/extract"
	"github.com/oyster-registry/oyster/internal/testlayers"
	"github.com/oyster-registry/oyster/oci"
)

func extractor(t *testing.T, src catalog.Source) *extract.Extractor {
	c := catalogtest.New(t)
	return &extract.Extractor{Source: src, Store: c.Store, Layers: c.Store}
}

func packageLines(rec *catalog.Record) []string {
	var out []string
	for _, p := range rec.Packages {
		out = append(out, fmt.Sprintf("%s %s %s %s", p.Ecosystem, p.Name, p.Version, p.Source))
	}
	return out
}

// A SIF pushed over ORAS yields the packages of its system partition, read
// as the layers of an image are, and those of the SBOM it embeds.
func TestSIFRecord(t *testing.T) {
	root := t.TempDir()
	testlayers.WriteTree(t, root, map[string]string{
		"etc/os-release":      "ID=ubuntu\nVERSION_ID=\"22.04\"\nVERSION_CODENAME=jammy\n",
		"var/lib/dpkg/status": testlayers.DpkgStatus("libc6=2.35-0ubuntu3.6", "python3.10-minimal=3.10.12-1~22.04.3"),
		"usr/local/lib/python3.10/dist-packages/pymatgen-2024.2.8.dist-info/METADATA": "Metadata-Version: 2.1\nName: pymatgen\nVersion: 2024.2.8\n",
		".singularity.d/runscript":   "#!/bin/sh\nexec python3 \"$@\"\n",
		".singularity.d/labels.json": `{"org.opencontainers.image.title":"pymatgen"}`,
	})
	doc := `{"spdxVersion":"SPDX-2.3","packages":[{"name":"openblas","versionInfo":"0.3.26",` +
		`"externalRefs":[{"referenceType":"purl","referenceLocator":"pkg:conda/openblas@0.3.26"}]}]}`
	file := testlayers.SIF(t, time.Date(2024, 3, 7, 10, 12, 1, 0, time.UTC),
		testlayers.DefFile("bootstrap: docker\nfrom: ghcr.io/materials/pymatgen:2024.2.8\n"),
		testlayers.Partition(sylabs.FsSquash, testlayers.Mksquashfs(t, root)),
		testlayers.SIFObject{Type: sylabs.DataSBOM, Data: []byte(doc), Opts: []sylabs.DescriptorInputOpt{sylabs.OptSBOMMetadata(sylabs.SBOMFormatSPDXJSON)}})
	src := catalogtest.NewSource()
	ref := src.PushSIF("tools/pymatgen", "2024.2.8", file)
	rec, pending, err := extractor(t, src).Record(context.Background(), ref)
	if err != nil || len(pending) != 0 {
		t.Fatal(err, pending)
	}
	want := []string{
		"deb libc6 2.35-0ubuntu3.6 var/lib/dpkg/status",
		"deb python3.10-minimal 3.10.12-1~22.04.3 var/lib/dpkg/status",
		"python pymatgen 2024.2.8 usr/local/lib/python3.10/dist-packages/pymatgen-2024.2.8.dist-info/METADATA",
		"conda openblas 0.3.26 sbom:embedded",
	}
	if got := packageLines(rec); !reflect.DeepEqual(got, want) {
		t.Errorf("packages:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if rec.Kind != catalog.KindSIF || rec.OS.VersionCodename != "jammy" || rec.Runtimes["python"] != "3.10.12" ||
		rec.OCI.Title != "pymatgen" || !strings.Contains(rec.SIF.DefFile, "pymatgen:2024.2.8") || len(rec.IndexErrors) != 0 {
		t.Errorf("record %+v", rec)
	}
}

// A layer storage does not have (a sparse manifest) and a config that is
// not JSON are said in the record, which keeps what could be read.
func TestImageWithMissingParts(t *testing.T) {
	src := catalogtest.NewSource()
	if _, _, err := extractor(t, src).Record(context.Background(), catalog.Ref{Repo: "lab/app", Digest: "sha256:gone"}); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("a manifest storage lacks: %v", err)
	}
	cfg := src.PutBlob(v1.MediaTypeImageConfig, []byte("not json"))
	present := src.PutBlob(v1.MediaTypeImageLayerGzip, testlayers.Gzip(t, testlayers.Tar(t, testlayers.DistInfo("numpy", "1.26.4"))))
	absent := v1.Descriptor{MediaType: v1.MediaTypeImageLayerGzip, Digest: digest.FromString("never pushed"), Size: 1}
	raw, err := json.Marshal(oci.Manifest{SchemaVersion: 2, MediaType: v1.MediaTypeImageManifest, Config: &cfg, Layers: []v1.Descriptor{present, absent}})
	if err != nil {
		t.Fatal(err)
	}
	ref := src.PutManifest("lab/app", "1", v1.MediaTypeImageManifest, raw)
	rec, _, err := extractor(t, src).Record(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	errs := strings.Join(rec.IndexErrors, "\n")
	if !strings.Contains(errs, "config "+string(cfg.Digest)) || !strings.Contains(errs, "layer "+string(absent.Digest)+": not in storage (sparse manifest)") {
		t.Errorf("index errors:\n%s", errs)
	}
	if got := packageLines(rec); len(got) != 1 || !strings.HasPrefix(got[0], "python numpy 1.26.4") {
		t.Errorf("packages %q", got)
	}
}
