package extract

import (
	"github.com/opencontainers/go-digest"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/oci"
)

// fillIndex lists an index's children and inherits what their records say;
// it returns the children that have no record yet. A child listed several
// times is inherited from once, and at most the budget's children are
// listed at all.
func (x *Extractor) fillIndex(rec *catalog.Record, m *oci.Manifest) (pending []catalog.Ref) {
	platforms := map[string]bool{}
	inherited := map[digest.Digest]bool{}
	have := map[catalog.Package]bool{}
	for i, c := range m.Manifests {
		if i == x.Budget.IndexChildren() {
			rec.Cut("children: %d, over the limit of %d per index; the rest were not read", len(m.Manifests), x.Budget.IndexChildren())
			break
		}
		child := catalog.Child{Digest: c.Digest, MediaType: c.MediaType, Size: c.Size}
		if c.Platform != nil {
			child.Platform = platformString(c.Platform.OS, c.Platform.Architecture, c.Platform.Variant)
			if child.Platform != "" && !platforms[child.Platform] {
				platforms[child.Platform] = true
				rec.Platforms = append(rec.Platforms, child.Platform)
			}
		}
		rec.Children = append(rec.Children, child)
		if inherited[child.Digest] {
			continue
		}
		inherited[child.Digest] = true
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
			x.inheritFromChild(rec, sub, have)
		}
	}
	return pending
}

// inheritFromChild lets an index be found by what its images contain.
// have holds the packages rec has already, with their sources.
func (x *Extractor) inheritFromChild(rec, child *catalog.Record, have map[catalog.Package]bool) {
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
	dropped := 0
	for _, p := range child.Packages {
		switch {
		case have[p]:
		case len(rec.Packages) >= x.Budget.Packages():
			dropped++
		default:
			have[p] = true
			rec.Packages = append(rec.Packages, p)
		}
	}
	if dropped > 0 {
		rec.Cut("packages: over the limit of %d per image; %d of child %s were not kept", x.Budget.Packages(), dropped, child.Digest)
	}
	for _, l := range child.IndexErrors {
		rec.IndexErrors = append(rec.IndexErrors, string(child.Digest)+": "+l)
	}
	rec.IndexErrorsOmitted += child.IndexErrorsOmitted
	for _, t := range child.Truncated {
		rec.Cut("%s: %s", child.Digest, t)
	}
}
