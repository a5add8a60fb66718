package extract

import (
	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/pkgdb"
	"github.com/oyster-registry/oyster/catalog/scan"
	"github.com/oyster-registry/oyster/catalog/version"
)

// applyFacts copies what the layers revealed, and what they and the config
// imply (runtimes, CUDA), into the record.
func (x *Extractor) applyFacts(rec *catalog.Record, f scan.ImageFacts) {
	inferred := scan.Infer(f, rec.Config.Env, rec.Labels)
	for _, rt := range inferred.Runtimes {
		if rec.Runtimes == nil {
			rec.Runtimes = map[string]string{}
		}
		if old, ok := rec.Runtimes[rt.Name]; !ok || version.Compare(version.SchemeFor(""), old, rt.Version) < 0 {
			rec.Runtimes[rt.Name] = rt.Version
		}
	}
	rec.CUDA = inferred.CUDA
	if f.OS != nil {
		rec.OS = *f.OS
	}
	rec.Packages = make([]catalog.Package, 0, len(f.Packages))
	for _, p := range f.Packages {
		rec.Packages = append(rec.Packages, catalog.Package{Name: p.Name, Version: p.Version, Ecosystem: string(p.Ecosystem), Source: p.Source})
	}
	rec.IndexErrors = append(rec.IndexErrors, f.Problems...)
	rec.IndexErrorsOmitted += f.ProblemsOmitted
	for _, t := range f.Truncated {
		rec.Cut("%s", t)
	}
}

// addPackages adds pkgs, found in source, to rec: those it does not hold
// yet (by name, version and ecosystem; have, when not nil, holds them),
// while it holds fewer than the budget's packages. Packages whose names or
// versions are not plain text are reported instead.
func (x *Extractor) addPackages(rec *catalog.Record, pkgs []pkgdb.Package, source string, have map[catalog.Package]bool) {
	dropped := 0
	for _, p := range pkgs {
		if err := p.Check(); err != nil {
			fail(rec, "%s: %v", source, err)
			continue
		}
		key := catalog.Package{Name: p.Name, Version: p.Version, Ecosystem: string(p.Ecosystem)}
		if have[key] {
			continue
		}
		if len(rec.Packages) >= x.Budget.Packages() {
			dropped++
			continue
		}
		if have != nil {
			have[key] = true
		}
		key.Source = source
		rec.Packages = append(rec.Packages, key)
	}
	if dropped > 0 {
		rec.Cut("packages: over the limit of %d per image; %d from %s were not kept", x.Budget.Packages(), dropped, source)
	}
}

// packageSet is the name, version and ecosystem of every package of rec.
func packageSet(rec *catalog.Record) map[catalog.Package]bool {
	have := make(map[catalog.Package]bool, len(rec.Packages))
	for _, p := range rec.Packages {
		have[catalog.Package{Name: p.Name, Version: p.Version, Ecosystem: p.Ecosystem}] = true
	}
	return have
}
