package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/distribution/distribution/v3/registry/api/errcode"
	v2 "github.com/distribution/distribution/v3/registry/api/v2"
	"github.com/distribution/reference"

	"github.com/oyster-registry/oyster/oci"
)

// rejectTraversal answers 400 NAME_INVALID to any path with "." or ".."
// segments, raw or percent-encoded. Left alone, Go's mux would redirect such
// paths to their cleaned form, turning /v2/a/../../x into a request for
// whatever /x is.
func rejectTraversal(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hasDotSegment(r.URL.EscapedPath()) {
			serveOCIError(w, v2.ErrorCodeNameInvalid.WithDetail("path segments . and .. are not allowed"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func hasDotSegment(escaped string) bool {
	for _, seg := range strings.Split(escaped, "/") {
		decoded, err := url.PathUnescape(seg)
		if err != nil {
			return true
		}
		for _, part := range strings.Split(decoded, "/") {
			if part == "." || part == ".." {
				return true
			}
		}
	}
	return false
}

// manifestPath matches manifest URLs by shape, whatever the reference.
var (
	manifestPath = regexp.MustCompile(`^/v2/(.+)/manifests/([^/]+)$`)
	anchoredTag  = regexp.MustCompile(`^` + reference.TagRegexp.String() + `$`)
)

// rejectBadReferences answers 400 TAG_INVALID when a manifest URL's
// reference is neither a tag nor a digest; distribution's router would answer
// a bare-text 404 that clients cannot interpret.
func rejectBadReferences(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m := manifestPath.FindStringSubmatch(r.URL.Path); m != nil && !strings.Contains(m[2], ":") && !anchoredTag.MatchString(m[2]) {
			serveOCIError(w, errcode.ErrorCodeTagInvalid.WithDetail(fmt.Sprintf("%q is neither a tag nor a digest", m[2])))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// limitManifestBody reads a manifest PUT's body up front and answers 413
// when it exceeds the 4 MiB the distribution-spec says registries accept
// (distribution answers 400 there).
func limitManifestBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPut || !strings.HasPrefix(r.URL.Path, "/v2/") || !strings.Contains(r.URL.Path, "/manifests/") {
			next.ServeHTTP(w, r)
			return
		}
		tooLarge := errcode.ErrorCodeManifestInvalid.WithDetail(fmt.Sprintf("manifest exceeds the %d byte limit", oci.MaxManifestSize))
		if r.ContentLength > oci.MaxManifestSize {
			serveOCIErrorStatus(w, http.StatusRequestEntityTooLarge, tooLarge)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, oci.MaxManifestSize+1))
		if err != nil {
			serveOCIError(w, errcode.ErrorCodeManifestInvalid.WithDetail("reading manifest: "+err.Error()))
			return
		}
		if len(body) > oci.MaxManifestSize {
			serveOCIErrorStatus(w, http.StatusRequestEntityTooLarge, tooLarge)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		next.ServeHTTP(w, r)
	})
}

func serveOCIError(w http.ResponseWriter, err error) {
	_ = errcode.ServeJSON(w, err)
}

// serveOCIErrorStatus writes err in the OCI error format with a status
// other than the one its code implies.
func serveOCIErrorStatus(w http.ResponseWriter, status int, err errcode.Error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(errcode.Errors{err})
}
