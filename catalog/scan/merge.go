package scan

import (
	"fmt"
	"sort"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/pkgdb"
)

// Merge applies layers bottom to top the way an overlay filesystem does, and
// returns what the final image holds. Within each layer, its opaque
// directories and whiteouts delete from the layers below first, then its own
// findings replace those at the same path: a dpkg status rewritten by an
// upper layer replaces the lower one's package list, a whited-out dist-info
// directory takes its Python package with it, an opaque directory hides all
// lower content under it.
//
// The view is a tree of path segments, so a whiteout costs the length of
// its path whatever it deletes: merging is linear in the paths of all
// layers (a layer of a million whiteouts over a million findings takes
// about a second, not hours). budget bounds the problems and packages
// kept; what it cuts is said in ImageFacts.Truncated.
func Merge(layers []LayerFacts, budget catalog.Budget) ImageFacts {
	view := newPathTree()
	problems := catalog.Problems{Max: budget.Problems()}
	var img ImageFacts
	for i, l := range layers {
		for _, dir := range l.OpaqueDirs {
			view.deleteBelow(dir)
		}
		for _, p := range l.Whiteouts {
			view.delete(p)
		}
		for _, f := range l.Findings {
			view.put(f)
		}
		for _, p := range l.Problems {
			problems.Add(fmt.Sprintf("layer %d: %s", i, p))
		}
		problems.Omitted += l.ProblemsOmitted
		for _, t := range l.Truncated {
			img.Truncated = append(img.Truncated, fmt.Sprintf("layer %d: %s", i, t))
		}
	}
	img.Findings = view.findings()
	img.Problems, img.ProblemsOmitted = problems.Kept, problems.Omitted
	img.Packages, img.Truncated = packagesWithin(img.Findings, budget, img.Truncated)
	img.OS = osRelease(view)
	return img
}

// packagesWithin lists the packages of findings, sorted, at most the
// budget's.
func packagesWithin(findings []Finding, budget catalog.Budget, truncated []string) ([]pkgdb.Package, []string) {
	var pkgs []pkgdb.Package
	for _, f := range findings {
		pkgs = append(pkgs, f.Packages...)
	}
	sortPackages(pkgs)
	if most := budget.Packages(); len(pkgs) > most {
		truncated = append(truncated, fmt.Sprintf("packages: %d, over the limit of %d per image; the first %d in order were kept", len(pkgs), most, most))
		pkgs = pkgs[:most]
	}
	return pkgs, truncated
}

// osRelease prefers etc/os-release, which os-release(5) says takes
// precedence, and falls back to usr/lib/os-release, which it usually links
// to.
func osRelease(view *pathTree) *pkgdb.OSRelease {
	for _, p := range []string{"etc/os-release", "usr/lib/os-release"} {
		if f := view.get(p); f != nil && f.OSRelease != nil {
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
