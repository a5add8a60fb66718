package server

// sha512 digests.
//
// The distribution-spec lets clients name blobs and manifests by sha512
// digests. Distribution v3 keeps all content under its canonical sha256
// digest and supports other algorithms only halfway:
//
//   - A blob upload committed with digest=sha512:X is verified against sha512
//     and linked in the repository under both names (_layers/sha512/X/link
//     holds "sha256:Y"), so reads by sha512:X resolve, but the answers name
//     sha256:Y in Docker-Content-Digest and Location.
//   - A mount of sha512:X links the target repository's sha512 name to
//     "sha512:X", a blob that does not exist.
//   - A manifest PUT by sha512:X is refused (the handler compares the sha256
//     of the body with the reference), although reads by sha512:X would work
//     if _manifests/revisions/sha512/X/link held "sha256:Y": a manifest read
//     by digest follows that link and answers with the digest asked for.
//   - Deleting one name leaves the other resolvable.
//
// So Oyster lets distribution do the storing and fills the gaps here: it
// renames the digest in answers, mounts the canonical blob and links the
// alias, verifies a sha512 manifest PUT itself and stores it by its sha256
// digest before linking the alias, tags it with the ?tag= parameters (the
// only way to tag a sha512 push: a push by tag names content by sha256), and
// deletes both names of the content whichever is deleted.
//
// Alias links are written through the storage driver (at the paths of
// layout.go), which is safe because distribution's blob descriptor cache
// only remembers what exists. They are removed only through distribution,
// by DELETE sub-requests to its App, so that the cache forgets them and the
// repository middleware sees the delete.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"

	"github.com/distribution/distribution/v3/registry/api/errcode"
	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
)

// serveSHA512 answers the requests distribution gets wrong for sha512
// digests, and deletes by sha256 (which must take the sha512 alias along).
// It reports false, having done nothing, for every other request.
func (s *Server) serveSHA512(w http.ResponseWriter, r *http.Request) bool {
	p := pathOf(r)
	switch p.Kind {
	case v2Manifest:
		d := p.digest()
		switch {
		case r.Method == http.MethodPut && isSHA512(d):
			s.putManifestSHA512(w, r, p.Repo, d)
		case r.Method == http.MethodPut && isCanonical(d) && r.URL.Query().Has("tag"):
			s.putManifestTagged(w, r, p.Repo, d)
		case r.Method == http.MethodDelete && (isSHA512(d) || isCanonical(d)):
			s.deleteManifestNames(w, r, p.Repo, d)
		default:
			return false
		}
		return true
	case v2Upload:
		q := r.URL.Query()
		if d := parseDigest(q.Get("mount")); r.Method == http.MethodPost && isSHA512(d) {
			s.mountSHA512(w, r, p.Repo, d)
			return true
		}
		if d := parseDigest(q.Get("digest")); isSHA512(d) {
			// The commit links both names; only the answer needs renaming.
			s.app.ServeHTTP(&digestRenamer{ResponseWriter: w, client: d}, r)
			return true
		}
	case v2Blob:
		d := p.digest()
		switch {
		case (r.Method == http.MethodGet || r.Method == http.MethodHead) && isSHA512(d):
			s.app.ServeHTTP(&digestRenamer{ResponseWriter: w, client: d}, r)
		case r.Method == http.MethodDelete && (isSHA512(d) || isCanonical(d)):
			s.deleteBlobNames(w, r, p.Repo, d)
		default:
			return false
		}
		return true
	}
	return false
}

// putManifestSHA512 stores a manifest pushed by sha512:X: it checks the body
// against X (distribution cannot), lets distribution store it by its sha256
// digest Y, links revisions/sha512/X to Y, applies the ?tag= parameters and
// answers with X. A body that does not match X changes nothing.
func (s *Server) putManifestSHA512(w http.ResponseWriter, r *http.Request, repo string, client digest.Digest) {
	body := requestOf(r.Context()).manifest.body
	if client.Algorithm().FromBytes(body) != client {
		writeOCIError(w, errcode.ErrorCodeDigestInvalid.WithDetail("manifest does not match the digest "+client.String()))
		return
	}
	q := r.URL.Query()
	tags, ok := tagParams(w, q)
	if !ok {
		return
	}

	canonical := digest.Canonical.FromBytes(body)
	// The middleware indexes referrers and tags under the client's digest.
	ctx := withDigestAlias(r.Context(), canonical, client)
	put := s.subRequest(ctx, r, http.MethodPut, manifestURLPath(repo, canonical.String()), q.Encode(), body)
	if put.status() != http.StatusCreated {
		put.replay(w)
		return
	}
	if err := s.writeLink(ctx, manifestRevisionLink(repo, client), canonical); err != nil {
		writeOCIError(w, fmt.Errorf("linking %s: %w", client, err))
		return
	}
	// The middleware makes each tag name the client's digest, so pulls by
	// tag answer with it too.
	if !s.applyTags(ctx, w, r, repo, tags, body) {
		return
	}
	copyHeader(w.Header(), put.header)
	renameDigest(w.Header(), client)
	answerTagged(w, tags)
}

