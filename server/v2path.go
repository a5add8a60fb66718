package server

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	v2 "github.com/distribution/distribution/v3/registry/api/v2"
	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
)

// v2Kind says which part of the OCI distribution API a path addresses.
type v2Kind int

const (
	notV2       v2Kind = iota // outside /v2/
	v2Unknown                 // under /v2/ but of no known shape (distribution answers 404)
	v2Base                    // /v2/
	v2Catalog                 // /v2/_catalog
	v2Tags                    // /v2/<repo>/tags/list
	v2Manifest                // /v2/<repo>/manifests/<tag or digest>
	v2Blob                    // /v2/<repo>/blobs/<digest>
	v2Upload                  // /v2/<repo>/blobs/uploads/[<session>]
	v2Referrers               // /v2/<repo>/referrers/<digest>
)

func (k v2Kind) hasRepo() bool {
	switch k {
	case v2Tags, v2Manifest, v2Blob, v2Upload, v2Referrers:
		return true
	}
	return false
}

// v2Path is a request path, classified once per request (classifyV2) and
// read by every guard and handler on /v2/.
type v2Path struct {
	Kind v2Kind
	Repo string
	// Reference is the tag or digest of a manifest, the digest of a blob or
	// of a referrers subject, or the session of an upload ("" when starting
	// one).
	Reference string
}

// parseV2Path classifies a URL path. Its structure is read from the decoded
// path, as distribution's router reads it; dot segments are looked for in
// the escaped path too, since %2e%2e decodes to "..". A path with dot
// segments or, under /v2/, an invalid repository name is an error
// (NAME_INVALID), with the kind still set for metrics.
func parseV2Path(u *url.URL) (v2Path, error) {
	rest, underV2 := strings.CutPrefix(u.Path, "/v2/")
	p := v2Path{Kind: notV2}
	if underV2 {
		p = splitV2(rest)
	}
	if hasDotSegment(u.EscapedPath()) {
		return v2Path{Kind: p.Kind}, v2.ErrorCodeNameInvalid.WithDetail("path segments . and .. are not allowed")
	}
	if p.Kind.hasRepo() && !validRepoName(p.Repo) {
		return v2Path{Kind: p.Kind}, v2.ErrorCodeNameInvalid.WithDetail(fmt.Sprintf("invalid repository name %q", p.Repo))
	}
	return p, nil
}

// splitV2 reads a path after /v2/ from its end: every route ends in fixed
// segments after the repository name, which may itself contain any of
// them ("a/manifests/b" is a valid name).
func splitV2(rest string) v2Path {
	switch rest {
	case "":
		return v2Path{Kind: v2Base}
	case "_catalog":
		return v2Path{Kind: v2Catalog}
	}
	segs := strings.Split(rest, "/")
	n := len(segs)
	repo := func(drop int) string { return strings.Join(segs[:n-drop], "/") }
	last, named := segs[n-1], func(fixed string) bool { return n >= 3 && segs[n-2] == fixed && segs[n-1] != "" }
	switch {
	case n >= 3 && segs[n-2] == "tags" && last == "list":
		return v2Path{Kind: v2Tags, Repo: repo(2)}
	case n >= 4 && segs[n-3] == "blobs" && segs[n-2] == "uploads":
		return v2Path{Kind: v2Upload, Repo: repo(3), Reference: last}
	case n >= 3 && segs[n-2] == "blobs" && last == "uploads": // distribution redirects to .../uploads/
		return v2Path{Kind: v2Upload, Repo: repo(2)}
	case named("manifests"):
		return v2Path{Kind: v2Manifest, Repo: repo(2), Reference: last}
	case named("blobs"):
		return v2Path{Kind: v2Blob, Repo: repo(2), Reference: last}
	case named("referrers"):
		return v2Path{Kind: v2Referrers, Repo: repo(2), Reference: last}
	}
	return v2Path{Kind: v2Unknown}
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

var anchoredTag = regexp.MustCompile(`^` + reference.TagRegexp.String() + `$`)

// validRepoName applies distribution's rules for names (grammar and length).
func validRepoName(name string) bool {
	_, err := reference.WithName(name)
	return err == nil
}

func isTag(s string) bool { return anchoredTag.MatchString(s) }

// digest returns the path's reference as a digest, or "" if it is none.
func (p v2Path) digest() digest.Digest { return parseDigest(p.Reference) }

// parseDigest returns "" for anything that is not a valid digest.
func parseDigest(s string) digest.Digest {
	d, err := digest.Parse(s)
	if err != nil {
		return ""
	}
	return d
}

func manifestURLPath(repo, ref string) string { return "/v2/" + repo + "/manifests/" + ref }

func blobURLPath(repo string, d digest.Digest) string { return "/v2/" + repo + "/blobs/" + d.String() }
