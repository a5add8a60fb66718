package server

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/opencontainers/go-digest"
)

// blobCacheMaxAge is distribution's Cache-Control for blobs (blobserver.go).
const blobCacheMaxAge = 365 * 24 * time.Hour

// serveBlobFile answers a blob GET or HEAD with the filesystem driver by
// handing distribution's data file to http.ServeContent: an *os.File lets
// the kernel copy it to the socket (sendfile), where distribution's own
// path reads it through the driver into user space. Range and
// If-None-Match work as they do in distribution, which also ends in
// ServeContent. It serves only sha256 blobs whose repository link names the
// blob itself (so a blob another repository holds stays unknown here) and
// reports false, having written nothing, for anything else: distribution
// answers those, errors included. It runs after authorization.
func (s *Server) serveBlobFile(w http.ResponseWriter, r *http.Request, p v2Path) bool {
	d := p.digest()
	if s.blobRoot == "" || p.Kind != v2Blob || (r.Method != http.MethodGet && r.Method != http.MethodHead) ||
		d == "" || d.Algorithm() != digest.SHA256 {
		return false
	}
	link, err := os.ReadFile(filepath.Join(s.blobRoot, filepath.FromSlash(layerLink(p.Repo, d))))
	if err != nil || string(link) != d.String() {
		return false
	}
	f, err := os.Open(filepath.Join(s.blobRoot, filepath.FromSlash(blobData(d))))
	if err != nil {
		return false
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		return false
	}
	h := w.Header()
	s.addDistributionHeaders(h)
	h.Set("ETag", fmt.Sprintf(`"%s"`, d))
	h.Set("Cache-Control", fmt.Sprintf("max-age=%.f", blobCacheMaxAge.Seconds()))
	h.Set("Docker-Content-Digest", d.String())
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", fmt.Sprint(info.Size()))
	if rf := innermostReaderFrom(w); rf != nil {
		w = bodyWriter{ResponseWriter: w, body: rf}
	}
	http.ServeContent(w, r, d.String(), time.Time{}, f)
	return true
}

// bodyWriter sends the body copy straight to net/http's own writer, whose
// ReadFrom uses sendfile for an *os.File; io.Copy would otherwise stop at
// Oyster's status-recording wrappers, which have no ReadFrom, and copy
// through a buffer. The status still goes through the wrappers: ServeContent
// writes the header before it copies the body.
type bodyWriter struct {
	http.ResponseWriter
	body io.ReaderFrom
}

func (b bodyWriter) ReadFrom(r io.Reader) (int64, error) { return b.body.ReadFrom(r) }

// innermostReaderFrom follows Unwrap (the http.ResponseController
// convention Oyster's wrappers follow) to a writer with ReadFrom.
func innermostReaderFrom(w http.ResponseWriter) io.ReaderFrom {
	for {
		if rf, ok := w.(io.ReaderFrom); ok {
			return rf
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return nil
		}
		w = u.Unwrap()
	}
}