// deleteManifestNames deletes a manifest by the name asked for, then its
// other name: the canonical digest of a sha512 alias, or the sha512 alias of
// a canonical digest. The other name is found before the first delete, while
// it still resolves.
func (s *Server) deleteManifestNames(w http.ResponseWriter, r *http.Request, repo string, d digest.Digest) {
	ctx := r.Context()
	var other digest.Digest
	if isSHA512(d) {
		other, _ = s.readLink(ctx, manifestRevisionLink(repo, d))
	} else {
		other = s.manifestAlias(ctx, repo, d)
	}
	resp := s.subRequest(ctx, r, r.Method, r.URL.Path, r.URL.RawQuery, nil)
	if resp.status() == http.StatusAccepted && other != "" && other != d {
		s.deleteOtherName(ctx, r, manifestURLPath(repo, other.String()))
	}
	resp.replay(w)
}

// deleteBlobNames is deleteManifestNames for blobs. A blob's sha512 aliases
// are found by reading the repository's sha512 links (there is usually none)
// rather than by hashing what may be gigabytes.
func (s *Server) deleteBlobNames(w http.ResponseWriter, r *http.Request, repo string, d digest.Digest) {
	ctx := r.Context()
	var others []digest.Digest
	if isSHA512(d) {
		if c, err := s.readLink(ctx, layerLink(repo, d)); err == nil && c != d {
			others = append(others, c)
		}
	} else {
		others = s.layerAliases(ctx, repo, d)
	}
	resp := s.subRequest(ctx, r, r.Method, r.URL.Path, r.URL.RawQuery, nil)
	if resp.status() == http.StatusAccepted {
		for _, other := range others {
			s.deleteOtherName(ctx, r, blobURLPath(repo, other))
		}
	}
	resp.replay(w)
}

// deleteOtherName deletes the second name of deleted content. The client's
// delete has succeeded by then, so a failure here is logged, not answered.
func (s *Server) deleteOtherName(ctx context.Context, r *http.Request, urlPath string) {
	resp := s.subRequest(ctx, r, http.MethodDelete, urlPath, "", nil)
	if code := resp.status(); code != http.StatusAccepted && code != http.StatusNotFound {
		s.log.Warn("deleting the other name of deleted content", "path", urlPath, "status", code, "body", resp.body.String())
	}
}

// mountSHA512 mounts a blob named by sha512 from another repository: it
// resolves the alias in the source, lets distribution mount the canonical
// blob and links the alias in the target. Without a resolvable alias it
// starts a plain upload (202), as the spec allows for any failed mount,
// rather than let distribution link the target to a missing blob.
func (s *Server) mountSHA512(w http.ResponseWriter, r *http.Request, repo string, client digest.Digest) {
	ctx := r.Context()
	q := r.URL.Query()
	var canonical digest.Digest
	if from := q.Get("from"); from != "" && validRepoName(from) {
		if c, err := s.readLink(ctx, layerLink(from, client)); err == nil && isCanonical(c) {
			canonical = c
		}
	}
	if canonical == "" {
		q.Del("mount")
		q.Del("from")
		s.subRequest(ctx, r, r.Method, r.URL.Path, q.Encode(), nil).replay(w)
		return
	}
	q.Set("mount", canonical.String())
	resp := s.subRequest(ctx, r, r.Method, r.URL.Path, q.Encode(), nil)
	if resp.status() == http.StatusCreated {
		if err := s.writeLink(ctx, layerLink(repo, client), canonical); err != nil {
			writeOCIError(w, fmt.Errorf("linking %s: %w", client, err))
			return
		}
		renameDigest(resp.header, client)
	}
	resp.replay(w)
}

// manifestAlias returns the sha512 alias linked to the manifest with the
// canonical digest d, or "" if there is none.
func (s *Server) manifestAlias(ctx context.Context, repo string, d digest.Digest) digest.Digest {
	// Most repositories have no sha512 manifest: one stat saves reading d.
	if _, err := s.driver.Stat(ctx, manifestRevisionsDir(repo, digest.SHA512)); err != nil {
		return ""
	}
	named, err := reference.WithName(repo)
	if err != nil {
		return ""
	}
	rep, err := s.namespace.Repository(ctx, named)
	if err != nil {
		return ""
	}
	ms, err := rep.Manifests(ctx)
	if err != nil {
		return ""
	}
	m, err := ms.Get(ctx, d)
	if err != nil {
		return ""
	}
	_, payload, err := m.Payload()
	if err != nil {
		return ""
	}
	alias := digest.SHA512.FromBytes(payload)
	if target, err := s.readLink(ctx, manifestRevisionLink(repo, alias)); err != nil || target != d {
		return ""
	}
	return alias
}

