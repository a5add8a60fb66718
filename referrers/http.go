package referrers

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/distribution/distribution/v3/registry/api/errcode"
	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

const (
	defaultPageSize = 1000
	maxPageSize     = 10000
)

// Serve answers GET /v2/<repo>/referrers/<digest>: an image index of the
// manifests whose subject is the digest. An unknown digest gets an empty
// index, never 404 (distribution-spec v1.1).
func (s *Store) Serve(w http.ResponseWriter, r *http.Request, repo, rawDigest string) {
	subject, err := digest.Parse(rawDigest)
	if err != nil {
		serveError(w, errcode.ErrorCodeDigestInvalid.WithDetail(err.Error()))
		return
	}
	q := r.URL.Query()
	limit := defaultPageSize
	if n := q.Get("n"); n != "" {
		limit, err = strconv.Atoi(n)
		if err != nil || limit < 1 || limit > maxPageSize {
			serveError(w, errcode.ErrorCodePaginationNumberInvalid.WithDetail(fmt.Sprintf("n must be 1..%d", maxPageSize)))
			return
		}
	}
	var last digest.Digest
	if l := q.Get("last"); l != "" {
		if last, err = digest.Parse(l); err != nil {
			serveError(w, errcode.ErrorCodeDigestInvalid.WithDetail("last: "+err.Error()))
			return
		}
	}
	artifactType := q.Get("artifactType")
	page, err := s.List(repo, subject, artifactType, last, limit)
	if err != nil {
		serveError(w, errcode.ErrorCodeUnknown.WithDetail(err.Error()))
		return
	}
	if page.Descriptors == nil {
		page.Descriptors = []v1.Descriptor{}
	}
	index := v1.Index{MediaType: v1.MediaTypeImageIndex, Manifests: page.Descriptors}
	index.SchemaVersion = 2
	body, err := json.Marshal(index)
	if err != nil {
		serveError(w, errcode.ErrorCodeUnknown.WithDetail(err.Error()))
		return
	}
	h := w.Header()
	h.Set("Content-Type", v1.MediaTypeImageIndex)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if artifactType != "" {
		h.Set("OCI-Filters-Applied", "artifactType")
	}
	if page.Next != "" {
		next := url.Values{"n": {strconv.Itoa(limit)}, "last": {page.Next.String()}}
		if artifactType != "" {
			next.Set("artifactType", artifactType)
		}
		h.Set("Link", fmt.Sprintf(`<%s?%s>; rel="next"`, r.URL.Path, next.Encode()))
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

func serveError(w http.ResponseWriter, err error) {
	_ = errcode.ServeJSON(w, err)
}
