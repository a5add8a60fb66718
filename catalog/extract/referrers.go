package extract

import (
	"context"
	"fmt"
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
// Each SBOM layer is read once per record, however many referrers or
// entries list it, and no more SBOM bytes than the budget's in all.
func (x *Extractor) attachReferrers(ctx context.Context, rec *catalog.Record) {
	refs, err := x.Source.Referrers(ctx, rec.Ref())
	if err != nil {
		fail(rec, "listing referrers: %v", err)
		return
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].Digest < refs[j].Digest })
	rec.Referrers = refs
	have := packageSet(rec)
	reading := &sbomReading{read: map[digest.Digest]bool{}, left: x.Budget.SBOMBytes()}
	for _, ref := range refs {
		if !sbom.Supported(ref.ArtifactType) {
			continue
		}
		if ctx.Err() != nil {
			break // the deadline is said in the record
		}
		if reading.left == 0 {
			if !reading.cut {
				rec.Cut("SBOM %s: over the limit of %d SBOM bytes per image; it and those after it were not read", ref.Digest, x.Budget.SBOMBytes())
			}
			break
		}
		pkgs, err := x.sbomPackages(ctx, rec, ref.Digest, reading)
		if err != nil {
			fail(rec, "SBOM %s: %v", ref.Digest, err)
		}
		x.addPackages(rec, pkgs, "sbom:"+string(ref.Digest), have)
	}
}

// sbomReading is what reading a record's SBOMs has used of the budget.
type sbomReading struct {
	read map[digest.Digest]bool // layers read already
	left int64                  // bytes left to read
	cut  bool                   // the record says the bytes ran out
}

// sbomPackages reads the SBOM documents an SBOM referrer carries in its
// layers (one, usually), at most the budget's distinct layers.
func (x *Extractor) sbomPackages(ctx context.Context, rec *catalog.Record, d digest.Digest, reading *sbomReading) ([]pkgdb.Package, error) {
	_, payload, _, err := x.Source.Manifest(ctx, catalog.Ref{Repo: rec.Repository, Digest: d})
	if err != nil {
		return nil, err
	}
	m, err := oci.DecodeManifest(payload)
	if err != nil {
		return nil, err
	}
	var all []pkgdb.Package
	layers := 0
	for _, l := range m.Layers {
		if reading.read[l.Digest] {
			continue
		}
		if layers == x.Budget.SBOMLayers() {
			rec.Cut("SBOM %s: over the limit of %d layers per referrer; the rest were not read", d, x.Budget.SBOMLayers())
			break
		}
		if l.Size > reading.left {
			rec.Cut("SBOM %s: over the limit of %d SBOM bytes per image; layer %s and the rest were not read", d, x.Budget.SBOMBytes(), l.Digest)
			reading.left, reading.cut = 0, true
			break
		}
		layers++
		reading.read[l.Digest] = true
		mediaType := l.MediaType
		if !sbom.Supported(mediaType) {
			mediaType = m.EffectiveArtifactType()
		}
		pkgs, err := x.parseSBOM(ctx, rec.Repository, l.Digest, mediaType, reading)
		if err != nil {
			return all, err
		}
		all = append(all, pkgs...)
	}
	return all, nil
}

// parseSBOM parses one SBOM layer straight from storage (the parser holds
// the document once), within the bytes the reading has left.
func (x *Extractor) parseSBOM(ctx context.Context, repo string, d digest.Digest, mediaType string, reading *sbomReading) ([]pkgdb.Package, error) {
	rc, size, err := x.Source.Blob(ctx, catalog.Ref{Repo: repo, Digest: d})
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	most := min(maxSBOMBytes, reading.left)
	if size > most {
		return nil, fmt.Errorf("blob %s is %d bytes, over the %d byte limit", d, size, most)
	}
	reading.left -= size
	return sbom.Parse(mediaType, withContext(ctx, rc), most)
}
