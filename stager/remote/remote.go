// Package remote is the stager's client of one Oyster registry: manifests
// and blobs over the OCI distribution API (blobs from an offset, for
// resuming), the JSON API, token or basic authentication, and a shared
// bandwidth limit.
package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/oyster-registry/oyster/oci"
	"github.com/oyster-registry/oyster/stager/retry"
)

// Options configure a Client.
type Options struct {
	// URL is the registry's base URL; a bare host[:port] means https.
	URL string
	// Insecure allows a plain-HTTP URL.
	Insecure           bool
	Username, Password string
	// BandwidthBytes caps the bytes per second read from the registry by
	// all downloads of this client together; 0 is no cap.
	BandwidthBytes int64
	// HTTP is the client to use; nil is http.DefaultClient.
	HTTP *http.Client
}

// Client talks to one registry. It is safe for concurrent use.
type Client struct {
	base    *url.URL
	opts    Options
	http    *http.Client
	limiter *limiter

	mu     sync.Mutex
	tokens map[string]string // bearer token by scope
}

// ErrInsecure is returned for a plain-HTTP registry without Insecure.
var ErrInsecure = errors.New("plain-HTTP registry: pass --insecure to allow it")

// New checks the options and returns a Client.
func New(o Options) (*Client, error) {
	raw := o.URL
	if raw == "" {
		return nil, errors.New("no registry URL: pass --registry or set registry.url")
	}
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("registry URL %q: want http(s)://host[:port]", o.URL)
	}
	if u.Scheme == "http" && !o.Insecure {
		return nil, fmt.Errorf("%s: %w", o.URL, ErrInsecure)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	c := &Client{base: u, opts: o, http: o.HTTP, tokens: map[string]string{}}
	if c.http == nil {
		c.http = http.DefaultClient
	}
	if o.BandwidthBytes > 0 {
		c.limiter = newLimiter(o.BandwidthBytes)
	}
	return c, nil
}

// Host is the registry's host[:port].
func (c *Client) Host() string { return c.base.Host }

// StatusError is an unexpected HTTP status.
type StatusError struct {
	Method, URL string
	Status      int
	Body        string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: %d %s %s", e.Method, e.URL, e.Status, http.StatusText(e.Status), e.Body)
}

// retryable reports whether a failure may pass: server errors, throttling
// and network errors; not client errors.
func retryable(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Status >= 500 || se.Status == http.StatusTooManyRequests
	}
	return !errors.Is(err, context.Canceled)
}

// Retry wraps an error for retry.Do: permanent unless retryable.
func Retry(err error) error {
	if err == nil || retryable(err) {
		return err
	}
	return retry.Permanent(err)
}

// manifestAccept lists every manifest type the stager reads.
var manifestAccept = strings.Join([]string{v1.MediaTypeImageManifest, v1.MediaTypeImageIndex,
	oci.MediaTypeDockerManifest, oci.MediaTypeDockerManifestList}, ", ")

// Manifest is a fetched manifest or index.
type Manifest struct {
	MediaType string
	Digest    digest.Digest
	Body      []byte
}

// maxManifestBytes bounds a manifest read, as distribution bounds pushes.
const maxManifestBytes = 4 << 20

// Manifest fetches repo's manifest by tag or digest and checks a digest
// reference against the bytes.
func (c *Client) Manifest(ctx context.Context, repo, reference string) (Manifest, error) {
	resp, err := c.do(ctx, http.MethodGet, "/v2/"+repo+"/manifests/"+reference, repo, http.Header{"Accept": {manifestAccept}}, nil)
	if err != nil {
		return Manifest{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxManifestBytes+1))
	if err != nil {
		return Manifest{}, err
	}
	if len(body) > maxManifestBytes {
		return Manifest{}, fmt.Errorf("manifest %s:%s is over %d bytes", repo, reference, maxManifestBytes)
	}
	m := Manifest{MediaType: resp.Header.Get("Content-Type"), Digest: digest.FromBytes(body), Body: body}
	if want, err := digest.Parse(reference); err == nil && want != m.Digest {
		return Manifest{}, fmt.Errorf("manifest %s@%s: the registry sent bytes of digest %s", repo, want, m.Digest)
	}
	var probe struct {
		MediaType string `json:"mediaType"`
	}
	if json.Unmarshal(body, &probe) == nil && probe.MediaType != "" {
		m.MediaType = probe.MediaType
	}
	return m, nil
}

