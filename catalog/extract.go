package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/oyster-registry/oyster/oci"
)

// maxConfigBytes bounds an image config blob; real ones are a few KiB, big
// ones with long histories a few hundred.
const maxConfigBytes = 8 << 20

// extractor turns what storage holds into Records.
type extractor struct {
	src    Source
	store  *Store
	limits oci.Limits
}

// build derives the record of repo@digest from storage; ErrNotFound when
// storage no longer has the manifest.
func (x *extractor) build(ctx context.Context, repo, digest string) (*Record, error) {
	mediaType, payload, modified, err := x.src.Manifest(ctx, repo, digest)
	if err != nil {
		return nil, err
	}
	rec := &Record{Repository: repo, Digest: digest, MediaType: mediaType, Updated: modified, Size: int64(len(payload))}
	m, err := oci.DecodeManifest(payload)
	if err != nil {
		rec.Kind = KindArtifact
		rec.fail("manifest: %v", err)
		return rec, nil
	}
	if rec.MediaType == "" {
		rec.MediaType = m.MediaType
	}
	rec.Annotations, rec.ArtifactType = m.Annotations, m.ArtifactType
	if m.Subject != nil {
		rec.Subject = m.Subject.Digest.String()
	}
	if m.Config != nil {
		rec.ConfigMediaType = m.Config.MediaType
	}
	switch {
	case oci.IsIndex(rec.MediaType) || len(m.Manifests) > 0:
		rec.Kind = KindIndex
		x.fillIndex(rec, m)
	case isSIF(m):
		rec.Kind = KindSIF
		x.fillSIF(ctx, rec, m)
	case isImage(m):
		rec.Kind = KindImage
		x.fillImage(ctx, rec, m)
	default:
		rec.Kind = KindArtifact
		rec.Size += layersSize(m)
	}
	rec.OCI = ociInfo(rec.Annotations, rec.Labels)
	if rec.OCI.BaseName != "" || rec.OCI.BaseDigest != "" {
		rec.Base = append(rec.Base, ImageRef{Repository: rec.OCI.BaseName, Digest: rec.OCI.BaseDigest, Via: "annotation"})
	}
	if rec.Created.IsZero() {
		rec.Created = parseTime(rec.OCI.Created)
	}
	x.attachReferrers(ctx, rec)
	return rec, nil
}

func (r *Record) fail(format string, args ...any) {
	r.IndexErrors = append(r.IndexErrors, fmt.Sprintf(format, args...))
}

func isImage(m *oci.Manifest) bool {
	if m.Config == nil {
		return false
	}
	switch m.Config.MediaType {
	case v1.MediaTypeImageConfig, "application/vnd.docker.container.image.v1+json":
		return m.ArtifactType == ""
	}
	return false
}

func isSIF(m *oci.Manifest) bool {
	if m.Config != nil && m.Config.MediaType == oci.MediaTypeSIFConfig {
		return true
	}
	return len(m.Layers) == 1 && (m.Layers[0].MediaType == oci.MediaTypeSIFLayer || m.Layers[0].MediaType == oci.MediaTypeSIFLayerLegacy)
}

func layersSize(m *oci.Manifest) int64 {
	var n int64
	if m.Config != nil {
		n += m.Config.Size
	}
	for _, l := range m.Layers {
		n += l.Size
	}
	return n
}

// readBlob reads a whole small blob, refusing more than max bytes.
func (x *extractor) readBlob(ctx context.Context, repo, digest string, max int64) ([]byte, error) {
	rc, size, err := x.src.Blob(ctx, repo, digest)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if size > max {
		return nil, fmt.Errorf("blob %s is %d bytes, over the %d byte limit", digest, size, max)
	}
	return io.ReadAll(io.LimitReader(rc, max))
}

func (x *extractor) fillImage(ctx context.Context, rec *Record, m *oci.Manifest) {
	rec.Size += layersSize(m)
	raw, err := x.readBlob(ctx, rec.Repository, m.Config.Digest.String(), maxConfigBytes)
	var img v1.Image
	if err == nil {
		err = json.Unmarshal(raw, &img)
	}
	if err != nil {
		rec.fail("config %s: %v", m.Config.Digest, err)
	}
	applyConfig(rec, &img)
	rec.Layers = layersWithHistory(m.Layers, img.History)
	facts := x.layerFacts(ctx, rec, m.Layers)
	applyFacts(rec, Merge(facts))
	x.findBases(rec)
}

func applyConfig(rec *Record, img *v1.Image) {
	if p := platformString(img.OS, img.Architecture, img.Variant); p != "" {
		rec.Platforms = []string{p}
	}
	if img.Created != nil {
		rec.Created = *img.Created
	}
	c := img.Config
	rec.Labels = c.Labels
	rec.Config = ImageConfig{Env: c.Env, Entrypoint: c.Entrypoint, Cmd: c.Cmd, WorkingDir: c.WorkingDir, User: c.User}
	for port := range c.ExposedPorts {
		rec.Config.ExposedPorts = append(rec.Config.ExposedPorts, port)
	}
	sort.Strings(rec.Config.ExposedPorts)
}

