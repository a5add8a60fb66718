package catalog

import (
	"bytes"
	"context"
	"io"
	"sort"
	"sync"

	"github.com/oyster-registry/oyster/catalog/pkgdb"
	"github.com/oyster-registry/oyster/catalog/sbom"
	"github.com/oyster-registry/oyster/catalog/sifread"

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

// maxSBOMBytes bounds one SBOM document read from a referrer.
const maxSBOMBytes = 64 << 20

// attachReferrers lists the manifests that refer to rec (SBOMs, signatures)
// and merges the packages of attached SBOMs, marked with their source.
func (x *extractor) attachReferrers(ctx context.Context, rec *Record) {
	refs, err := x.store.Referrers(rec.Repository, rec.Digest)
	if err != nil {
		rec.fail("listing referrers: %v", err)
		return
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].Digest < refs[j].Digest })
	rec.Referrers = refs
	have := map[Package]bool{}
	for _, p := range rec.Packages {
		have[Package{Name: p.Name, Version: p.Version, Ecosystem: p.Ecosystem}] = true
	}
	for _, ref := range refs {
		if !sbom.Supported(ref.ArtifactType) {
			continue
		}
		pkgs, err := x.sbomPackages(ctx, rec.Repository, ref.Digest)
		if err != nil {
			rec.fail("SBOM %s: %v", ref.Digest, err)
		}
		for _, p := range pkgs {
			key := Package{Name: p.Name, Version: p.Version, Ecosystem: string(p.Ecosystem)}
			if !have[key] {
				have[key] = true
				key.Source = "sbom:" + ref.Digest
				rec.Packages = append(rec.Packages, key)
			}
		}
	}
}

// sbomPackages reads the SBOM document an SBOM referrer carries in its
// (single) layer.
func (x *extractor) sbomPackages(ctx context.Context, repo, digest string) ([]pkgdb.Package, error) {
	_, payload, _, err := x.src.Manifest(ctx, repo, digest)
	if err != nil {
		return nil, err
	}
	m, err := oci.DecodeManifest(payload)
	if err != nil {
		return nil, err
	}
	var all []pkgdb.Package
	for _, l := range m.Layers {
		raw, err := x.readBlob(ctx, repo, l.Digest.String(), maxSBOMBytes)
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

// fillSIF reads a SIF pushed over ORAS (one layer holding the file): its
// definition file, labels, environment and runscript, and the packages in
// its primary squashfs partition, the same facts a layer scan yields.
func (x *extractor) fillSIF(ctx context.Context, rec *Record, m *oci.Manifest) {
	rec.Size += layersSize(m)
	rec.SIF = &SIFInfo{}
	if len(m.Layers) == 0 {
		rec.fail("SIF manifest has no layer")
		return
	}
	layer := m.Layers[0]
	rec.Annotations = withDefault(rec.Annotations, ociPrefix+"title", layer.Annotations[ociPrefix+"title"])
	rc, size, err := x.src.Blob(ctx, rec.Repository, layer.Digest.String())
	if err != nil {
		rec.fail("SIF %s: %v", layer.Digest, err)
		return
	}
	defer rc.Close()
	info, err := sifread.Read(readerAt(rc), size, x.limits)
	if err != nil {
		rec.fail("SIF %s: %v", layer.Digest, err)
		return
	}
	rec.SIF = &SIFInfo{Arch: info.Arch, DefFile: info.DefFile, Labels: info.Labels, Env: info.Env,
		Runscript: info.Runscript, Partitions: info.Partitions}
	rec.Labels = info.Labels
	rec.Config = ImageConfig{Env: info.Config.Env, Entrypoint: info.Config.Entrypoint, Cmd: info.Config.Cmd,
		WorkingDir: info.Config.WorkingDir, User: info.Config.User, ExposedPorts: info.Config.ExposedPorts}
	if info.Arch != "" {
		rec.Platforms = []string{"linux/" + info.Arch}
	}
	rec.Created = info.Created
	rec.IndexErrors = append(rec.IndexErrors, info.Problems...)
	var facts []LayerFacts
	if info.Root != nil {
		f, err := ScanFS(info.Root, x.limits)
		if err != nil {
			rec.fail("SIF %s system partition: %v", layer.Digest, err)
		}
		facts = append(facts, f)
	}
	applyFacts(rec, Merge(facts))
	for _, doc := range info.SBOMs {
		pkgs, err := sbom.Parse(doc.MediaType, bytes.NewReader(doc.Data), maxSBOMBytes)
		if err != nil {
			rec.fail("SBOM inside the SIF: %v", err)
		}
		for _, p := range pkgs {
			rec.Packages = append(rec.Packages, Package{Name: p.Name, Version: p.Version, Ecosystem: string(p.Ecosystem), Source: "sbom:embedded"})
		}
	}
}

// readerAt gives random access over a seekable blob reader; SIF readers
// jump between the header, descriptors and partitions.
func readerAt(r io.ReadSeeker) io.ReaderAt {
	if ra, ok := r.(io.ReaderAt); ok {
		return ra
	}
	return &seekReaderAt{r: r}
}

type seekReaderAt struct {
	mu sync.Mutex
	r  io.ReadSeeker
}

func (s *seekReaderAt) ReadAt(p []byte, off int64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.r.Seek(off, io.SeekStart); err != nil {
		return 0, err
	}
	return io.ReadFull(s.r, p)
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
