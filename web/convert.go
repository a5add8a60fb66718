package web

import (
	"github.com/opencontainers/go-digest"

	"github.com/oyster-registry/oyster/api"
	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/search"
)

// The catalog's model and the API's shapes are separate types, so that a
// change inside the catalog is not a change of the API by accident. These
// functions copy one into the other; TestAPIShapesCarryEveryField fails
// when a field is left behind.

// imageJSON is rec in the API's shape; private marks an image not
// everyone may pull.
func imageJSON(rec *catalog.Record, pulls uint64, private bool) api.Image {
	return api.Image{
		Repository: rec.Repository, Digest: rec.Digest, MediaType: rec.MediaType, Kind: rec.Kind,
		Tags: rec.Tags, Updated: rec.Updated, Created: rec.Created,
		ArtifactType: rec.ArtifactType, ConfigMediaType: rec.ConfigMediaType, Subject: rec.Subject,
		Platforms: rec.Platforms, Size: rec.Size, UncompressedSize: rec.UncompressedSize,
		OCI: api.OCIInfo(rec.OCI), Labels: rec.Labels, Annotations: rec.Annotations, Config: api.ImageConfig(rec.Config),
		Layers: convertAll(rec.Layers, func(l catalog.Layer) api.Layer {
			return api.Layer{Digest: l.Digest, MediaType: l.MediaType, Size: l.Size, CreatedBy: l.CreatedBy}
		}),
		Children: convertAll(rec.Children, func(c catalog.Child) api.Child {
			return api.Child{Digest: c.Digest, MediaType: c.MediaType, Platform: c.Platform, Size: c.Size}
		}),
		OS: api.OSRelease(rec.OS), Packages: packagesJSON(rec.Packages), Runtimes: rec.Runtimes, CUDA: rec.CUDA,
		Base: imageRefsJSON(rec.BaseImages), Derived: imageRefsJSON(rec.DerivedImages),
		Referrers: convertAll(rec.Referrers, func(r catalog.Referrer) api.Referrer {
			return api.Referrer{Digest: r.Digest, ArtifactType: r.ArtifactType, MediaType: r.MediaType}
		}),
		SIF: (*api.SIFInfo)(rec.SIF), IndexErrors: rec.IndexErrors, Pulls: pulls,
		IndexErrorsOmitted: rec.IndexErrorsOmitted, Partial: rec.Partial, Truncated: rec.Truncated,
		Private: private,
	}
}

func packagesJSON(pkgs []catalog.Package) []api.Package {
	return convertAll(pkgs, func(p catalog.Package) api.Package { return api.Package(p) })
}

func imageRefsJSON(refs []catalog.ImageRef) []api.ImageRef {
	return convertAll(refs, func(r catalog.ImageRef) api.ImageRef {
		return api.ImageRef{Repository: r.Repository, Digest: r.Digest, Tag: r.Tag, Via: r.Via}
	})
}

// searchJSON is resp in the API's shape, with the hits of repositories
// private accepts marked private.
func searchJSON(resp *search.Response, private func(repo string) bool) api.SearchResults {
	out := api.SearchResults{Total: resp.Total, Facets: make(map[string][]api.FacetCount, len(resp.Facets))}
	out.Results = convertAll(resp.Results, func(h search.Hit) api.SearchHit {
		return api.SearchHit{
			Repository: h.Repository, Digest: digest.Digest(h.Digest), Tags: h.Tags, Kind: h.Kind,
			Title: h.Title, Description: h.Description, Platforms: h.Platforms, Updated: h.Updated, Size: h.Size,
			Python: h.Python, CUDA: h.CUDA, OS: h.OS, Score: h.Score, Highlights: h.Highlights,
			Private: private(h.Repository),
		}
	})
	if out.Results == nil {
		out.Results = []api.SearchHit{}
	}
	for name, counts := range resp.Facets {
		out.Facets[name] = convertAll(counts, func(c search.FacetCount) api.FacetCount { return api.FacetCount(c) })
	}
	return out
}

// convertAll maps a slice, keeping nil as nil (omitempty fields stay out).
func convertAll[S, T any](in []S, f func(S) T) []T {
	if in == nil {
		return nil
	}
	out := make([]T, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}
