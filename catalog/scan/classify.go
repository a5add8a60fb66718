package scan

import (
	"path"
	"regexp"
	"strings"
)

var (
	cudaDir      = regexp.MustCompile(`^usr/local/cuda(-\d+(\.\d+)*)?$`)
	pythonLibDir = regexp.MustCompile(`^(.*/)?lib/python(\d+\.\d+)(/|$)`)
)

// classify says which kind of file a path is, by where package managers put
// their databases; ok is false for the vast majority of paths.
func classify(p string) (k FileKind, ok bool) {
	dir, base := path.Split(p)
	dir = strings.TrimSuffix(dir, "/")
	switch {
	case p == "var/lib/dpkg/status" || (dir == "var/lib/dpkg/status.d" && !strings.HasSuffix(base, ".md5sums")):
		return FileDpkg, true
	case p == "lib/apk/db/installed":
		return FileAPK, true
	case (dir == "var/lib/rpm" || dir == "usr/lib/sysimage/rpm") && (base == "Packages" || base == "Packages.db" || base == "rpmdb.sqlite"):
		return FileRPM, true
	case p == "etc/os-release" || p == "usr/lib/os-release":
		return FileOSRelease, true
	case (base == "version.json" || base == "version.txt") && cudaDir.MatchString(dir):
		return FileCUDA, true
	case path.Base(dir) == "conda-meta" && strings.HasSuffix(base, ".json"):
		return FileConda, true
	case base == "DESCRIPTION" && isRLibrary(path.Dir(dir)):
		return FileR, true
	case isPythonMetadata(dir, base) && !isVendoredOrCached(dir):
		return FilePython, true
	}
	return "", false
}

// isPythonMetadata matches the three layouts of installed distributions.
func isPythonMetadata(dir, base string) bool {
	return (base == "METADATA" && strings.HasSuffix(dir, ".dist-info")) ||
		(base == "PKG-INFO" && strings.HasSuffix(dir, ".egg-info")) ||
		strings.HasSuffix(base, ".egg-info")
}

// isVendoredOrCached excludes metadata that is not an installed
// distribution: copies vendored inside another package (setuptools/_vendor)
// and the extracted package cache of conda (<root>/pkgs/<pkg>/lib/…), which
// holds what could be installed, not what is.
func isVendoredOrCached(dir string) bool {
	segs := strings.Split(dir, "/")
	for i, s := range segs {
		if s == "_vendor" || (s == "pkgs" && i+2 < len(segs) && (segs[i+2] == "lib" || segs[i+2] == "Lib" || segs[i+2] == "site-packages")) {
			return true
		}
	}
	return false
}

// isRLibrary matches R library trees: R_HOME/library (base and
// recommended packages) and site libraries.
func isRLibrary(dir string) bool {
	b := path.Base(dir)
	return b == "library" || b == "site-library"
}

// pythonLib returns the lib/pythonX.Y directory a path lies in, if any. It
// runs on every entry of every layer, hence the cheap test first.
func pythonLib(p string) (dir, version string, ok bool) {
	if !strings.Contains(p, "lib/python") {
		return "", "", false
	}
	m := pythonLibDir.FindStringSubmatch(p)
	if m == nil || isVendoredOrCached(m[1]) {
		return "", "", false
	}
	return m[1] + "lib/python" + m[2], m[2], true
}
