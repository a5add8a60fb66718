// Package extract turns what registry storage holds into catalog Records:
// an image manifest with its config and layers, an image index with what
// its children hold, a SIF file pushed over ORAS, and the SBOMs that refer
// to any of them. It reads through catalog.Source and scans with package
// scan; it writes nothing but the layer cache.
package extract

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/scan"
	"github.com/oyster-registry/oyster/oci"
)

// LayerCache keeps what each layer holds by layer digest, so that a layer
// shared by many images is read once. The state store implements it.
type LayerCache interface {
	// LayerFacts returns the cached facts of a layer, or nil.
	LayerFacts(layer digest.Digest) (*scan.LayerFacts, error)
	PutLayerFacts(layer digest.Digest, facts scan.LayerFacts) error
}

// Extractor builds records. Store is read for what other records know: the
// children of an index and the images one is built on.
type Extractor struct {
	Source catalog.Source
	Store  catalog.Store
	Layers LayerCache
	Limits oci.Limits
	// Budget bounds what one record keeps and what building it costs.
	Budget catalog.Budget
	// LayerRead, when set, is called for each layer read from storage (a
	// layer cache miss).
	LayerRead func()
}

// maxConfigBytes bounds an image config blob; real ones are a few KiB, big
// ones with long histories a few hundred.
const maxConfigBytes = 8 << 20

// Record derives the record of ref from storage; catalog.ErrNotFound when
// storage no longer has the manifest. What could not be read is said in
// the record's IndexErrors, what the Budget cut in its Truncated: after
// the budget's deadline, the rest of the image is not read and the record
// is partial. An error means ctx ended (or storage failed) and there is
// no record. For an image index, pending lists the children that had no
// record yet: the index inherits their facts only once they are indexed,
// so it must be built again then.
func (x *Extractor) Record(ctx context.Context, ref catalog.Ref) (rec *catalog.Record, pending []catalog.Ref, err error) {
	mediaType, payload, modified, err := x.Source.Manifest(ctx, ref)
	if err != nil {
		return nil, nil, err
	}
	deadline := x.Budget.ImageDeadline()
	within, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	rec, pending = x.build(within, ref, mediaType, payload, modified)
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if within.Err() != nil {
		rec.Cut("indexing: over the deadline of %s; what was not read by then is missing", deadline)
	}
	x.bound(rec)
	return rec, pending, nil
}

func (x *Extractor) build(ctx context.Context, ref catalog.Ref, mediaType string, payload []byte, modified time.Time) (rec *catalog.Record, pending []catalog.Ref) {
	rec, m := fromManifest(ref, mediaType, payload, modified)
	if m == nil {
		return rec, nil
	}
	rec.Kind = kindOf(rec.MediaType, m)
	switch rec.Kind {
	case catalog.KindIndex:
		pending = x.fillIndex(rec, m)
	case catalog.KindSIF:
		x.fillSIF(ctx, rec, m)
	case catalog.KindImage:
		x.fillImage(ctx, rec, m)
	default:
		rec.Size += layersSize(m)
	}
	rec.OCI = ociInfo(rec.Annotations, rec.Labels)
	if rec.OCI.BaseName != "" || rec.OCI.BaseDigest != "" {
		base := catalog.ImageRef{Repository: rec.OCI.BaseName, Digest: digest.Digest(rec.OCI.BaseDigest), Via: catalog.ViaAnnotation}
		rec.BaseImages = append(rec.BaseImages, base)
	}
	if rec.Created.IsZero() {
		rec.Created = parseTime(rec.OCI.Created)
	}
	x.attachReferrers(ctx, rec)
	return rec, pending
}

// Abandoned is the record of ref when indexing it is given up on: what its
// manifest alone says, partial, with why. catalog.ErrNotFound when storage
// no longer has the manifest.
func (x *Extractor) Abandoned(ctx context.Context, ref catalog.Ref, why string) (*catalog.Record, error) {
	mediaType, payload, modified, err := x.Source.Manifest(ctx, ref)
	if err != nil {
		return nil, err
	}
	rec, m := fromManifest(ref, mediaType, payload, modified)
	if m != nil {
		rec.Kind = kindOf(rec.MediaType, m)
		rec.OCI = ociInfo(rec.Annotations, nil)
	}
	rec.Cut("%s", why)
	x.bound(rec)
	return rec, nil
}

// fromManifest starts a record with what the manifest says of itself; m
// is nil when the payload is no manifest, which rec says.
func fromManifest(ref catalog.Ref, mediaType string, payload []byte, modified time.Time) (*catalog.Record, *oci.Manifest) {
	rec := &catalog.Record{Repository: ref.Repo, Digest: ref.Digest, MediaType: mediaType, Updated: modified, Size: int64(len(payload)), Kind: catalog.KindArtifact}
	m, err := oci.DecodeManifest(payload)
	if err != nil {
		fail(rec, "manifest: %v", err)
		return rec, nil
	}
	if rec.MediaType == "" {
		rec.MediaType = m.MediaType
	}
	rec.Annotations, rec.ArtifactType = m.Annotations, m.ArtifactType
	if m.Subject != nil {
		rec.Subject = m.Subject.Digest
	}
	if m.Config != nil {
		rec.ConfigMediaType = m.Config.MediaType
	}
	return rec, m
}

func kindOf(mediaType string, m *oci.Manifest) string {
	switch {
	case oci.IsIndex(mediaType) || len(m.Manifests) > 0:
		return catalog.KindIndex
	case isSIF(m):
		return catalog.KindSIF
	case isImage(m):
		return catalog.KindImage
	}
	return catalog.KindArtifact
}

// fail notes in rec what could not be read; the record is still useful.
func fail(rec *catalog.Record, format string, args ...any) {
	rec.IndexErrors = append(rec.IndexErrors, fmt.Sprintf(format, args...))
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

// readBlob reads a whole small blob of repo, refusing more than max bytes.
func (x *Extractor) readBlob(ctx context.Context, repo string, d digest.Digest, max int64) ([]byte, error) {
	rc, size, err := x.Source.Blob(ctx, catalog.Ref{Repo: repo, Digest: d})
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if size > max {
		return nil, fmt.Errorf("blob %s is %d bytes, over the %d byte limit", d, size, max)
	}
	return io.ReadAll(io.LimitReader(withContext(ctx, rc), max))
}

// ctxReader fails reads once ctx ends, so that the deadline stops an
// image's indexing in the middle of a layer.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func withContext(ctx context.Context, r io.Reader) io.Reader { return &ctxReader{ctx: ctx, r: r} }

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, fmt.Errorf("reading stopped: %w", context.Cause(c.ctx))
	}
	return c.r.Read(p)
}

const ociPrefix = "org.opencontainers.image."

// ociInfo reads the org.opencontainers.image.* keys, from annotations first
// and labels second (Dockerfiles usually set them as LABELs).
func ociInfo(annotations, labels map[string]string) catalog.OCIInfo {
	get := func(key string) string {
		if v := annotations[ociPrefix+key]; v != "" {
			return v
		}
		return labels[ociPrefix+key]
	}
	return catalog.OCIInfo{
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
