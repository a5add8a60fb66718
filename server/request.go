package server

import (
	"bytes"
	"context"
	"net/http"

	"github.com/opencontainers/go-digest"

	"github.com/oyster-registry/oyster/oci"
)

// v2Request is what the front learns about a request before distribution
// sees it, carried in its context.
type v2Request struct {
	path    v2Path
	pathErr error // why the path is refused (guardV2 answers it)
	// manifest is the body of a manifest PUT, read and parsed once.
	manifest *bufferedManifest
	// subject is the subject of the manifest the middleware stored, for
	// the OCI-Subject header.
	subject digest.Digest
}

type v2RequestKey struct{}

// classifyV2 parses the path of every request once and carries the result
// in its context, for metrics, guards and handlers alike.
func classifyV2(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := parseV2Path(r.URL)
		req := &v2Request{path: p, pathErr: err}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), v2RequestKey{}, req)))
	})
}

// requestOf returns what the front learnt about the request with context
// ctx; one that did not pass through classifyV2 gets an empty one.
func requestOf(ctx context.Context) *v2Request {
	if req, ok := ctx.Value(v2RequestKey{}).(*v2Request); ok {
		return req
	}
	return &v2Request{}
}

func pathOf(r *http.Request) v2Path { return requestOf(r.Context()).path }

// manifestFor returns the parsed manifest whose bytes are payload: the one
// the front buffered for this request, or a fresh parse.
func (req *v2Request) manifestFor(payload []byte) (*oci.Manifest, error) {
	if m := req.manifest; m != nil && bytes.Equal(m.body, payload) {
		return m.parsed, nil
	}
	return oci.DecodeManifest(payload)
}