func platformString(os, arch, variant string) string {
	if os == "" && arch == "" {
		return ""
	}
	p := os + "/" + arch
	if variant != "" {
		p += "/" + variant
	}
	return p
}

// layersWithHistory pairs layers with the history entries that made them
// (entries marked empty_layer made no layer).
func layersWithHistory(descs []v1.Descriptor, history []v1.History) []Layer {
	var made []v1.History
	for _, h := range history {
		if !h.EmptyLayer {
			made = append(made, h)
		}
	}
	layers := make([]Layer, len(descs))
	for i, d := range descs {
		layers[i] = Layer{Digest: d.Digest.String(), MediaType: d.MediaType, Size: d.Size}
		if len(made) == len(descs) {
			layers[i].CreatedBy = made[i].CreatedBy
		}
	}
	return layers
}

// layerFacts returns each layer's facts, from the cache when a layer was
// read before, else by streaming it once and caching the result.
func (x *extractor) layerFacts(ctx context.Context, rec *Record, descs []v1.Descriptor) []LayerFacts {
	out := make([]LayerFacts, 0, len(descs))
	for _, d := range descs {
		if oci.IsNonDistributable(d.MediaType) {
			continue
		}
		facts, err := x.scanLayer(ctx, rec.Repository, d)
		if err != nil {
			rec.fail("layer %s: %v", d.Digest, err)
		}
		out = append(out, facts)
	}
	return out
}

func (x *extractor) scanLayer(ctx context.Context, repo string, d v1.Descriptor) (LayerFacts, error) {
	if cached, err := x.store.LayerFacts(d.Digest.String()); err != nil || cached != nil {
		if cached != nil {
			return *cached, nil
		}
		return LayerFacts{}, err
	}
	rc, _, err := x.src.Blob(ctx, repo, d.Digest.String())
	if errors.Is(err, ErrNotFound) {
		return LayerFacts{}, errors.New("not in storage (sparse manifest)")
	}
	if err != nil {
		return LayerFacts{}, err
	}
	defer rc.Close()
	layersScanned.Inc()
	facts, err := ScanLayer(rc, d.MediaType, x.limits)
	if err != nil {
		return facts, err // partial facts are not cached
	}
	return facts, x.store.PutLayerFacts(d.Digest.String(), facts)
}

func (x *extractor) fillIndex(rec *Record, m *oci.Manifest) {
	seen := map[string]bool{}
	for _, c := range m.Manifests {
		child := Child{Digest: c.Digest.String(), MediaType: c.MediaType, Size: c.Size}
		if c.Platform != nil {
			child.Platform = platformString(c.Platform.OS, c.Platform.Architecture, c.Platform.Variant)
			if child.Platform != "" && !seen[child.Platform] {
				seen[child.Platform] = true
				rec.Platforms = append(rec.Platforms, child.Platform)
			}
		}
		rec.Children = append(rec.Children, child)
		rec.Size += c.Size
		if sub, err := x.store.Record(rec.Repository + "@" + child.Digest); err == nil && sub != nil {
			rec.Size += sub.Size - c.Size
			inheritFromChild(rec, sub)
		}
	}
}

// inheritFromChild lets an index be found by what its images contain.
func inheritFromChild(rec, child *Record) {
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
	have := map[Package]bool{}
	for _, p := range rec.Packages {
		have[p] = true
	}
	for _, p := range child.Packages {
		if !have[p] {
			have[p] = true
			rec.Packages = append(rec.Packages, p)
		}
	}
	rec.IndexErrors = append(rec.IndexErrors, prefixed(child.Digest, child.IndexErrors)...)
}

func prefixed(prefix string, lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = prefix + ": " + l
	}
	return out
}

// findBases records the images this one is built on: those its
// org.opencontainers.image.base.* annotations name, and those whose layers
// are a strict prefix of its own.
func (x *extractor) findBases(rec *Record) {
	keys, err := x.store.BasesByLayers(rec.Layers)
	if err == nil {
		var refs []ImageRef
		refs, err = x.store.TaggedRefs(keys, "layers")
		rec.Base = append(rec.Base, refs...)
	}
	if err != nil {
		rec.fail("finding base images: %v", err)
	}
}

const ociPrefix = "org.opencontainers.image."

// ociInfo reads the org.opencontainers.image.* keys, from annotations first
// and labels second (Dockerfiles usually set them as LABELs).
func ociInfo(annotations, labels map[string]string) OCIInfo {
	get := func(key string) string {
		if v := annotations[ociPrefix+key]; v != "" {
			return v
		}
		return labels[ociPrefix+key]
	}
	return OCIInfo{
		Title: get("title"), Description: get("description"), URL: get("url"), Source: get("source"),
		Revision: get("revision"), Version: get("version"), Licenses: get("licenses"), Vendor: get("vendor"),
		Authors: get("authors"), Documentation: get("documentation"), Created: get("created"),
		BaseName: get("base.name"), BaseDigest: get("base.digest"),
	}
}

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339, s)
	return t
}
