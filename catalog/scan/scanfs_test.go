package scan

import (
	"bytes"
	"errors"
	"io/fs"
	"reflect"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/internal/testlayers"

	"github.com/oyster-registry/oyster/oci"
)

// scanFSTree is one small root filesystem, given as path → content; a
// content starting with "->" is a symlink.
var scanFSTree = map[string]string{
	"etc/os-release":      "-> ../usr/lib/os-release",
	"usr/lib/os-release":  "ID=debian\nVERSION_ID=\"12\"\nNAME=\"Debian GNU/Linux\"\n",
	"var/lib/dpkg/status": testlayers.DpkgStatus("libc6=2.36-9+deb12u4", "zlib1g=1:1.2.13.dfsg-1"),
	"usr/lib/python3.11/site-packages/numpy-1.26.4.dist-info/METADATA": "Metadata-Version: 2.1\nName: numpy\nVersion: 1.26.4\n",
	"opt/conda/conda-meta/broken.json":                                 "{not json",
	"var/lib/dpkg/status.d/huge":                                       strings.Repeat("Package: x\n", 200),
	"usr/bin/tool":                                                     "#!/bin/sh\n",
}

func scanFSMap() fstest.MapFS {
	m := fstest.MapFS{}
	for p, body := range scanFSTree {
		if target, ok := strings.CutPrefix(body, "-> "); ok {
			m[p] = &fstest.MapFile{Data: []byte(target), Mode: fs.ModeSymlink | 0o777}
		} else {
			m[p] = &fstest.MapFile{Data: []byte(body), Mode: 0o644}
		}
	}
	return m
}

// scanFSTar is the same tree as a layer, directories first as tar has them.
func scanFSTar(t *testing.T) []byte {
	dirs := map[string]bool{}
	paths := make([]string, 0, len(scanFSTree))
	for p := range scanFSTree {
		paths = append(paths, p)
		for d := p; strings.Contains(d, "/"); {
			d = d[:strings.LastIndex(d, "/")]
			dirs[d] = true
		}
	}
	for d := range dirs {
		paths = append(paths, d+"/")
	}
	sort.Strings(paths)
	entries := make([]testlayers.Entry, 0, len(paths))
	for _, p := range paths {
		body, isFile := scanFSTree[p]
		target, isLink := strings.CutPrefix(body, "-> ")
		switch {
		case isLink:
			entries = append(entries, testlayers.Symlink(p, target))
		case isFile:
			entries = append(entries, testlayers.File(p, body))
		default:
			entries = append(entries, testlayers.Dir(p))
		}
	}
	return testlayers.Tar(t, entries...)
}

// TestScanFSMatchesScanLayer checks that one tree gives the same facts
// read as a filesystem and as a layer.
func TestScanFSMatchesScanLayer(t *testing.T) {
	limits := oci.Limits{MaxFileBytes: 1000}
	fromFS, err := ScanFS(scanFSMap(), limits, catalog.Budget{})
	if err != nil {
		t.Fatal(err)
	}
	fromTar, err := ScanLayer(bytes.NewReader(scanFSTar(t)), "application/vnd.oci.image.layer.v1.tar", limits, catalog.Budget{})
	if err != nil {
		t.Fatal(err)
	}
	fromTar.Compression = ""
	sort.Strings(fromFS.Problems)
	sort.Strings(fromTar.Problems)
	if !reflect.DeepEqual(fromFS, fromTar) {
		t.Fatalf("ScanFS:\n%+v\nScanLayer:\n%+v", fromFS, fromTar)
	}
	var kinds []string
	for _, f := range fromFS.Findings {
		kinds = append(kinds, f.Path+"="+string(f.Kind))
	}
	want := "etc/os-release=os-release opt/conda/conda-meta/broken.json=conda usr/lib/os-release=os-release " +
		"usr/lib/python3.11=python-lib usr/lib/python3.11/site-packages/numpy-1.26.4.dist-info/METADATA=python var/lib/dpkg/status=dpkg"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("findings %s\nwant     %s", got, want)
	}
	if len(fromFS.Problems) != 2 || !strings.Contains(strings.Join(fromFS.Problems, "\n"), "var/lib/dpkg/status.d/huge: file exceeds the limit") {
		t.Errorf("problems: %q", fromFS.Problems)
	}
}

func TestScanFSEntryLimit(t *testing.T) {
	facts, err := ScanFS(scanFSMap(), oci.Limits{MaxEntries: 5}, catalog.Budget{})
	var le *oci.LimitError
	if !errors.As(err, &le) || le.Limit != oci.LimitEntries {
		t.Fatalf("got %v", err)
	}
	if len(facts.Findings) == 0 {
		t.Error("facts read before the limit were dropped")
	}
}
