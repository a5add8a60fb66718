package library

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path"
	"slices"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/oyster-registry/oyster/oci"
)

// sifImage is one SIF in a repository: the manifest that holds it, the SIF
// blob, and its architecture ("" when nothing says).
type sifImage struct {
	repo        string
	manifest    v1.Descriptor
	sif         v1.Descriptor
	arch        string
	description string
}

// sifConfig is the config of a SIF manifest as the library client writes
// it (the digest is the SIF's); apptainer's oras push may leave it empty.
type sifConfig struct {
	Architecture string        `json:"architecture"`
	OS           string        `json:"os"`
	RootFS       digest.Digest `json:"rootfs"`
	Description  string        `json:"description,omitempty"`
	Signed       bool          `json:"signed"`
	Encrypted    bool          `json:"encrypted"`
}

// tagImages returns the SIF images repo:tag points to: one for a
// manifest, one per SIF manifest of an index. A tag that does not exist is
// a not-found error.
func (l *Library) tagImages(ctx context.Context, repo, tag string) ([]sifImage, error) {
	m, err := l.reg.getManifest(ctx, repo, tag)
	if err != nil {
		return nil, err
	}
	if !oci.IsIndex(m.parsed.MediaType) && len(m.parsed.Manifests) == 0 {
		img, ok, err := l.manifestImage(ctx, repo, manifestDescriptor(m), m.parsed)
		if err != nil || !ok {
			return nil, err
		}
		return []sifImage{img}, nil
	}
	var out []sifImage
	for _, d := range m.parsed.Manifests {
		child, err := l.reg.getManifest(ctx, repo, d.Digest.String())
		if err != nil {
			return nil, err
		}
		img, ok, err := l.manifestImage(ctx, repo, d, child.parsed)
		if err != nil {
			return nil, err
		}
		if ok {
			if img.arch == "" && d.Platform != nil {
				img.arch = d.Platform.Architecture
			}
			out = append(out, img)
		}
	}
	return out, nil
}

func manifestDescriptor(m *manifest) v1.Descriptor {
	return v1.Descriptor{MediaType: m.mediaType, Digest: m.digest, Size: int64(len(m.body))}
}

// manifestImage reads a manifest as a SIF image; ok is false for any other
// kind of image.
func (l *Library) manifestImage(ctx context.Context, repo string, desc v1.Descriptor, m *oci.Manifest) (sifImage, bool, error) {
	if m.Config == nil || len(m.Layers) != 1 || !isSIFLayer(m.Layers[0].MediaType) {
		return sifImage{}, false, nil
	}
	img := sifImage{repo: repo, manifest: desc, sif: m.Layers[0]}
	if m.Config.MediaType == oci.MediaTypeSIFConfig && m.Config.Size > 2 && m.Config.Size < maxSmallBody {
		raw, err := l.reg.getBlob(ctx, repo, m.Config.Digest)
		if err != nil {
			return sifImage{}, false, err
		}
		var c struct{ Architecture, Description string }
		if json.Unmarshal(raw, &c) == nil {
			img.arch, img.description = c.Architecture, c.Description
		}
	}
	return img, true, nil
}

func isSIFLayer(mediaType string) bool {
	return mediaType == oci.MediaTypeSIFLayer || mediaType == oci.MediaTypeSIFLayerLegacy
}

// pickArch chooses the image for arch among a tag's images; with no arch
// asked, a tag of one image answers with it. An image whose architecture
// nothing records serves any.
func pickArch(imgs []sifImage, arch string) (sifImage, bool) {
	if arch == "" && len(imgs) == 1 {
		return imgs[0], true
	}
	for _, img := range imgs {
		if img.arch == arch {
			return img, true
		}
	}
	for _, img := range imgs {
		if img.arch == "" {
			return img, true
		}
	}
	return sifImage{}, false
}

// resolve finds the image a ref names for arch: by tag, or by hash among
// the repository's tags.
func (l *Library) resolve(ctx context.Context, r ref, arch string) (sifImage, error) {
	if r.hash != "" {
		return l.imageByHash(ctx, r.repo, r.hash)
	}
	imgs, err := l.tagImages(ctx, r.repo, r.tag)
	if err != nil {
		return sifImage{}, err
	}
	img, ok := pickArch(imgs, arch)
	if !ok {
		return sifImage{}, notFound("%s:%s has no image for architecture %q", r.repo, r.tag, arch)
	}
	return img, nil
}

