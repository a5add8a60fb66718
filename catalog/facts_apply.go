package catalog

import (
	"context"
	"sort"

	"github.com/oyster-registry/oyster/catalog/version"
	"github.com/oyster-registry/oyster/oci"
)

// applyFacts copies what the layers revealed, and what they and the config
// imply (runtimes, CUDA), into the record.
func applyFacts(rec *Record, f ImageFacts) {
	d := Derive(f, rec.Config.Env, rec.Labels)
	for _, rt := range d.Runtimes {
		if rec.Runtimes == nil {
			rec.Runtimes = map[string]string{}
		}
		if old, ok := rec.Runtimes[rt.Name]; !ok || version.Compare(version.SchemeFor(""), old, rt.Version) < 0 {
			rec.Runtimes[rt.Name] = rt.Version
		}
	}
	rec.CUDA = d.CUDA
	if f.OS != nil {
		rec.OS = *f.OS
	}
	rec.Packages = make([]Package, 0, len(f.Packages))
	for _, p := range f.Packages {
		rec.Packages = append(rec.Packages, Package{Name: p.Name, Version: p.Version, Ecosystem: string(p.Ecosystem), Source: p.Source})
	}
	rec.IndexErrors = append(rec.IndexErrors, f.Problems...)
}

// attachReferrers lists the manifests that refer to rec (SBOMs, signatures).
func (x *extractor) attachReferrers(_ context.Context, rec *Record) {
	refs, err := x.store.Referrers(rec.Repository, rec.Digest)
	if err != nil {
		rec.fail("listing referrers: %v", err)
		return
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].Digest < refs[j].Digest })
	rec.Referrers = refs
}

// fillSIF describes a SIF pushed over ORAS: one layer holding the file.
func (x *extractor) fillSIF(_ context.Context, rec *Record, m *oci.Manifest) {
	rec.Size += layersSize(m)
	rec.SIF = &SIFInfo{}
	if len(m.Layers) > 0 && rec.OCI.Title == "" {
		rec.Annotations = withDefault(rec.Annotations, ociPrefix+"title", m.Layers[0].Annotations[ociPrefix+"title"])
	}
}

func withDefault(m map[string]string, key, value string) map[string]string {
	if value == "" || m[key] != "" {
		return m
	}
	out := map[string]string{key: value}
	for k, v := range m {
		out[k] = v
	}
	return out
}
