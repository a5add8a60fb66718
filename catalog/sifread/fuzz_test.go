package sifread_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sylabs/sif/v2/pkg/sif"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/sifread"
	"github.com/oyster-registry/oyster/oci"
)

// FuzzRead reads arbitrary bytes as a SIF and scans whatever partition it
// finds, with tight limits: any outcome but a panic, a hang or memory past
// the limits is fine. Seeds are small SIFs made the way apptainer makes
// them.
func FuzzRead(f *testing.F) {
	dir := f.TempDir()
	for p, body := range map[string]string{
		"etc/os-release":                "ID=alpine\nVERSION_ID=3.19.1\n",
		"lib/apk/db/installed":          "P:musl\nV:1.2.4_git20230717-r4\nA:x86_64\no:musl\n\n",
		".singularity.d/runscript":      "#!/bin/sh\nexec /bin/sh \"$@\"\n",
		".singularity.d/labels.json":    `{"a":"b"}`,
		".singularity.d/env/90-e.sh":    "export A=1\n",
		"usr/lib/python3.11/x/METADATA": "Name: x\nVersion: 1\n",
	} {
		p = filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			f.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			f.Fatal(err)
		}
	}
	f.Add(makeSIF(f, time.Time{}, deffile(), genericJSON("oci-config.json", ociConfig), partition(sif.FsSquash, mksquashfs(f, dir))))
	f.Add(makeSIF(f, time.Time{}, genericJSON("inspect-metadata.json", inspectMetadata)))
	f.Fuzz(func(t *testing.T, b []byte) {
		limits := oci.Limits{MaxLayerBytes: 16 << 20, MaxEntries: 10000, MaxFileBytes: 1 << 20}
		info, err := sifread.Read(bytes.NewReader(b), int64(len(b)), limits)
		if err != nil || info.Root == nil {
			return
		}
		_, _ = catalog.ScanFS(info.Root, limits)
	})
}
