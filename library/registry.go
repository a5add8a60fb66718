package library

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/oyster-registry/oyster/oci"
)

// registry calls the registry's /v2/ API in process.
type registry struct{ h http.Handler }

// maxSmallBody bounds what is read whole from the registry: manifests,
// configs, errors.
const maxSmallBody = 4 << 20

// response is what an in-process call answered.
type response struct {
	code   int
	header http.Header
	body   bytes.Buffer
}

func (r *response) Header() http.Header { return r.header }
func (r *response) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
}
func (r *response) Write(p []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	if r.body.Len()+len(p) > maxSmallBody {
		return 0, fmt.Errorf("registry response over %d bytes", maxSmallBody)
	}
	return r.body.Write(p)
}

// call sends one request to the registry. size is the body's length (-1:
// none).
func (g registry) call(ctx context.Context, method, target string, header http.Header, body io.Reader, size int64) (*response, error) {
	if body == nil {
		body = http.NoBody // a server's handlers expect a body, if empty
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://registry.internal"+target, body)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if size >= 0 {
		req.ContentLength = size
	}
	req.RequestURI = req.URL.RequestURI()
	resp := &response{header: http.Header{}}
	g.h.ServeHTTP(resp, req)
	if resp.code == 0 {
		resp.code = http.StatusOK
	}
	return resp, nil
}

// serveBlob answers r with blob d of repo straight from the registry
// (Range requests included), fetched as r's caller.
func (g registry) serveBlob(w http.ResponseWriter, r *http.Request, repo string, d digest.Digest) error {
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, "http://registry.internal/v2/"+repo+"/blobs/"+d.String(), http.NoBody)
	if err != nil {
		return err
	}
	for _, h := range []string{"Range", "If-Range", "If-None-Match", "If-Modified-Since"} {
		if v := r.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	req.RequestURI = req.URL.RequestURI()
	g.h.ServeHTTP(w, req)
	return nil
}

// registryError turns a failed call into an error for the client: the
// registry's own message for a client error, an internal error otherwise.
func registryError(what string, resp *response) error {
	var body struct {
		Errors []struct{ Code, Message, Detail any }
	}
	_ = json.Unmarshal(resp.body.Bytes(), &body)
	msg := http.StatusText(resp.code)
	if len(body.Errors) > 0 {
		e := body.Errors[0]
		msg = fmt.Sprintf("%v: %v", e.Code, e.Message)
		if e.Detail != nil {
			msg += fmt.Sprintf(" (%v)", e.Detail)
		}
	}
	switch {
	case resp.code == http.StatusNotFound:
		return notFound("%s: not found", what)
	case resp.code == http.StatusMethodNotAllowed:
		return &apiError{http.StatusMethodNotAllowed, what + ": the registry does not allow this (" + msg + ")"}
	case resp.code >= 400 && resp.code < 500:
		return &apiError{resp.code, what + ": " + msg}
	}
	return fmt.Errorf("%s: registry answered %d: %s", what, resp.code, msg)
}

var manifestAccept = http.Header{"Accept": {v1.MediaTypeImageManifest, v1.MediaTypeImageIndex, oci.MediaTypeDockerManifest, oci.MediaTypeDockerManifestList}}

// manifest is a manifest or index as stored, with its digest.
type manifest struct {
	digest    digest.Digest
	mediaType string
	body      []byte
	parsed    *oci.Manifest
}

// getManifest returns repo's manifest by tag or digest.
func (g registry) getManifest(ctx context.Context, repo, reference string) (*manifest, error) {
	resp, err := g.call(ctx, http.MethodGet, "/v2/"+repo+"/manifests/"+reference, manifestAccept, nil, -1)
	if err != nil {
		return nil, err
	}
	if resp.code != http.StatusOK {
		return nil, registryError(repo+":"+reference, resp)
	}
	m := &manifest{digest: digest.Digest(resp.header.Get("Docker-Content-Digest")), mediaType: resp.header.Get("Content-Type"), body: resp.body.Bytes()}
	if m.parsed, err = oci.DecodeManifest(m.body); err != nil {
		return nil, fmt.Errorf("manifest %s@%s: %w", repo, m.digest, err)
	}
	return m, nil
}

// putManifest stores a manifest or index under reference (a tag or its
// digest) and returns its digest.
func (g registry) putManifest(ctx context.Context, repo, reference, mediaType string, body []byte) (digest.Digest, error) {
	resp, err := g.call(ctx, http.MethodPut, "/v2/"+repo+"/manifests/"+reference, http.Header{"Content-Type": {mediaType}}, bytes.NewReader(body), int64(len(body)))
	if err != nil {
		return "", err
	}
	if resp.code != http.StatusCreated {
		return "", registryError("storing manifest "+repo+":"+reference, resp)
	}
	return digest.Digest(resp.header.Get("Docker-Content-Digest")), nil
}

// deleteManifest deletes a manifest by digest, or untags a tag.
func (g registry) deleteManifest(ctx context.Context, repo, reference string) error {
	resp, err := g.call(ctx, http.MethodDelete, "/v2/"+repo+"/manifests/"+reference, nil, nil, -1)
	if err != nil {
		return err
	}
	if resp.code != http.StatusAccepted {
		return registryError("deleting "+repo+":"+reference, resp)
	}
	return nil
}

// blobSize returns the size of a blob linked in repo, or -1 if repo has
// no such blob.
func (g registry) blobSize(ctx context.Context, repo string, d digest.Digest) (int64, error) {
	resp, err := g.call(ctx, http.MethodHead, "/v2/"+repo+"/blobs/"+d.String(), nil, nil, -1)
	if err != nil {
		return 0, err
	}
	switch resp.code {
	case http.StatusOK:
		return strconv.ParseInt(resp.header.Get("Content-Length"), 10, 64)
	case http.StatusNotFound:
		return -1, nil
	}
	return 0, registryError("blob "+d.String(), resp)
}

