package extract

import (
	"context"
	"encoding/json"
	"errors"
	"sort"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/scan"
	"github.com/oyster-registry/oyster/oci"
)

func (x *Extractor) fillImage(ctx context.Context, rec *catalog.Record, m *oci.Manifest) {
	rec.Size += layersSize(m)
	raw, err := x.readBlob(ctx, rec.Repository, m.Config.Digest, maxConfigBytes)
	var img v1.Image
	if err == nil {
		err = json.Unmarshal(raw, &img)
	}
	if err != nil {
		fail(rec, "config %s: %v", m.Config.Digest, err)
	}
	applyConfig(rec, &img)
	rec.Layers = layersWithHistory(m.Layers, img.History)
	x.applyFacts(rec, x.mergeLayers(ctx, rec, m.Layers))
	x.findBases(rec)
}

func applyConfig(rec *catalog.Record, img *v1.Image) {
	if p := platformString(img.OS, img.Architecture, img.Variant); p != "" {
		rec.Platforms = []string{p}
	}
	if img.Created != nil {
		rec.Created = *img.Created
	}
	c := img.Config
	rec.Labels = c.Labels
	rec.Config = catalog.ImageConfig{Env: c.Env, Entrypoint: c.Entrypoint, Cmd: c.Cmd, WorkingDir: c.WorkingDir, User: c.User}
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
func layersWithHistory(descs []v1.Descriptor, history []v1.History) []catalog.Layer {
	var made []v1.History
	for _, h := range history {
		if !h.EmptyLayer {
			made = append(made, h)
		}
	}
	layers := make([]catalog.Layer, len(descs))
	for i, d := range descs {
		layers[i] = catalog.Layer{Digest: d.Digest, MediaType: d.MediaType, Size: d.Size}
		if len(made) == len(descs) {
			layers[i].CreatedBy = made[i].CreatedBy
		}
	}
	return layers
}

// mergeLayers merges the facts of each layer, from the cache when a layer
// was read before, else by streaming it once and caching the result. One
// layer's facts are held at a time: an image may list thousands of layers.
func (x *Extractor) mergeLayers(ctx context.Context, rec *catalog.Record, descs []v1.Descriptor) scan.ImageFacts {
	merged := scan.NewMerger(x.Budget)
	for _, d := range descs {
		if oci.IsNonDistributable(d.MediaType) {
			continue
		}
		if ctx.Err() != nil {
			fail(rec, "layer %s: not read, indexing stopped", d.Digest)
			continue
		}
		facts, err := x.scanLayer(ctx, rec.Repository, d)
		if err != nil {
			fail(rec, "layer %s: %v", d.Digest, err)
		}
		merged.Add(facts)
	}
	return merged.Facts()
}

func (x *Extractor) scanLayer(ctx context.Context, repo string, d v1.Descriptor) (scan.LayerFacts, error) {
	if cached, err := x.Layers.LayerFacts(d.Digest); err != nil || cached != nil {
		if cached != nil {
			return *cached, nil
		}
		return scan.LayerFacts{}, err
	}
	rc, _, err := x.Source.Blob(ctx, catalog.Ref{Repo: repo, Digest: d.Digest})
	if errors.Is(err, catalog.ErrNotFound) {
		return scan.LayerFacts{}, errors.New("not in storage (sparse manifest)")
	}
	if err != nil {
		return scan.LayerFacts{}, err
	}
	defer rc.Close()
	if x.LayerRead != nil {
		x.LayerRead()
	}
	facts, err := scan.ScanLayer(withContext(ctx, rc), d.MediaType, x.Limits, x.Budget)
	if err != nil {
		return facts, err // partial facts are not cached
	}
	return facts, x.Layers.PutLayerFacts(d.Digest, facts)
}

// findBases adds the tagged images whose layers are a strict prefix of
// rec's own to those its annotations name.
func (x *Extractor) findBases(rec *catalog.Record) {
	refs, err := x.Store.BaseImages(rec.Layers)
	if err != nil {
		fail(rec, "finding base images: %v", err)
	}
	rec.BaseImages = append(rec.BaseImages, refs...)
}
