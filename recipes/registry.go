package recipes

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	godigest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/oyster-registry/oyster/oci"
)

// registry is the little of the OCI distribution API the builders need
// after pushing: reading a manifest back and pointing more tags at it.
type registry struct {
	base string // scheme://host[:port]
}

func newRegistry(host string, insecure bool) registry {
	scheme := "https"
	if insecure {
		scheme = "http"
	}
	return registry{base: scheme + "://" + host}
}

var manifestAccept = strings.Join([]string{
	"application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json",
	"application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.distribution.manifest.list.v2+json",
}, ", ")

// manifest returns the manifest repo:ref with its media type.
func (r registry) manifest(ctx context.Context, repo, ref string) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base+"/v2/"+repo+"/manifests/"+ref, nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Accept", manifestAccept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", infra("reading manifest %s:%s: %w", repo, ref, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, "", infra("reading manifest %s:%s: %s %v", repo, ref, resp.Status, err)
	}
	return body, resp.Header.Get("Content-Type"), nil
}

// putManifest stores body as repo:ref and returns its digest.
func (r registry) putManifest(ctx context.Context, repo, ref, mediaType string, body []byte) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, r.base+"/v2/"+repo+"/manifests/"+ref, bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", mediaType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", infra("pushing manifest %s:%s: %w", repo, ref, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusCreated {
		return "", infra("pushing manifest %s:%s: %s %s", repo, ref, resp.Status, bytes.TrimSpace(msg))
	}
	return resp.Header.Get("Docker-Content-Digest"), nil
}

// tag points every tag at the manifest digest of repo, in order.
func (r registry) tag(ctx context.Context, repo, digest string, tags []string, log io.Writer) error {
	body, mediaType, err := r.manifest(ctx, repo, digest)
	if err != nil {
		return err
	}
	for _, t := range tags {
		got, err := r.putManifest(ctx, repo, t, mediaType, body)
		if err != nil {
			return err
		}
		if got != digest {
			return infra("tag %s got digest %s, not %s", t, got, digest)
		}
		fmt.Fprintf(log, "tagged %s:%s -> %s\n", repo, t, digest)
	}
	return nil
}

// pushSIF pushes the SIF at file as apptainer's `push oras://` does: one
// manifest, an empty config of the SIF config type, and the file as its
// one layer, titled image.sif for `oras pull`.
func (r registry) pushSIF(ctx context.Context, repo, tag, file string, annotations map[string]string) (string, error) {
	config := []byte("{}")
	configDesc, err := r.uploadBlob(ctx, repo, bytes.NewReader(config), int64(len(config)), godigest.FromBytes(config))
	if err != nil {
		return "", err
	}
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	d, err := godigest.SHA256.FromReader(f)
	if err != nil {
		return "", err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	layerDesc, err := r.uploadBlob(ctx, repo, f, fi.Size(), d)
	if err != nil {
		return "", err
	}
	configDesc.MediaType = oci.MediaTypeSIFConfig
	layerDesc.MediaType = oci.MediaTypeSIFLayer
	layerDesc.Annotations = map[string]string{v1.AnnotationTitle: "image.sif"}
	m := v1.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: v1.MediaTypeImageManifest,
		Config: configDesc, Layers: []v1.Descriptor{layerDesc}, Annotations: annotations}
	body, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	return r.putManifest(ctx, repo, tag, v1.MediaTypeImageManifest, body)
}

// uploadBlob uploads size bytes of content d in one PUT.
func (r registry) uploadBlob(ctx context.Context, repo string, body io.Reader, size int64, d godigest.Digest) (v1.Descriptor, error) {
	desc := v1.Descriptor{Digest: d, Size: size}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.base+"/v2/"+repo+"/blobs/uploads/", nil)
	if err != nil {
		return desc, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return desc, infra("starting an upload to %s: %w", repo, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return desc, infra("starting an upload to %s: %s", repo, resp.Status)
	}
	loc, err := resp.Location()
	if err != nil {
		return desc, infra("upload to %s: %w", repo, err)
	}
	q := loc.Query()
	q.Set("digest", d.String())
	loc.RawQuery = q.Encode()
	put, err := http.NewRequestWithContext(ctx, http.MethodPut, loc.String(), body)
	if err != nil {
		return desc, err
	}
	put.ContentLength = size
	put.Header.Set("Content-Type", "application/octet-stream")
	resp, err = http.DefaultClient.Do(put)
	if err != nil {
		return desc, infra("uploading to %s: %w", repo, err)
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return desc, infra("uploading to %s: %s %s", repo, resp.Status, bytes.TrimSpace(msg))
	}
	return desc, nil
}
