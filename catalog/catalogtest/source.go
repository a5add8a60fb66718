package catalogtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/oci"
)

// Source is registry storage in memory: what tests push, the catalog reads.
// It is safe for concurrent use.
type Source struct {
	mu        sync.RWMutex
	manifests map[catalog.Ref]manifest
	blobs     map[digest.Digest][]byte
	tags      map[string]map[string]digest.Digest
}

type manifest struct {
	mediaType string
	payload   []byte
}

var _ catalog.Source = (*Source)(nil)

// Received is the time every manifest of a Source was received.
var Received = time.Unix(1700000000, 0).UTC()

// NewSource returns empty storage.
func NewSource() *Source {
	return &Source{manifests: map[catalog.Ref]manifest{}, blobs: map[digest.Digest][]byte{}, tags: map[string]map[string]digest.Digest{}}
}

// PutBlob stores a blob (in every repository) and returns its descriptor.
func (s *Source) PutBlob(mediaType string, data []byte) v1.Descriptor {
	d := digest.FromBytes(data)
	s.mu.Lock()
	s.blobs[d] = data
	s.mu.Unlock()
	return v1.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(data))}
}

// PutManifest stores a manifest of repo, tagged unless tag is empty.
func (s *Source) PutManifest(repo, tag, mediaType string, payload []byte) catalog.Ref {
	ref := catalog.Ref{Repo: repo, Digest: digest.FromBytes(payload)}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.manifests[ref] = manifest{mediaType, payload}
	if tag != "" {
		if s.tags[repo] == nil {
			s.tags[repo] = map[string]digest.Digest{}
		}
		s.tags[repo][tag] = ref.Digest
	}
	return ref
}

// PushImage stores an image of repo:tag with an image config (JSON) and
// layers (tar, compressed or not), and returns its ref.
func (s *Source) PushImage(repo, tag, config string, layers ...[]byte) catalog.Ref {
	m := oci.Manifest{MediaType: v1.MediaTypeImageManifest}
	cfg := s.PutBlob(v1.MediaTypeImageConfig, []byte(config))
	m.Config = &cfg
	for _, l := range layers {
		m.Layers = append(m.Layers, s.PutBlob(v1.MediaTypeImageLayerGzip, l))
	}
	return s.PutManifest(repo, tag, m.MediaType, encode(m))
}

// PushIndex stores an image index of repo:tag listing children (manifests
// of repo) for linux/amd64, linux/arm64, ... in turn.
func (s *Source) PushIndex(repo, tag string, children ...catalog.Ref) catalog.Ref {
	m := oci.Manifest{MediaType: v1.MediaTypeImageIndex}
	arches := []string{"amd64", "arm64", "ppc64le", "s390x"}
	for i, c := range children {
		s.mu.RLock()
		child := s.manifests[c]
		s.mu.RUnlock()
		m.Manifests = append(m.Manifests, v1.Descriptor{
			MediaType: child.mediaType, Digest: c.Digest, Size: int64(len(child.payload)),
			Platform: &v1.Platform{OS: "linux", Architecture: arches[i%len(arches)]},
		})
	}
	return s.PutManifest(repo, tag, m.MediaType, encode(m))
}

// PushReferrer stores an artifact of repo whose subject is subject: one
// layer of layerType holding data (an SBOM document, say).
func (s *Source) PushReferrer(subject catalog.Ref, artifactType, layerType string, data []byte) catalog.Ref {
	s.mu.RLock()
	sub := s.manifests[subject]
	s.mu.RUnlock()
	empty := s.PutBlob(v1.MediaTypeEmptyJSON, []byte("{}"))
	m := oci.Manifest{
		MediaType: v1.MediaTypeImageManifest, ArtifactType: artifactType, Config: &empty,
		Layers:  []v1.Descriptor{s.PutBlob(layerType, data)},
		Subject: &v1.Descriptor{MediaType: sub.mediaType, Digest: subject.Digest, Size: int64(len(sub.payload))},
	}
	return s.PutManifest(subject.Repo, "", m.MediaType, encode(m))
}

