// Package scan turns bytes into facts: the packages, operating system,
// language runtimes and CUDA version found by reading a layer (ScanLayer,
// once per layer digest) or a whole filesystem (ScanFS), combined per image
// with overlay semantics (Merge) and with what the image config says
// (Infer). It knows nothing of storage, records or the store.
package scan

import (
	"github.com/oyster-registry/oyster/catalog/pkgdb"
	"github.com/oyster-registry/oyster/oci"
)

// FileKind says what a Finding is.
type FileKind string

// The kinds of file the scanner understands.
const (
	FileDpkg      FileKind = "dpkg"       // var/lib/dpkg/status, status.d/*
	FileAPK       FileKind = "apk"        // lib/apk/db/installed
	FileRPM       FileKind = "rpm"        // var/lib/rpm/*, usr/lib/sysimage/rpm/*
	FilePython    FileKind = "python"     // one *.dist-info/METADATA, *.egg-info[/PKG-INFO]
	FileConda     FileKind = "conda"      // one conda-meta/*.json
	FileR         FileKind = "r"          // one library/<pkg>/DESCRIPTION
	FileOSRelease FileKind = "os-release" // etc/os-release, usr/lib/os-release
	FileCUDA      FileKind = "cuda"       // usr/local/cuda*/version.json or version.txt
	// FilePythonLib is a lib/pythonX.Y directory: the standard library of a
	// Python runtime, which tells its version even without a package
	// database (python:3.x images build Python from source).
	FilePythonLib FileKind = "python-lib"
)

// Finding is one path of a layer that the scanner understood. A finding with
// no content (no packages, no OSRelease, no Version) records that the layer
// put something unreadable there, a symlink say: it still hides what lower
// layers had at that path.
type Finding struct {
	Path      string           `json:"path"`
	Kind      FileKind         `json:"kind"`
	Packages  []pkgdb.Package  `json:"packages,omitempty"`
	OSRelease *pkgdb.OSRelease `json:"osRelease,omitempty"`
	// Version is the CUDA toolkit version or the Python lib directory's X.Y.
	Version string `json:"version,omitempty"`
}

// LayerFacts is what one layer holds, independent of the layers below it,
// so that it can be cached by layer digest: a base layer shared by many
// images is read once.
type LayerFacts struct {
	Compression oci.Compression `json:"compression,omitempty"`
	// Findings are sorted by path.
	Findings []Finding `json:"findings,omitempty"`
	// Whiteouts are paths this layer deletes from lower layers.
	Whiteouts []string `json:"whiteouts,omitempty"`
	// OpaqueDirs are directories whose lower content this layer hides ("" is
	// the root).
	OpaqueDirs []string `json:"opaqueDirs,omitempty"`
	// Problems are non-fatal: a file that did not parse, a file over the
	// size limit, an unsafe entry name. The rest of the layer was read.
	// At most the budget's problems are kept; ProblemsOmitted counts the
	// rest.
	Problems        []string `json:"problems,omitempty"`
	ProblemsOmitted int      `json:"problemsOmitted,omitempty"`
	// Truncated says what the budget cut from these facts, and why.
	Truncated []string `json:"truncated,omitempty"`
}

// ImageFacts is the merged view of an image's layers.
type ImageFacts struct {
	OS *pkgdb.OSRelease `json:"os,omitempty"`
	// Packages of every ecosystem, sorted by ecosystem, name, version.
	Packages []pkgdb.Package `json:"packages,omitempty"`
	// Findings that survive in the final filesystem, sorted by path.
	Findings []Finding `json:"findings,omitempty"`
	// Problems of all layers, prefixed with the layer index, at most the
	// budget's; ProblemsOmitted counts the rest.
	Problems        []string `json:"problems,omitempty"`
	ProblemsOmitted int      `json:"problemsOmitted,omitempty"`
	// Truncated says what the budget cut, in the layers or in the merge.
	Truncated []string `json:"truncated,omitempty"`
}
