package server

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/distribution/distribution/v3/registry/api/errcode"

	"github.com/oyster-registry/oyster/oci"
)

// guardV2 answers the requests distribution would answer badly (a redirect,
// a bare-text 404, a 500) or not at all, before distribution sees them.
func guardV2(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := checkV2(r); err != nil {
			writeOCIError(w, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func checkV2(r *http.Request) error {
	req := requestOf(r.Context())
	if req.pathErr != nil {
		return req.pathErr
	}
	p := req.path
	switch {
	case p.Kind == v2Manifest:
		if err := checkReference(p.Reference); err != nil {
			return err
		}
		if r.Method == http.MethodPut {
			return bufferManifest(r, req)
		}
	case p.Kind == v2Blob && !strings.Contains(p.Reference, ":"):
		// distribution checks what looks like a digest, and has no route
		// for the rest
		return errcode.ErrorCodeDigestInvalid.WithDetail(fmt.Sprintf("%q is not a digest", p.Reference))
	case p.Kind == v2Upload && p.Reference != "" && (r.Method == http.MethodPatch || r.Method == http.MethodPut):
		return checkContentRange(r.Header.Get("Content-Range"))
	}
	return nil
}

// checkReference refuses a manifest reference that is neither a tag nor
// shaped like a digest (distribution checks digests itself).
func checkReference(ref string) error {
	if !strings.Contains(ref, ":") && !isTag(ref) {
		return errcode.ErrorCodeTagInvalid.WithDetail(fmt.Sprintf("%q is neither a tag nor a digest", ref))
	}
	return nil
}

// bufferedManifest is the body of a manifest PUT, read once, and what it
// parsed to.
type bufferedManifest struct {
	body   []byte
	parsed *oci.Manifest
}

// bufferManifest reads a manifest PUT's body within the 4 MiB the
// distribution-spec says registries accept (413 beyond, where distribution
// answers 400), parses and validates it, and keeps both in the request for
// the handlers and the middleware; distribution reads the same bytes again
// from memory.
func bufferManifest(r *http.Request, req *v2Request) error {
	tooLarge := withStatus(http.StatusRequestEntityTooLarge,
		errcode.ErrorCodeManifestInvalid.WithDetail(fmt.Sprintf("manifest exceeds the %d byte limit", oci.MaxManifestSize)))
	if r.ContentLength > oci.MaxManifestSize {
		return tooLarge
	}
	buf := bytes.NewBuffer(make([]byte, 0, max(r.ContentLength, 512)))
	if _, err := buf.ReadFrom(io.LimitReader(r.Body, oci.MaxManifestSize+1)); err != nil {
		return errcode.ErrorCodeManifestInvalid.WithDetail("reading manifest: " + err.Error())
	}
	body := buf.Bytes()
	if len(body) > oci.MaxManifestSize {
		return tooLarge
	}
	parsed, err := oci.DecodeManifest(body)
	if err != nil {
		return errcode.ErrorCodeManifestInvalid.WithDetail(err.Error())
	}
	req.manifest = &bufferedManifest{body: body, parsed: parsed}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	return nil
}

// checkContentRange refuses a chunk's Content-Range that is not
// "<start>-<end>" with start <= end, both within int64: distribution
// answers those with a 500 and strconv's words. Whether start is the
// upload's current offset distribution checks itself (416).
func checkContentRange(cr string) error {
	if cr == "" {
		return nil
	}
	if _, _, ok := parseContentRange(cr); !ok {
		return errcode.ErrorCodeRangeInvalid.WithDetail(fmt.Sprintf("Content-Range %q is not <start>-<end>", cr))
	}
	return nil
}

// parseContentRange reads "<start>-<end>", both within int64, start <= end.
func parseContentRange(cr string) (start, end int64, ok bool) {
	first, last, found := strings.Cut(cr, "-")
	if !found || !allDigits(first) || !allDigits(last) {
		return 0, 0, false
	}
	start, serr := strconv.ParseInt(first, 10, 64)
	end, eerr := strconv.ParseInt(last, 10, 64)
	return start, end, serr == nil && eerr == nil && start <= end
}

func allDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