// PushSIF stores a SIF file as apptainer pushes it over ORAS.
func (s *Source) PushSIF(repo, tag string, sif []byte) catalog.Ref {
	cfg := s.PutBlob(oci.MediaTypeSIFConfig, []byte("{}"))
	m := oci.Manifest{MediaType: v1.MediaTypeImageManifest, Config: &cfg, Layers: []v1.Descriptor{s.PutBlob(oci.MediaTypeSIFLayer, sif)}}
	return s.PutManifest(repo, tag, m.MediaType, encode(m))
}

// Tag points repo:tag at d; an empty d removes the tag.
func (s *Source) Tag(repo, tag string, d digest.Digest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d == "" {
		delete(s.tags[repo], tag)
		return
	}
	if s.tags[repo] == nil {
		s.tags[repo] = map[string]digest.Digest{}
	}
	s.tags[repo][tag] = d
}

// Delete removes a manifest and the tags pointing at it.
func (s *Source) Delete(ref catalog.Ref) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.manifests, ref)
	for tag, d := range s.tags[ref.Repo] {
		if d == ref.Digest {
			delete(s.tags[ref.Repo], tag)
		}
	}
}

func encode(m oci.Manifest) []byte {
	m.SchemaVersion = 2
	raw, err := json.Marshal(m)
	if err != nil {
		panic(err) // a manifest of plain fields always encodes
	}
	return raw
}

// Manifest implements catalog.Source.
func (s *Source) Manifest(_ context.Context, ref catalog.Ref) (string, []byte, time.Time, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	m, ok := s.manifests[ref]
	if !ok {
		return "", nil, time.Time{}, catalog.ErrNotFound
	}
	return m.mediaType, m.payload, Received, nil
}

type readSeekNopCloser struct{ *bytes.Reader }

func (readSeekNopCloser) Close() error { return nil }

// Blob implements catalog.Source.
func (s *Source) Blob(_ context.Context, ref catalog.Ref) (io.ReadSeekCloser, int64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b, ok := s.blobs[ref.Digest]
	if !ok {
		return nil, 0, catalog.ErrNotFound
	}
	return readSeekNopCloser{bytes.NewReader(b)}, int64(len(b)), nil
}

// Tags implements catalog.Source.
func (s *Source) Tags(_ context.Context, repo string) (map[string]digest.Digest, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := map[string]digest.Digest{}
	for tag, d := range s.tags[repo] {
		out[tag] = d
	}
	return out, nil
}

// Repositories implements catalog.Source.
func (s *Source) Repositories(_ context.Context, fn func(string) error) error {
	for _, repo := range s.repos() {
		if err := fn(repo); err != nil {
			return err
		}
	}
	return nil
}

func (s *Source) repos() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	seen := map[string]bool{}
	var out []string
	for ref := range s.manifests {
		if !seen[ref.Repo] {
			seen[ref.Repo] = true
			out = append(out, ref.Repo)
		}
	}
	sort.Strings(out)
	return out
}

// Manifests implements catalog.Source.
func (s *Source) Manifests(_ context.Context, repo string, fn func(digest.Digest) error) error {
	s.mu.RLock()
	var ds []digest.Digest
	for ref := range s.manifests {
		if ref.Repo == repo {
			ds = append(ds, ref.Digest)
		}
	}
	s.mu.RUnlock()
	for _, d := range ds {
		if err := fn(d); err != nil {
			return err
		}
	}
	return nil
}

// Referrers implements catalog.Source by reading every manifest of the
// subject's repository, as the registry's referrers index would answer.
func (s *Source) Referrers(_ context.Context, subject catalog.Ref) ([]catalog.Referrer, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []catalog.Referrer
	for ref, m := range s.manifests {
		if ref.Repo != subject.Repo {
			continue
		}
		parsed, err := oci.DecodeManifest(m.payload)
		if err != nil || parsed.Subject == nil || parsed.Subject.Digest != subject.Digest {
			continue
		}
		out = append(out, catalog.Referrer{Digest: ref.Digest, ArtifactType: parsed.EffectiveArtifactType(), MediaType: m.mediaType})
	}
	return out, nil
}
