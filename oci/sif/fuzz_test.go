package sif_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"testing"
	"time"

	sylabs "github.com/sylabs/sif/v2/pkg/sif"

	"github.com/oyster-registry/oyster/internal/testlayers"
	"github.com/oyster-registry/oyster/oci"
	"github.com/oyster-registry/oyster/oci/sif"
)

// FuzzRead reads arbitrary bytes as a SIF and reads every file of whatever
// partition it finds, with tight limits. Seeds are small SIFs made the way
// apptainer makes them. Read fails only with ErrNotSIF, and the partition
// never yields more bytes than the limit allows.
func FuzzRead(f *testing.F) {
	dir := f.TempDir()
	testlayers.WriteTree(f, dir, map[string]string{
		"etc/os-release":                "ID=alpine\nVERSION_ID=3.19.1\n",
		"lib/apk/db/installed":          "P:musl\nV:1.2.4_git20230717-r4\nA:x86_64\no:musl\n\n",
		".singularity.d/runscript":      "#!/bin/sh\nexec /bin/sh \"$@\"\n",
		".singularity.d/labels.json":    `{"a":"b"}`,
		".singularity.d/env/90-e.sh":    "export A=1\n",
		"usr/lib/python3.11/x/METADATA": "Name: x\nVersion: 1\n",
	})
	f.Add(testlayers.SIF(f, time.Time{}, deffile(), testlayers.GenericJSON("oci-config.json", ociConfig), testlayers.Partition(sylabs.FsSquash, testlayers.Mksquashfs(f, dir))))
	f.Add(testlayers.SIF(f, time.Time{}, testlayers.GenericJSON("inspect-metadata.json", inspectMetadata)))
	f.Fuzz(func(t *testing.T, b []byte) {
		limits := oci.Limits{MaxLayerBytes: 16 << 20, MaxEntries: 10000, MaxFileBytes: 1 << 20}
		info, err := sif.Read(bytes.NewReader(b), int64(len(b)), limits)
		if err != nil && !errors.Is(err, sif.ErrNotSIF) {
			t.Fatalf("Read failed with %v, not ErrNotSIF", err)
		}
		if err != nil || info.Root == nil {
			return
		}
		var read int64
		_ = fs.WalkDir(info.Root, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return nil //nolint:nilerr // corrupt entries are skipped, as the catalog's scan skips them
			}
			if file, err := info.Root.Open(p); err == nil {
				n, _ := io.Copy(io.Discard, file)
				file.Close()
				read += n
			}
			return nil
		})
		if read > limits.MaxLayerBytes {
			t.Fatalf("read %d bytes from a partition limited to %d", read, limits.MaxLayerBytes)
		}
	})
}
