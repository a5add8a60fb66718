package scan

import (
	"fmt"
	"sort"
	"strings"

	"github.com/oyster-registry/oyster/catalog/pkgdb"
)

// Merge applies layers bottom to top the way an overlay filesystem does, and
// returns what the final image holds. Within each layer, its opaque
// directories and whiteouts delete from the layers below first, then its own
// findings replace those at the same path: a dpkg status rewritten by an
// upper layer replaces the lower one's package list, a whited-out dist-info
// directory takes its Python package with it, an opaque directory hides all
// lower content under it.
func Merge(layers []LayerFacts) ImageFacts {
	view := map[string]Finding{}
	var img ImageFacts
	for i, l := range layers {
		for _, dir := range l.OpaqueDirs {
			deleteBelow(view, dir)
		}
		for _, p := range l.Whiteouts {
			delete(view, p)
			deleteBelow(view, p)
		}
		for _, f := range l.Findings {
			view[f.Path] = f
		}
		for _, p := range l.Problems {
			img.Problems = append(img.Problems, fmt.Sprintf("layer %d: %s", i, p))
		}
	}
	for _, f := range view {
		img.Findings = append(img.Findings, f)
		img.Packages = append(img.Packages, f.Packages...)
	}
	sort.Slice(img.Findings, func(i, j int) bool { return img.Findings[i].Path < img.Findings[j].Path })
	sortPackages(img.Packages)
	img.OS = osRelease(view)
	return img
}

// deleteBelow removes every finding strictly inside dir ("" is the root).
func deleteBelow(view map[string]Finding, dir string) {
	prefix := dir + "/"
	for p := range view {
		if dir == "" || strings.HasPrefix(p, prefix) {
			delete(view, p)
		}
	}
}

// osRelease prefers etc/os-release, which os-release(5) says takes
// precedence, and falls back to usr/lib/os-release, which it usually links
// to.
func osRelease(view map[string]Finding) *pkgdb.OSRelease {
	for _, p := range []string{"etc/os-release", "usr/lib/os-release"} {
		if f := view[p]; f.OSRelease != nil {
			return f.OSRelease
		}
	}
	return nil
}

func sortPackages(pkgs []pkgdb.Package) {
	sort.Slice(pkgs, func(i, j int) bool {
		a, b := pkgs[i], pkgs[j]
		if a.Ecosystem != b.Ecosystem {
			return a.Ecosystem < b.Ecosystem
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		return a.Source < b.Source
	})
}