// getBlob reads a small blob (a config) whole.
func (g registry) getBlob(ctx context.Context, repo string, d digest.Digest) ([]byte, error) {
	resp, err := g.call(ctx, http.MethodGet, "/v2/"+repo+"/blobs/"+d.String(), nil, nil, -1)
	if err != nil {
		return nil, err
	}
	if resp.code != http.StatusOK {
		return nil, registryError("blob "+d.String(), resp)
	}
	return resp.body.Bytes(), nil
}

// putBlob stores a small blob.
func (g registry) putBlob(ctx context.Context, repo string, data []byte) (digest.Digest, error) {
	loc, err := g.startUpload(ctx, repo)
	if err != nil {
		return "", err
	}
	d := digest.FromBytes(data)
	if err := g.finishUpload(ctx, loc, d, data); err != nil {
		_ = g.cancelUpload(context.WithoutCancel(ctx), loc)
		return "", err
	}
	return d, nil
}

// startUpload opens an upload session in repo and returns its location
// (path and query).
func (g registry) startUpload(ctx context.Context, repo string) (string, error) {
	resp, err := g.call(ctx, http.MethodPost, "/v2/"+repo+"/blobs/uploads/", nil, nil, 0)
	if err != nil {
		return "", err
	}
	if resp.code != http.StatusAccepted {
		return "", registryError("starting an upload to "+repo, resp)
	}
	return location(resp)
}

// appendUpload sends the n bytes of body at offset and returns the
// session's next location.
func (g registry) appendUpload(ctx context.Context, loc string, offset, n int64, body io.Reader) (string, error) {
	h := http.Header{
		"Content-Type":  {"application/octet-stream"},
		"Content-Range": {fmt.Sprintf("%d-%d", offset, offset+n-1)},
	}
	resp, err := g.call(ctx, http.MethodPatch, loc, h, body, n)
	if err != nil {
		return "", err
	}
	if resp.code != http.StatusAccepted {
		return "", registryError("uploading", resp)
	}
	return location(resp)
}

// finishUpload sends last (may be empty) and commits the session as blob
// d; the registry refuses it if the bytes received do not have that
// digest.
func (g registry) finishUpload(ctx context.Context, loc string, d digest.Digest, last []byte) error {
	sep := "?"
	if strings.Contains(loc, "?") {
		sep = "&"
	}
	h := http.Header{"Content-Type": {"application/octet-stream"}}
	resp, err := g.call(ctx, http.MethodPut, loc+sep+"digest="+url.QueryEscape(d.String()), h, bytes.NewReader(last), int64(len(last)))
	if err != nil {
		return err
	}
	if resp.code != http.StatusCreated {
		return registryError("completing the upload", resp)
	}
	return nil
}

// cancelUpload drops a session and what it received.
func (g registry) cancelUpload(ctx context.Context, loc string) error {
	resp, err := g.call(ctx, http.MethodDelete, loc, nil, nil, -1)
	if err != nil {
		return err
	}
	if resp.code != http.StatusNoContent && resp.code != http.StatusNotFound {
		return registryError("cancelling the upload", resp)
	}
	return nil
}

func location(resp *response) (string, error) {
	u, err := url.Parse(resp.header.Get("Location"))
	if err != nil || u.Path == "" {
		return "", fmt.Errorf("registry gave upload location %q", resp.header.Get("Location"))
	}
	return u.RequestURI(), nil
}

// tags lists repo's tags; a repository that does not exist has none.
func (g registry) tags(ctx context.Context, repo string) ([]string, error) {
	resp, err := g.call(ctx, http.MethodGet, "/v2/"+repo+"/tags/list", nil, nil, -1)
	if err != nil {
		return nil, err
	}
	if resp.code == http.StatusNotFound {
		return nil, nil
	}
	if resp.code != http.StatusOK {
		return nil, registryError("tags of "+repo, resp)
	}
	var list struct{ Tags []string }
	if err := json.Unmarshal(resp.body.Bytes(), &list); err != nil {
		return nil, fmt.Errorf("tags of %s: %w", repo, err)
	}
	return list.Tags, nil
}

// repositories lists every repository, following the catalog's pages.
func (g registry) repositories(ctx context.Context) ([]string, error) {
	var all []string
	for target := "/v2/_catalog"; target != ""; {
		resp, err := g.call(ctx, http.MethodGet, target, nil, nil, -1)
		if err != nil {
			return nil, err
		}
		if resp.code != http.StatusOK {
			return nil, registryError("listing repositories", resp)
		}
		var page struct{ Repositories []string }
		if err := json.Unmarshal(resp.body.Bytes(), &page); err != nil {
			return nil, fmt.Errorf("listing repositories: %w", err)
		}
		all = append(all, page.Repositories...)
		if target, err = nextPage(resp.header.Get("Link")); err != nil {
			return nil, err
		}
	}
	return all, nil
}

// nextPage reads the target of a Link: <…>; rel="next" header ("" when
// there is none).
func nextPage(link string) (string, error) {
	if link == "" {
		return "", nil
	}
	raw, _, ok := strings.Cut(strings.TrimPrefix(link, "<"), ">")
	u, err := url.Parse(raw)
	if !ok || err != nil || u.Path == "" {
		return "", fmt.Errorf("registry gave catalog link %q", link)
	}
	return u.RequestURI(), nil
}
