package extract

import (
	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/oci"
)

// fillIndex lists an index's children and inherits what their records say;
// it returns the children that have no record yet.
func (x *Extractor) fillIndex(rec *catalog.Record, m *oci.Manifest) (pending []catalog.Ref) {
	seen := map[string]bool{}
	for _, c := range m.Manifests {
		child := catalog.Child{Digest: c.Digest, MediaType: c.MediaType, Size: c.Size}
		if c.Platform != nil {
			child.Platform = platformString(c.Platform.OS, c.Platform.Architecture, c.Platform.Variant)
			if child.Platform != "" && !seen[child.Platform] {
				seen[child.Platform] = true
				rec.Platforms = append(rec.Platforms, child.Platform)
			}
		}
		rec.Children = append(rec.Children, child)
		rec.Size += c.Size
		ref := catalog.Ref{Repo: rec.Repository, Digest: child.Digest}
		sub, err := x.Store.Record(ref)
		switch {
		case err != nil:
			fail(rec, "reading child %s: %v", child.Digest, err)
		case sub == nil:
			pending = append(pending, ref)
		default:
			rec.Size += sub.Size - c.Size
			inheritFromChild(rec, sub)
		}
	}
	return pending
}

// inheritFromChild lets an index be found by what its images contain.
func inheritFromChild(rec, child *catalog.Record) {
	if rec.Created.Before(child.Created) {
		rec.Created = child.Created
	}
	if rec.Labels == nil {
		rec.Labels = child.Labels
	}
	if rec.OS.ID == "" {
		rec.OS = child.OS
	}
	if rec.CUDA == "" {
		rec.CUDA = child.CUDA
	}
	for k, v := range child.Runtimes {
		if rec.Runtimes == nil {
			rec.Runtimes = map[string]string{}
		}
		if _, ok := rec.Runtimes[k]; !ok {
			rec.Runtimes[k] = v
		}
	}
	have := map[catalog.Package]bool{}
	for _, p := range rec.Packages {
		have[p] = true
	}
	for _, p := range child.Packages {
		if !have[p] {
			have[p] = true
			rec.Packages = append(rec.Packages, p)
		}
	}
	for _, l := range child.IndexErrors {
		rec.IndexErrors = append(rec.IndexErrors, string(child.Digest)+": "+l)
	}
}
