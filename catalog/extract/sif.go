package extract

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/sbom"
	"github.com/oyster-registry/oyster/catalog/scan"
	"github.com/oyster-registry/oyster/oci"
	"github.com/oyster-registry/oyster/oci/sif"
)

// fillSIF reads a SIF pushed over ORAS (one layer holding the file): its
// definition file, labels, environment and runscript, and the packages in
// its primary squashfs partition, the same facts a layer scan yields.
func (x *Extractor) fillSIF(ctx context.Context, rec *catalog.Record, m *oci.Manifest) {
	rec.Size += layersSize(m)
	rec.SIF = &catalog.SIFInfo{}
	if len(m.Layers) == 0 {
		fail(rec, "SIF manifest has no layer")
		return
	}
	layer := m.Layers[0]
	rec.Annotations = withDefault(rec.Annotations, ociPrefix+"title", layer.Annotations[ociPrefix+"title"])
	rc, size, err := x.Source.Blob(ctx, catalog.Ref{Repo: rec.Repository, Digest: layer.Digest})
	if err != nil {
		fail(rec, "SIF %s: %v", layer.Digest, err)
		return
	}
	defer rc.Close()
	info, err := sif.Read(readerAt(ctx, rc), size, x.Limits)
	if err != nil {
		fail(rec, "SIF %s: %v", layer.Digest, err)
		return
	}
	rec.SIF = &catalog.SIFInfo{Arch: info.Arch, DefFile: info.DefFile, Labels: info.Labels, Env: info.Env,
		Runscript: info.Runscript, Partitions: info.Partitions}
	rec.Labels = info.Labels
	rec.Config = catalog.ImageConfig{Env: info.Config.Env, Entrypoint: info.Config.Entrypoint, Cmd: info.Config.Cmd,
		WorkingDir: info.Config.WorkingDir, User: info.Config.User, ExposedPorts: info.Config.ExposedPorts}
	if info.Arch != "" {
		rec.Platforms = []string{"linux/" + info.Arch}
	}
	rec.Created = info.Created
	rec.IndexErrors = append(rec.IndexErrors, info.Problems...)
	var facts []scan.LayerFacts
	if info.Root != nil {
		f, err := scan.ScanFS(info.Root, x.Limits, x.Budget)
		if err != nil {
			fail(rec, "SIF %s system partition: %v", layer.Digest, err)
		}
		facts = append(facts, f)
	}
	x.applyFacts(rec, scan.Merge(facts, x.Budget))
	for _, doc := range info.SBOMs {
		pkgs, err := sbom.Parse(doc.MediaType, bytes.NewReader(doc.Data), maxSBOMBytes)
		if err != nil {
			fail(rec, "SBOM inside the SIF: %v", err)
		}
		x.addPackages(rec, pkgs, "sbom:embedded", nil)
	}
}

// readerAt gives random access over a seekable blob reader; SIF readers
// jump between the header, descriptors and partitions. Reads fail once
// ctx ends.
func readerAt(ctx context.Context, r io.ReadSeeker) io.ReaderAt {
	return &seekReaderAt{ctx: ctx, r: r}
}

type seekReaderAt struct {
	ctx context.Context
	mu  sync.Mutex
	r   io.ReadSeeker
}

func (s *seekReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if err := s.ctx.Err(); err != nil {
		return 0, fmt.Errorf("reading stopped: %w", context.Cause(s.ctx))
	}
	if ra, ok := s.r.(io.ReaderAt); ok {
		return ra.ReadAt(p, off)
	}
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
