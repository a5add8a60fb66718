package extract

import (
	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/scan"
	"github.com/oyster-registry/oyster/catalog/version"
)

// applyFacts copies what the layers revealed, and what they and the config
// imply (runtimes, CUDA), into the record.
func applyFacts(rec *catalog.Record, f scan.ImageFacts) {
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
}
