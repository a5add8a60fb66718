package server

import (
	"crypto/sha256"
	"encoding"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/distribution/distribution/v3/registry/api/errcode"
	v2 "github.com/distribution/distribution/v3/registry/api/v2"
	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
)

// chunkBufferSize is how much of a chunk is read before it is hashed and
// written; a pool keeps one buffer per upload in progress. Not more: on
// the benchmark machine 256 KiB writes cost 30-60% more CPU per GiB than
// 32-64 KiB ones (the kernel's copy into larger page-cache folios;
// docs/benchmarks.md).
const chunkBufferSize = 32 << 10

var chunkBuffers = sync.Pool{New: func() any { b := make([]byte, chunkBufferSize); return &b }}

// serveUploadChunk answers a blob upload PATCH with the filesystem driver:
// it appends the body to the upload's data file, hashing it as it goes,
// and leaves the hash's state where distribution's blob writer looks for
// it, so distribution's PUT commits the upload (digest check without
// reading the data again, rename into blobs/, the repository's link,
// events) exactly as if it had received the chunk itself. The answer is
// distribution's: 202, Location with a new signed _state, Range,
// Docker-Upload-UUID. Anything out of the ordinary (a state token that
// does not verify, an unknown upload, an offset or Content-Range that does
// not match the file, another Content-Type, no stored hash state) it
// leaves to distribution, having read nothing, so distribution's errors
// are the answers. It runs after authorization.
func (s *Server) serveUploadChunk(w http.ResponseWriter, r *http.Request, p v2Path) bool {
	if s.uploadRoot == "" || r.Method != http.MethodPatch || p.Kind != v2Upload || p.Reference == "" {
		return false
	}
	up, ok := s.resumeUpload(r, p)
	if !ok {
		return false
	}
	defer up.file.Close()
	before := up.size
	readErr := up.receive(r.Body)
	directUploadBytes.Add(float64(up.size - before))
	// The state goes down even after a failed read: the bytes written stay
	// in the file, as distribution keeps a partial chunk too.
	if err := errors.Join(readErr, up.storeHashState()); err != nil {
		writeOCIError(w, errcode.ErrorCodeUnknown.WithDetail(err.Error()))
		return true
	}
	if err := s.answerChunk(w, r, up); err != nil {
		writeOCIError(w, errcode.ErrorCodeUnknown.WithDetail(err.Error()))
	}
	return true
}

// chunkUpload is an upload in progress, opened for appending.
type chunkUpload struct {
	root, repo, id string
	startedAt      time.Time
	size           int64 // bytes in the data file
	hash           hash.Hash
	file           *os.File
}

// resumeUpload opens the upload p names if the request is one the fast
// path takes (see serveUploadChunk), or reports false.
func (s *Server) resumeUpload(r *http.Request, p v2Path) (*chunkUpload, bool) {
	if ct := r.Header.Get("Content-Type"); ct != "" && ct != "application/octet-stream" {
		return nil, false
	}
	state, err := unpackUploadState(s.app.Config.HTTP.Secret, r.URL.Query().Get("_state"))
	if err != nil || state.Name != p.Repo || state.UUID != p.Reference {
		return nil, false
	}
	up := &chunkUpload{root: s.uploadRoot, repo: p.Repo, id: p.Reference}
	raw, err := os.ReadFile(up.path(uploadStartedAt(up.repo, up.id)))
	if err != nil {
		return nil, false
	}
	if up.startedAt, err = time.Parse(time.RFC3339, string(raw)); err != nil {
		return nil, false
	}
	if up.file, err = os.OpenFile(up.path(uploadData(up.repo, up.id)), os.O_WRONLY|os.O_APPEND, 0); err != nil {
		return nil, false
	}
	info, err := up.file.Stat()
	if err == nil && info.Mode().IsRegular() && info.Size() == state.Offset && chunkStartsAt(r, info.Size()) {
		up.size = info.Size()
		if up.hash, err = up.loadHashState(); err == nil {
			return up, true
		}
	}
	up.file.Close()
	return nil, false
}