// layerAliases returns the sha512 names linked to the blob with the
// canonical digest d in the repository.
func (s *Server) layerAliases(ctx context.Context, repo string, d digest.Digest) []digest.Digest {
	dirs, err := s.driver.List(ctx, layersDir(repo, digest.SHA512))
	if err != nil {
		return nil
	}
	var aliases []digest.Digest
	for _, dir := range dirs {
		alias := digest.NewDigestFromEncoded(digest.SHA512, path.Base(dir))
		if alias.Validate() != nil {
			continue
		}
		if target, err := s.readLink(ctx, path.Join(dir, "link")); err == nil && target == d {
			aliases = append(aliases, alias)
		}
	}
	return aliases
}

// subRequest runs a request derived from r (same headers, hence the same
// credentials and host for the URLs distribution builds) through
// distribution and returns its answer, buffered: answers here are small, and
// the caller may still change or replace them.
func (s *Server) subRequest(ctx context.Context, r *http.Request, method, urlPath, rawQuery string, body []byte) *bufferedResponse {
	sub := r.Clone(ctx)
	sub.Method = method
	sub.URL.Path, sub.URL.RawPath, sub.URL.RawQuery = urlPath, "", rawQuery
	sub.RequestURI = sub.URL.RequestURI()
	sub.Body, sub.ContentLength = http.NoBody, 0
	sub.Header.Del("Content-Length")
	if body != nil {
		sub.Body, sub.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	}
	resp := &bufferedResponse{header: http.Header{}}
	s.app.ServeHTTP(resp, sub)
	return resp
}

func (s *Server) readLink(ctx context.Context, p string) (digest.Digest, error) {
	content, err := s.driver.GetContent(ctx, p)
	if err != nil {
		return "", err
	}
	return digest.Parse(string(content))
}

func (s *Server) writeLink(ctx context.Context, p string, target digest.Digest) error {
	return s.driver.PutContent(ctx, p, []byte(target.String()))
}

func isSHA512(d digest.Digest) bool { return d != "" && d.Algorithm() == digest.SHA512 }

func isCanonical(d digest.Digest) bool { return d != "" && d.Algorithm() == digest.Canonical }

// renameDigest makes a successful answer name the client's digest where
// distribution named the canonical one: Docker-Content-Digest, and the
// Location that ends with it. The ETag is left alone: distribution compares
// If-None-Match with the canonical digest.
func renameDigest(h http.Header, client digest.Digest) {
	canonical := h.Get("Docker-Content-Digest")
	if canonical == "" || canonical == client.String() {
		return
	}
	h.Set("Docker-Content-Digest", client.String())
	if loc := h.Get("Location"); strings.HasSuffix(loc, "/"+canonical) {
		h.Set("Location", strings.TrimSuffix(loc, canonical)+client.String())
	}
}

// digestRenamer applies renameDigest to a streamed answer before its status
// goes out.
type digestRenamer struct {
	http.ResponseWriter
	client digest.Digest
	wrote  bool
}

func (d *digestRenamer) WriteHeader(code int) {
	if !d.wrote {
		d.wrote = true
		if code < http.StatusBadRequest {
			renameDigest(d.Header(), d.client)
		}
	}
	d.ResponseWriter.WriteHeader(code)
}

func (d *digestRenamer) Write(p []byte) (int, error) {
	if !d.wrote {
		d.WriteHeader(http.StatusOK)
	}
	return d.ResponseWriter.Write(p)
}

func (d *digestRenamer) Unwrap() http.ResponseWriter { return d.ResponseWriter }

// bufferedResponse holds an answer from distribution until it is replayed.
type bufferedResponse struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(code int) {
	if b.code == 0 {
		b.code = code
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.code == 0 {
		b.code = http.StatusOK
	}
	return b.body.Write(p)
}

func (b *bufferedResponse) status() int {
	if b.code == 0 {
		return http.StatusOK
	}
	return b.code
}

func (b *bufferedResponse) replay(w http.ResponseWriter) {
	copyHeader(w.Header(), b.header)
	w.WriteHeader(b.status())
	_, _ = w.Write(b.body.Bytes())
}

func copyHeader(dst, src http.Header) {
	for k, v := range src {
		dst[k] = v
	}
}

// digestAliasKey carries, through the request context, the sha512 digest a
// client pushed a manifest by, so the middleware indexes the referrer and
// makes tags under that digest rather than the canonical one.
type digestAliasKey struct{}

type digestAlias struct{ canonical, client digest.Digest }

func withDigestAlias(ctx context.Context, canonical, client digest.Digest) context.Context {
	return context.WithValue(ctx, digestAliasKey{}, digestAlias{canonical: canonical, client: client})
}

// clientDigest returns the digest the client named the content d by: its
// sha512 alias during a sha512 push of d, else d itself.
func clientDigest(ctx context.Context, d digest.Digest) digest.Digest {
	if a, ok := ctx.Value(digestAliasKey{}).(digestAlias); ok && a.canonical == d {
		return a.client
	}
	return d
}
