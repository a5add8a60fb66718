package recipes

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
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

func sortStrings(s []string) { sort.Strings(s) }
