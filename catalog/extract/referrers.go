package extract

import (
	"bytes"
	"context"
	"sort"

	"github.com/opencontainers/go-digest"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/pkgdb"
	"github.com/oyster-registry/oyster/catalog/sbom"
	"github.com/oyster-registry/oyster/oci"
)

// maxSBOMBytes bounds one SBOM document read from a referrer.
const maxSBOMBytes = 64 << 20

// attachReferrers lists the manifests that refer to rec (SBOMs, signatures)
// and merges the packages of attached SBOMs, marked with their source.
func (x *Extractor) attachReferrers(ctx context.Context, rec *catalog.Record) {
	refs, err := x.Source.Referrers(ctx, rec.Ref())
	if err != nil {
		fail(rec, "listing referrers: %v", err)
		return
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].Digest < refs[j].Digest })
	rec.Referrers = refs
	have := map[catalog.Package]bool{}
	for _, p := range rec.Packages {
		have[catalog.Package{Name: p.Name, Version: p.Version, Ecosystem: p.Ecosystem}] = true
	}
	for _, ref := range refs {
		if !sbom.Supported(ref.ArtifactType) {
			continue
		}
		pkgs, err := x.sbomPackages(ctx, rec.Repository, ref.Digest)
		if err != nil {
			fail(rec, "SBOM %s: %v", ref.Digest, err)
		}
		for _, p := range pkgs {
			key := catalog.Package{Name: p.Name, Version: p.Version, Ecosystem: string(p.Ecosystem)}
			if !have[key] {
				have[key] = true
				key.Source = "sbom:" + string(ref.Digest)
				rec.Packages = append(rec.Packages, key)
			}
		}
	}
}

// sbomPackages reads the SBOM document an SBOM referrer carries in its
// (single) layer.
func (x *Extractor) sbomPackages(ctx context.Context, repo string, d digest.Digest) ([]pkgdb.Package, error) {
	_, payload, _, err := x.Source.Manifest(ctx, catalog.Ref{Repo: repo, Digest: d})
	if err != nil {
		return nil, err
	}
	m, err := oci.DecodeManifest(payload)
	if err != nil {
		return nil, err
	}
	var all []pkgdb.Package
	for _, l := range m.Layers {
		raw, err := x.readBlob(ctx, repo, l.Digest, maxSBOMBytes)
		if err != nil {
			return all, err
		}
		mediaType := l.MediaType
		if !sbom.Supported(mediaType) {
			mediaType = m.EffectiveArtifactType()
		}
		pkgs, err := sbom.Parse(mediaType, bytes.NewReader(raw), maxSBOMBytes)
		if err != nil {
			return all, err
		}
		all = append(all, pkgs...)
	}
	return all, nil
}