// Blob opens repo's blob d from offset; the reader is throttled by the
// bandwidth limit.
func (c *Client) Blob(ctx context.Context, repo string, d digest.Digest, offset int64) (io.ReadCloser, error) {
	h := http.Header{}
	if offset > 0 {
		h.Set("Range", fmt.Sprintf("bytes=%d-", offset))
	}
	resp, err := c.do(ctx, http.MethodGet, "/v2/"+repo+"/blobs/"+d.String(), repo, h, nil)
	if err != nil {
		return nil, err
	}
	if offset > 0 && resp.StatusCode != http.StatusPartialContent {
		// No range support: skip what we have.
		if _, err := io.CopyN(io.Discard, resp.Body, offset); err != nil {
			resp.Body.Close()
			return nil, fmt.Errorf("blob %s: skipping %d bytes: %w", d, offset, err)
		}
	}
	if c.limiter == nil {
		return resp.Body, nil
	}
	return throttled{resp.Body, c.limiter}, nil
}

// GetJSON fetches an API path; with etag set it sends If-None-Match, and
// notModified is true on 304.
func (c *Client) GetJSON(ctx context.Context, path, etag string, v any) (newETag string, notModified bool, err error) {
	h := http.Header{"Accept": {"application/json"}}
	if etag != "" {
		h.Set("If-None-Match", etag)
	}
	resp, err := c.do(ctx, http.MethodGet, path, "", h, nil)
	if err != nil {
		return "", false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified {
		return etag, true, nil
	}
	return resp.Header.Get("ETag"), false, json.NewDecoder(resp.Body).Decode(v)
}

// PutJSON sends v to an API path.
func (c *Client) PutJSON(ctx context.Context, path string, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	resp, err := c.do(ctx, http.MethodPut, path, "", http.Header{"Content-Type": {"application/json"}}, body)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// do sends a request, answering one authentication challenge. Any status
// but 2xx and 304 is a *StatusError.
func (c *Client) do(ctx context.Context, method, path, repo string, h http.Header, body []byte) (*http.Response, error) {
	scope := ""
	if repo != "" {
		scope = "repository:" + repo + ":pull"
	}
	for try := 0; ; try++ {
		req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		for k, v := range h {
			req.Header[k] = v
		}
		c.authorize(req, scope)
		resp, err := c.http.Do(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode == http.StatusUnauthorized && try == 0 {
			challenge := resp.Header.Get("WWW-Authenticate")
			resp.Body.Close()
			if err := c.answer(ctx, challenge, scope); err != nil {
				return nil, err
			}
			continue
		}
		if resp.StatusCode/100 != 2 && resp.StatusCode != http.StatusNotModified {
			msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			resp.Body.Close()
			return nil, &StatusError{Method: method, URL: req.URL.Redacted(), Status: resp.StatusCode, Body: strings.TrimSpace(string(msg))}
		}
		return resp, nil
	}
}

func (c *Client) authorize(req *http.Request, scope string) {
	c.mu.Lock()
	token, ok := c.tokens[scope]
	c.mu.Unlock()
	switch {
	case ok:
		req.Header.Set("Authorization", "Bearer "+token)
	case c.opts.Username != "":
		req.SetBasicAuth(c.opts.Username, c.opts.Password)
	}
}

// answer gets a bearer token for a Bearer challenge; a Basic challenge
// needs nothing (credentials, if any, are sent anyway).
func (c *Client) answer(ctx context.Context, challenge, scope string) error {
	scheme, params := parseChallenge(challenge)
	if !strings.EqualFold(scheme, "bearer") || params["realm"] == "" {
		if c.opts.Username == "" {
			return errors.New("the registry asks for credentials: set registry.username and registry.password")
		}
		return nil
	}
	u, err := url.Parse(params["realm"])
	if err != nil {
		return fmt.Errorf("token realm %q: %w", params["realm"], err)
	}
	q := u.Query()
	if params["service"] != "" {
		q.Set("service", params["service"])
	}
	if s := params["scope"]; s != "" {
		q.Set("scope", s)
	} else if scope != "" {
		q.Set("scope", scope)
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	if c.opts.Username != "" {
		req.SetBasicAuth(c.opts.Username, c.opts.Password)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &StatusError{Method: http.MethodGet, URL: u.Redacted(), Status: resp.StatusCode}
	}
	var tok struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil {
		return fmt.Errorf("token from %s: %w", u.Redacted(), err)
	}
	token := tok.Token // the docker spelling; OAuth2's access_token, when both are sent, is the same
	if token == "" {
		token = tok.AccessToken
	}
	c.mu.Lock()
	c.tokens[scope] = token
	c.mu.Unlock()
	return nil
}

// parseChallenge splits `Bearer realm="…",service="…"`.
func parseChallenge(h string) (scheme string, params map[string]string) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	params = map[string]string{}
	for rest != "" {
		var kv string
		kv, rest = cutParam(rest)
		if k, v, ok := strings.Cut(kv, "="); ok {
			params[strings.ToLower(strings.TrimSpace(k))] = strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	return scheme, params
}

// cutParam cuts at the first comma outside quotes.
func cutParam(s string) (string, string) {
	quoted := false
	for i, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
		case r == ',' && !quoted:
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}