// imageByHash finds a tagged image of repo whose SIF is d.
func (l *Library) imageByHash(ctx context.Context, repo string, d digest.Digest) (sifImage, error) {
	tags, err := l.reg.tags(ctx, repo)
	if err != nil {
		return sifImage{}, err
	}
	for _, tag := range tags {
		imgs, err := l.tagImages(ctx, repo, tag)
		if err != nil {
			return sifImage{}, err
		}
		for _, img := range imgs {
			if img.sif.Digest == d {
				return img, nil
			}
		}
	}
	return sifImage{}, notFound("%s has no image %s", repo, libraryHash(d))
}

// tagImage points repo:tag at the SIF blob d for arch, stored as
// apptainer stores a SIF: a config and one SIF layer in one manifest. The
// tag's images of other architectures stay, the tag then naming an index
// of them all. The blob must be in the repository: a tag moves only to a
// complete, verified upload.
func (l *Library) tagImage(ctx context.Context, repo, tag, arch string, d digest.Digest) error {
	size, err := l.reg.blobSize(ctx, repo, d)
	if err != nil {
		return err
	}
	if size < 0 {
		return notFound("image %s has not been uploaded to %s", libraryHash(d), repo)
	}
	l.tagMu.Lock()
	defer l.tagMu.Unlock()
	config, _ := json.Marshal(sifConfig{Architecture: arch, OS: "linux", RootFS: d})
	configDigest, err := l.reg.putBlob(ctx, repo, config)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(oci.Manifest{
		SchemaVersion: 2, MediaType: v1.MediaTypeImageManifest,
		Config: &v1.Descriptor{MediaType: oci.MediaTypeSIFConfig, Digest: configDigest, Size: int64(len(config))},
		Layers: []v1.Descriptor{{MediaType: oci.MediaTypeSIFLayer, Digest: d, Size: size,
			Annotations: map[string]string{v1.AnnotationTitle: path.Base(repo) + "_" + tag + ".sif"}}},
	})
	others, err := l.otherArchs(ctx, repo, tag, arch)
	if err != nil {
		return err
	}
	if len(others) == 0 {
		_, err = l.reg.putManifest(ctx, repo, tag, v1.MediaTypeImageManifest, body)
		return err
	}
	md, err := l.reg.putManifest(ctx, repo, digest.FromBytes(body).String(), v1.MediaTypeImageManifest, body)
	if err != nil {
		return err
	}
	_, err = l.reg.putManifest(ctx, repo, tag, v1.MediaTypeImageIndex, indexOf(append(others, sifImage{manifest: v1.Descriptor{Digest: md, Size: int64(len(body))}, arch: arch})))
	return err
}

// indexOf is an image index of imgs, each with its architecture.
func indexOf(imgs []sifImage) []byte {
	index := oci.Manifest{SchemaVersion: 2, MediaType: v1.MediaTypeImageIndex}
	for _, img := range imgs {
		index.Manifests = append(index.Manifests, v1.Descriptor{
			MediaType: v1.MediaTypeImageManifest, Digest: img.manifest.Digest, Size: img.manifest.Size,
			Platform: &v1.Platform{OS: "linux", Architecture: img.arch},
		})
	}
	raw, _ := json.Marshal(index) // our own shape: cannot fail
	return raw
}

// otherArchs are the images repo:tag holds for architectures other than
// arch; an image of unknown architecture is replaced, not kept.
func (l *Library) otherArchs(ctx context.Context, repo, tag, arch string) ([]sifImage, error) {
	imgs, err := l.tagImages(ctx, repo, tag)
	var e *apiError
	if errors.As(err, &e) && e.Code == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(imgs, func(i sifImage) bool { return i.arch == arch || i.arch == "" }), nil
}

// untagArch removes arch's image from repo:tag: the tag goes when it held
// only that image, otherwise it names an index of the rest.
func (l *Library) untagArch(ctx context.Context, repo, tag, arch string) error {
	l.tagMu.Lock()
	defer l.tagMu.Unlock()
	others, err := l.otherArchs(ctx, repo, tag, arch)
	if err != nil {
		return err
	}
	if len(others) == 0 {
		return l.reg.deleteManifest(ctx, repo, tag)
	}
	if len(others) == 1 {
		m, err := l.reg.getManifest(ctx, repo, others[0].manifest.Digest.String())
		if err != nil {
			return err
		}
		_, err = l.reg.putManifest(ctx, repo, tag, m.mediaType, m.body)
		return err
	}
	_, err = l.reg.putManifest(ctx, repo, tag, v1.MediaTypeImageIndex, indexOf(others))
	return err
}
