package library

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
)

// A library path entity/collection/container is the repository of the
// same name; a tag is the repository's tag. Pulls also accept the shorter
// paths the Library API allows (container, collection/container), naming
// repositories of one or two segments, so an image pushed with oras:// to
// hpc/lammps is library://hpc/lammps.

// part is one segment of a library path, as the client library checks it;
// it is also a valid segment of a repository name.
var part = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*$`)

// tagPattern is a tag in a library ref: the client's grammar, within the
// OCI tag grammar.
var tagPattern = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*$`)

// hashPattern is how the Library API writes an image hash.
var hashPattern = regexp.MustCompile(`^sha256\.[a-f0-9]{64}$`)

// idSeparator joins the segments of a collection, container or image ID.
// It cannot occur in a repository name, so an ID in a /v2/ path never
// reads as an OCI route.
const idSeparator = "~"

// ref is a parsed library reference: a repository and a tag or an image
// hash (at most one of them).
type ref struct {
	repo string
	tag  string
	hash digest.Digest
}

// parseRef reads "entity/collection/container[:tag]" (one to three
// segments); a tag of the form sha256.<hex> names the image by hash.
func parseRef(s string) (ref, error) {
	path, tag, hasTag := strings.Cut(s, ":")
	segs, err := parsePath(path, 1, 3)
	if err != nil {
		return ref{}, err
	}
	r := ref{repo: strings.Join(segs, "/")}
	switch {
	case !hasTag:
		r.tag = "latest"
	case hashPattern.MatchString(tag):
		r.hash = hashDigest(tag)
	case tagPattern.MatchString(tag) && len(tag) <= 128:
		r.tag = tag
	default:
		return ref{}, badRequest("%q is not a valid tag", tag)
	}
	return r, nil
}

// parsePath splits a library path into min to max valid segments.
func parsePath(path string, min, max int) ([]string, error) {
	segs := strings.Split(path, "/")
	if slices.Contains(segs, ".") || slices.Contains(segs, "..") {
		return nil, badRequest("%q: path segments . and .. are not allowed", path)
	}
	if len(segs) < min || len(segs) > max {
		return nil, badRequest("%q is not a library path: it needs %d to %d segments", path, min, max)
	}
	for _, s := range segs {
		if !part.MatchString(s) {
			return nil, badRequest("%q is not a library path: %q must be lower-case letters and digits, separated by . _ or -", path, s)
		}
	}
	if len(path) > 255 {
		return nil, badRequest("library path %q is too long", path)
	}
	return segs, nil
}

// hashDigest turns a Library hash (sha256.<hex>) into a digest.
func hashDigest(hash string) digest.Digest {
	return digest.Digest(strings.Replace(hash, ".", ":", 1))
}

// libraryHash writes a digest the Library API's way.
func libraryHash(d digest.Digest) string {
	return strings.Replace(d.String(), ":", ".", 1)
}

// pathID is the ID of an entity, collection or container: its path with
// the slashes replaced.
func pathID(segs ...string) string { return strings.Join(segs, idSeparator) }

// parseID reads an ID made by pathID back into n valid segments.
func parseID(id string, n int, what string) ([]string, error) {
	segs, err := parsePath(strings.ReplaceAll(id, idSeparator, "/"), n, n)
	if err != nil {
		return nil, &apiError{http.StatusBadRequest, fmt.Sprintf("%q is not a %s ID", id, what)}
	}
	return segs, nil
}

// imageID is the ID of the image with SIF blob d in container repo.
func imageID(repo string, d digest.Digest) string {
	return strings.ReplaceAll(repo, "/", idSeparator) + "@" + libraryHash(d)
}

// parseImageID reads an image ID: the container's repository and the
// SIF's digest.
func parseImageID(id string) (repo string, d digest.Digest, err error) {
	container, hash, ok := strings.Cut(id, "@")
	if !ok || !hashPattern.MatchString(hash) {
		return "", "", badRequest("%q is not an image ID", id)
	}
	segs, err := parseID(container, 3, "container")
	if err != nil {
		return "", "", badRequest("%q is not an image ID", id)
	}
	return strings.Join(segs, "/"), hashDigest(hash), nil
}

// hasDotSegment reports whether an escaped URL path has a . or ..
// segment, also when written %2e.
func hasDotSegment(escaped string) bool {
	for _, s := range strings.Split(escaped, "/") {
		switch strings.ToLower(s) {
		case ".", "..", "%2e", "%2e%2e", ".%2e", "%2e.":
			return true
		}
	}
	return false
}
