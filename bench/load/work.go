package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

const (
	mediaManifest = "application/vnd.oci.image.manifest.v1+json"
	mediaConfig   = "application/vnd.oci.image.config.v1+json"
	mediaLayer    = "application/vnd.oci.image.layer.v1.tar"
)

// image is what a puller checks a pull against.
type image struct {
	repo, tag string
	pkg       string // the Python package its layer holds
	manifest  string // digest
	blobs     []blob // config, then the layer
}

type blob struct {
	digest string
	size   int64
}

// builtImage is an image ready to push.
type builtImage struct {
	image
	manifestBody []byte
	blobBodies   [][]byte
}

// buildImage makes an image of one uncompressed tar layer holding the
// METADATA of Python package pkg and size random bytes (so pulls move real
// data and no two pushes share a blob).
func buildImage(rng *rand.Rand, repo, tag, pkg, version string, size int) builtImage {
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	meta := fmt.Sprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\n", pkg, version)
	random := make([]byte, size)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	for _, f := range []struct {
		name string
		body []byte
	}{
		{fmt.Sprintf("usr/lib/python3/dist-packages/%s-%s.dist-info/METADATA", pkg, version), []byte(meta)},
		{"opt/load/data", random},
	} {
		tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), Typeflag: tar.TypeReg})
		tw.Write(f.body)
	}
	tw.Close()
	layerDigest := digestOf(layer.Bytes())
	config, _ := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux", "config": map[string]any{},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{layerDigest}},
	})
	manifest, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": mediaManifest,
		"config": map[string]any{"mediaType": mediaConfig, "digest": digestOf(config), "size": len(config)},
		"layers": []any{map[string]any{"mediaType": mediaLayer, "digest": layerDigest, "size": layer.Len()}},
	})
	return builtImage{
		image: image{repo: repo, tag: tag, pkg: pkg, manifest: digestOf(manifest), blobs: []blob{
			{digestOf(config), int64(len(config))}, {layerDigest, int64(layer.Len())},
		}},
		manifestBody: manifest,
		blobBodies:   [][]byte{config, layer.Bytes()},
	}
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// client makes the requests of every worker over one keep-alive pool.
type client struct {
	http *http.Client
	base string // http://host:port
}

func (c *client) do(ctx context.Context, method, u string, body []byte, header map[string]string) (*http.Response, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return c.http.Do(req)
}

// expect drains and closes resp, and fails unless it has status want.
func expect(resp *http.Response, want int, what string) error {
	defer resp.Body.Close()
	if resp.StatusCode != want {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s: %s %s", what, resp.Status, strings.TrimSpace(string(msg)))
	}
	_, err := io.Copy(io.Discard, resp.Body)
	return err
}

// push uploads the image's blobs (one POST and one PUT each) and its
// manifest under its tag.
func (c *client) push(ctx context.Context, img builtImage) error {
	for i, b := range img.blobBodies {
		resp, err := c.do(ctx, http.MethodPost, fmt.Sprintf("%s/v2/%s/blobs/uploads/", c.base, img.repo), nil, nil)
		if err != nil {
			return err
		}
		loc := resp.Header.Get("Location")
		if err := expect(resp, http.StatusAccepted, "starting an upload"); err != nil {
			return err
		}
		u, err := url.Parse(c.base)
		if err != nil {
			return err
		}
		if u, err = u.Parse(loc); err != nil {
			return fmt.Errorf("upload location %q: %w", loc, err)
		}
		q := u.Query()
		q.Set("digest", img.blobs[i].digest)
		u.RawQuery = q.Encode()
		resp, err = c.do(ctx, http.MethodPut, u.String(), b, map[string]string{"Content-Type": "application/octet-stream"})
		if err != nil {
			return err
		}
		if err := expect(resp, http.StatusCreated, "finishing an upload"); err != nil {
			return err
		}
	}
	resp, err := c.do(ctx, http.MethodPut, fmt.Sprintf("%s/v2/%s/manifests/%s", c.base, img.repo, img.tag),
		img.manifestBody, map[string]string{"Content-Type": mediaManifest})
	if err != nil {
		return err
	}
	return expect(resp, http.StatusCreated, "putting the manifest")
}

// pullManifest fetches img's manifest by tag and checks its digest.
func (c *client) pullManifest(ctx context.Context, img image) error {
	resp, err := c.do(ctx, http.MethodGet, fmt.Sprintf("%s/v2/%s/manifests/%s", c.base, img.repo, img.tag), nil,
		map[string]string{"Accept": mediaManifest})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("manifest %s:%s: %s", img.repo, img.tag, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return err
	}
	if got := digestOf(body); got != img.manifest || resp.Header.Get("Docker-Content-Digest") != img.manifest {
		return fmt.Errorf("manifest %s:%s: digest %s (header %s), want %s", img.repo, img.tag, got, resp.Header.Get("Docker-Content-Digest"), img.manifest)
	}
	return nil
}

// pullBlob fetches one blob and checks its size and digest.
func (c *client) pullBlob(ctx context.Context, repo string, b blob) error {
	resp, err := c.do(ctx, http.MethodGet, fmt.Sprintf("%s/v2/%s/blobs/%s", c.base, repo, b.digest), nil, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("blob %s: %s", b.digest, resp.Status)
	}
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	if err != nil {
		return fmt.Errorf("blob %s: %w", b.digest, err)
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != b.digest || n != b.size {
		return fmt.Errorf("blob %s: read %d bytes with digest %s, want %d", b.digest, n, got, b.size)
	}
	return nil
}

// searchResult is the part of /api/v1/search's answer the searchers check.
type searchResult struct {
	Total   int `json:"total"`
	Results []struct {
		Repository string   `json:"repository"`
		Tags       []string `json:"tags"`
	} `json:"results"`
}

// search runs q; when mustFind is set, the results must include that
// repository.
func (c *client) search(ctx context.Context, q, mustFind string) error {
	resp, err := c.do(ctx, http.MethodGet, fmt.Sprintf("%s/api/v1/search?q=%s&per_page=20", c.base, url.QueryEscape(q)), nil, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("search %q: %s", q, resp.Status)
	}
	var res searchResult
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		return fmt.Errorf("search %q: %w", q, err)
	}
	if mustFind == "" {
		return nil
	}
	for _, r := range res.Results {
		if r.Repository == mustFind {
			return nil
		}
	}
	return fmt.Errorf("search %q: %d results, none from %s", q, res.Total, mustFind)
}

// budget bounds the number of requests of a run: each worker takes one
// unit per operation and stops when none is left.
type budget struct{ left atomic.Int64 }

func (b *budget) take() bool { return b.left.Add(-1) >= 0 }

// timed runs op, recording its latency or its error under c. Errors
// caused by the end of the run are not counted.
func timed(ctx context.Context, rec *recorder, c class, op func() error) {
	start := time.Now()
	err := op()
	switch {
	case err == nil:
		rec.ok(c, time.Since(start))
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
	default:
		rec.fail(c, err)
	}
}