// chunkStartsAt: a chunk with Content-Range and Content-Length must start
// at the upload's size and be as long as its range says (distribution
// answers the rest with 416 or 400).
func chunkStartsAt(r *http.Request, size int64) bool {
	cr, cl := r.Header.Get("Content-Range"), r.Header.Get("Content-Length")
	if cr == "" || cl == "" {
		return true
	}
	start, end, ok := parseContentRange(cr)
	length, err := strconv.ParseInt(cl, 10, 64)
	return ok && err == nil && start == size && length == end-start+1
}

func (up *chunkUpload) path(storagePath string) string {
	return filepath.Join(up.root, filepath.FromSlash(storagePath))
}

// loadHashState restores the SHA-256 state distribution (or this path)
// stored after the file's current size; none is needed at 0.
func (up *chunkUpload) loadHashState() (hash.Hash, error) {
	h := sha256.New()
	if up.size == 0 {
		return h, nil
	}
	state, err := os.ReadFile(up.path(uploadHashState(up.repo, up.id, digest.SHA256, up.size)))
	if err != nil {
		return nil, err
	}
	return h, h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state)
}

// receive appends body to the data file, hashing every byte written.
func (up *chunkUpload) receive(body io.Reader) error {
	bp := chunkBuffers.Get().(*[]byte)
	defer chunkBuffers.Put(bp)
	buf := *bp
	for {
		n, readErr := fill(body, buf)
		if n > 0 {
			up.hash.Write(buf[:n])
			if _, err := up.file.Write(buf[:n]); err != nil {
				return err
			}
			up.size += int64(n)
		}
		if errors.Is(readErr, io.EOF) {
			return nil
		}
		if readErr != nil {
			return readErr
		}
	}
}

// fill reads until buf is full or the reader fails (io.EOF at the end).
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		k, err := r.Read(buf[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// storeHashState writes the hash's state after up.size bytes where
// distribution's blob writer reads it (hashstates/sha256/<offset>). It is
// written beside and renamed in, so a crash leaves no partial state file;
// distribution parses every name in that directory as an offset, so
// nothing else may ever be there.
func (up *chunkUpload) storeHashState() error {
	state, err := up.hash.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return err
	}
	final := up.path(uploadHashState(up.repo, up.id, digest.SHA256, up.size))
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(up.path(uploadDir(up.repo, up.id)), "hashstate-*.tmp")
	if err != nil {
		return err
	}
	_, err = tmp.Write(state)
	if err = errors.Join(err, tmp.Close()); err == nil {
		err = os.Rename(tmp.Name(), final)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// answerChunk writes distribution's 202 for a chunk received: a Location
// carrying a freshly signed state at the new offset.
func (s *Server) answerChunk(w http.ResponseWriter, r *http.Request, up *chunkUpload) error {
	token, err := packUploadState(s.app.Config.HTTP.Secret, uploadState{Name: up.repo, UUID: up.id, Offset: up.size, StartedAt: up.startedAt})
	if err != nil {
		return err
	}
	named, err := reference.WithName(up.repo)
	if err != nil {
		return err
	}
	location, err := s.urlBuilder(r).BuildBlobUploadChunkURL(named, up.id, url.Values{"_state": {token}})
	if err != nil {
		return err
	}
	h := w.Header()
	s.addDistributionHeaders(h)
	h.Set("Docker-Upload-UUID", up.id)
	h.Set("Location", location)
	h.Set("Content-Length", "0")
	h.Set("Range", fmt.Sprintf("0-%d", max(up.size-1, 0)))
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// urlBuilder builds URLs as distribution's App does for this request: from
// the configured host if it has one, else from the request.
func (s *Server) urlBuilder(r *http.Request) *v2.URLBuilder {
	if u, err := url.Parse(s.app.Config.HTTP.Host); err == nil && u.Scheme != "" && u.Host != "" {
		return v2.NewURLBuilder(u, false)
	}
	return v2.NewURLBuilderFromRequest(r, s.app.Config.HTTP.RelativeURLs)
}

// addDistributionHeaders adds what distribution's App puts on every answer.
func (s *Server) addDistributionHeaders(h http.Header) {
	h.Add("Docker-Distribution-API-Version", "registry/2.0")
	for name, values := range s.app.Config.HTTP.Headers {
		for _, v := range values {
			h.Add(name, v)
		}
	}
}
