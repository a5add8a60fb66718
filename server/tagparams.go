package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/distribution/distribution/v3/registry/api/errcode"
	"github.com/opencontainers/go-digest"
)

// maxTagParams bounds the ?tag= parameters of one manifest PUT; each costs
// a manifest PUT of its own. The spec asks for at least 10.
const maxTagParams = 100

// tagParams reads and checks the ?tag= parameters of a manifest PUT by
// digest (distribution-spec 1.1.1), removing them from q; on a bad one it
// answers the client and reports false.
func tagParams(w http.ResponseWriter, q url.Values) ([]string, bool) {
	tags := uniqueTags(q["tag"])
	if len(tags) > maxTagParams {
		writeOCIError(w, withStatus(http.StatusRequestURITooLong,
			errcode.ErrorCodeTagInvalid.WithDetail(fmt.Sprintf("at most %d tag parameters", maxTagParams))))
		return nil, false
	}
	for _, tag := range tags {
		if !isTag(tag) {
			writeOCIError(w, errcode.ErrorCodeTagInvalid.WithDetail(tag))
			return nil, false
		}
	}
	q.Del("tag")
	return tags, true
}

func uniqueTags(tags []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range tags {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// applyTags tags a stored manifest: each tag is a PUT by tag through
// distribution, so the middleware and its events see it like any tag push.
func (s *Server) applyTags(ctx context.Context, w http.ResponseWriter, r *http.Request, repo string, tags []string, body []byte) bool {
	for _, tag := range tags {
		if resp := s.subRequest(ctx, r, http.MethodPut, manifestURLPath(repo, tag), "", body); resp.status() != http.StatusCreated {
			resp.replay(w)
			return false
		}
	}
	return true
}

// answerTagged finishes a 201 answer, naming the tags applied (OCI-Tag).
func answerTagged(w http.ResponseWriter, tags []string) {
	if len(tags) > 0 {
		w.Header().Set("OCI-Tag", strings.Join(tags, ", "))
	}
	w.WriteHeader(http.StatusCreated)
}

// putManifestTagged stores a manifest pushed by sha256 digest with ?tag=
// parameters, which distribution ignores: distribution stores it (and checks
// the digest), then each tag is applied. A manifest that is not stored gets
// no tag.
func (s *Server) putManifestTagged(w http.ResponseWriter, r *http.Request, repo string, d digest.Digest) {
	body := requestOf(r.Context()).manifest.body
	q := r.URL.Query()
	tags, ok := tagParams(w, q)
	if !ok {
		return
	}
	put := s.subRequest(r.Context(), r, http.MethodPut, manifestURLPath(repo, d.String()), q.Encode(), body)
	if put.status() != http.StatusCreated || !s.applyTags(r.Context(), w, r, repo, tags, body) {
		if put.status() != http.StatusCreated {
			put.replay(w)
		}
		return
	}
	copyHeader(w.Header(), put.header)
	answerTagged(w, tags)
}
