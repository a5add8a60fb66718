package referrers

import (
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
	// MaxPageBytes bounds the descriptors of one page: with annotations of
	// up to a manifest's 4 MiB each, a count alone would let one request
	// hold gigabytes. A page holds at least one descriptor, so a request
	// takes at most about MaxPageBytes plus one manifest's size.
	MaxPageBytes = 4 << 20
)

// The index a page is sent as, around its descriptors: what json.Marshal
// of a v1.Index writes.
var (
	indexHead = []byte(`{"schemaVersion":2,"mediaType":"` + v1.MediaTypeImageIndex + `","manifests":[`)
	indexTail = []byte(`]}`)
	comma     = []byte(`,`)
)

// Serve answers GET /v2/<repo>/referrers/<digest>: an image index of the
// manifests whose subject is the digest. An unknown digest gets an empty
// index, never 404 (distribution-spec v1.1). Pages end at n descriptors
// (default 1000) or MaxPageBytes, whichever comes first, with a Link to the
// next. Bad parameters are returned as OCI errors, before anything is
// written.
func (s *Store) Serve(w http.ResponseWriter, r *http.Request, repo, rawDigest string) error {
	subject, err := digest.Parse(rawDigest)
	if err != nil {
		return errcode.ErrorCodeDigestInvalid.WithDetail(err.Error())
	}
	q := r.URL.Query()
	limit := defaultPageSize
	if n := q.Get("n"); n != "" {
		limit, err = strconv.Atoi(n)
		if err != nil || limit < 1 || limit > maxPageSize {
			return errcode.ErrorCodePaginationNumberInvalid.WithDetail(fmt.Sprintf("n must be 1..%d", maxPageSize))
		}
	}
	var last digest.Digest
	if l := q.Get("last"); l != "" {
		if last, err = digest.Parse(l); err != nil {
			return errcode.ErrorCodeDigestInvalid.WithDetail("last: " + err.Error())
		}
	}
	artifactType := q.Get("artifactType")
	page, err := s.ListRaw(repo, subject, artifactType, last, limit, MaxPageBytes)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", v1.MediaTypeImageIndex)
	h.Set("Content-Length", strconv.Itoa(indexLength(page)))
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
		writeIndex(w, page)
	}
	return nil
}

func indexLength(page RawPage) int {
	n := len(indexHead) + page.Bytes + len(indexTail)
	if len(page.Descriptors) > 1 {
		n += len(page.Descriptors) - 1 // commas
	}
	return n
}

// writeIndex streams the page's descriptors as they are stored, without
// building the body in memory; a client gone mid-way is not an error to
// report.
func writeIndex(w http.ResponseWriter, page RawPage) {
	if _, err := w.Write(indexHead); err != nil {
		return
	}
	for i, d := range page.Descriptors {
		if i > 0 {
			if _, err := w.Write(comma); err != nil {
				return
			}
		}
		if _, err := w.Write(d); err != nil {
			return
		}
	}
	_, _ = w.Write(indexTail)
}
