package library

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/oyster-registry/oyster/auth"
)

// An upload streams a SIF into a registry upload session, in one request
// or in parts in order, and commits it under the SIF's SHA-256: the
// registry refuses bytes that do not match, so nothing unverified becomes
// a blob. The blob shows in no tag until the client tags it. Sessions live
// in memory: a restart forgets them, and the registry's own session holds
// no visible data (distribution purges it). A session idle for an hour is
// dropped when another begins.

// partSize is the size of every part of a multi-part upload but the last.
const partSize = 64 << 20

// maxUploads bounds the sessions in progress.
const maxUploads = 256

// uploadIdle is how long a session may go without a request before a new
// session may drop it: a client that vanished mid-upload does not hold a
// place for ever.
const uploadIdle = time.Hour

type upload struct {
	mu       sync.Mutex
	id       string
	imageID  string
	repo     string
	digest   digest.Digest
	size     int64
	parts    int // 1 for a single-request upload
	next     int // the part expected next, from 1
	received int64
	partSHA  map[int]string // the SHA-256 a part was announced with
	loc      string         // the registry's session
	closed   bool
	touched  time.Time // the last request of the session
	// owner began the session, and its registry calls are made as owner:
	// the client sends the parts to the upload URL without its token (it
	// would send none to a presigned URL), so the session's unguessable
	// ID is what lets a request continue it.
	owner auth.Identity
}

// as is ctx with the session's owner as the caller.
func (u *upload) as(ctx context.Context) context.Context { return withCaller(ctx, u.owner) }

type uploads struct {
	mu  sync.Mutex
	m   map[string]*upload
	now func() time.Time
}

func newUploads() *uploads { return &uploads{m: map[string]*upload{}, now: time.Now} }

// idle removes and returns the sessions no request touched for
// uploadIdle, which no request holds now either.
func (us *uploads) idle() []*upload {
	us.mu.Lock()
	defer us.mu.Unlock()
	var out []*upload
	for id, u := range us.m {
		if !u.mu.TryLock() {
			continue // a request is using it
		}
		if us.now().Sub(u.touched) > uploadIdle {
			u.closed = true
			delete(us.m, id)
			out = append(out, u)
		}
		u.mu.Unlock()
	}
	return out
}

func (l *Library) uploadRoutes(handle func(string, handlerFunc)) {
	handle("POST /v2/imagefile/{id}", l.startSingle)
	handle("PUT /v2/imagefile/{id}/_upload", l.putSingle)
	handle("PUT /v2/imagefile/{id}/_complete", l.completeSingle)
	handle("POST /v2/imagefile/{id}/_multipart", l.startMultipart)
	handle("PUT /v2/imagefile/{id}/_multipart", l.announcePart)
	handle("PUT /v2/imagefile/{id}/_part", l.putPart)
	handle("PUT /v2/imagefile/{id}/_multipart_complete", l.completeMultipart)
	handle("PUT /v2/imagefile/{id}/_multipart_abort", l.abortMultipart)
}

// begin opens a session for the image in the path, of size bytes in parts
// of partSize.
func (l *Library) begin(r *http.Request, size int64, parts int) (*upload, error) {
	id := r.PathValue("id")
	repo, d, err := parseImageID(id)
	if err != nil {
		return nil, err
	}
	if size <= 0 {
		return nil, badRequest("filesize must be positive, not %d", size)
	}
	if !l.may(r.Context(), auth.ActionPush, repo) {
		return nil, refusal(r.Context(), "pushing to "+repo)
	}
	if _, _, err := l.lookup(r.Context(), repo, 3, "container"); err != nil {
		return nil, err
	}
	for _, old := range l.uploads.idle() {
		l.log.Info("library: dropping an idle upload", "repo", old.repo, "received", old.received, "size", old.size)
		if err := l.reg.cancelUpload(old.as(r.Context()), old.loc); err != nil {
			l.log.Warn("library: cancelling an upload", "repo", old.repo, "error", err)
		}
	}
	loc, err := l.reg.startUpload(r.Context(), repo)
	if err != nil {
		return nil, err
	}
	u := &upload{id: rand.Text(), imageID: id, repo: repo, digest: d, size: size, parts: parts, next: 1, partSHA: map[int]string{}, loc: loc, touched: l.uploads.now(), owner: CallerOf(r.Context())}
	l.uploads.mu.Lock()
	defer l.uploads.mu.Unlock()
	if len(l.uploads.m) >= maxUploads {
		_ = l.reg.cancelUpload(context.WithoutCancel(r.Context()), loc)
		return nil, &apiError{http.StatusServiceUnavailable, fmt.Sprintf("%d uploads are in progress; try again later", maxUploads)}
	}
	l.uploads.m[u.id] = u
	return u, nil
}

// session returns the open session uploadID of the image in the path,
// locked; the caller unlocks it.
func (l *Library) session(r *http.Request, uploadID string) (*upload, error) {
	l.uploads.mu.Lock()
	u := l.uploads.m[uploadID]
	l.uploads.mu.Unlock()
	if u == nil || u.imageID != r.PathValue("id") {
		return nil, notFound("no upload %q of image %s in progress", uploadID, r.PathValue("id"))
	}
	u.mu.Lock()
	if u.closed {
		u.mu.Unlock()
		return nil, notFound("upload %q is over", uploadID)
	}
	u.touched = l.uploads.now()
	return u, nil
}

// end closes u, dropping what it received unless it was committed; the
// caller holds u's lock.
func (l *Library) end(ctx context.Context, u *upload, committed bool) {
	u.closed = true
	l.uploads.mu.Lock()
	delete(l.uploads.m, u.id)
	l.uploads.mu.Unlock()
	if !committed {
		if err := l.reg.cancelUpload(u.as(context.WithoutCancel(ctx)), u.loc); err != nil {
			l.log.Warn("library: cancelling an upload", "repo", u.repo, "error", err)
		}
	}
}

// fail ends u without committing and returns err.
func (l *Library) fail(ctx context.Context, u *upload, err error) error {
	l.end(ctx, u, false)
	return err
}

// appendPart streams the request body, which must be n bytes, into u and
// returns its SHA-256.
func (l *Library) appendPart(r *http.Request, u *upload, n int64) (string, error) {
	if r.ContentLength != n {
		return "", badRequest("this part is %d bytes, not %d", n, r.ContentLength)
	}
	h := sha256.New()
	loc, err := l.reg.appendUpload(u.as(r.Context()), u.loc, u.received, n, io.TeeReader(r.Body, h))
	if err != nil {
		return "", err
	}
	u.loc, u.received = loc, u.received+n
	return hex.EncodeToString(h.Sum(nil)), nil
}

// commit makes u's bytes the blob, if they are all there and match the
// image's hash.
func (l *Library) commit(ctx context.Context, u *upload) error {
	if u.received != u.size {
		return l.fail(ctx, u, badRequest("upload incomplete: %d of %d bytes received; nothing was stored", u.received, u.size))
	}
	if err := l.reg.finishUpload(u.as(ctx), u.loc, u.digest, nil); err != nil {
		return l.fail(ctx, u, err)
	}
	l.end(ctx, u, true)
	return nil
}

func (l *Library) startSingle(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Size   int64  `json:"filesize"`
		SHA256 string `json:"sha256sum"`
	}
	if err := readJSON(r, &body); err != nil {
		return err
	}
	if _, d, err := parseImageID(r.PathValue("id")); err == nil && body.SHA256 != "" && body.SHA256 != d.Encoded() {
		return badRequest("sha256sum %s is not the image's hash %s", body.SHA256, d.Encoded())
	}
	u, err := l.begin(r, body.Size, 1)
	if err != nil {
		return err
	}
	return respond(w, map[string]string{"uploadURL": l.baseURL(r) + "/v2/imagefile/" + u.imageID + "/_upload?uploadID=" + u.id})
}

func (l *Library) putSingle(w http.ResponseWriter, r *http.Request) error {
	u, err := l.session(r, r.URL.Query().Get("uploadID"))
	if err != nil {
		return err
	}
	defer u.mu.Unlock()
	if _, err := l.appendPart(r, u, u.size); err != nil {
		return l.fail(r.Context(), u, err)
	}
	if err := l.commit(r.Context(), u); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// completeSingle confirms a single-request upload, which putSingle has
// already verified and committed.
func (l *Library) completeSingle(w http.ResponseWriter, r *http.Request) error {
	repo, d, err := parseImageID(r.PathValue("id"))
	if err != nil {
		return err
	}
	size, err := l.reg.blobSize(r.Context(), repo, d)
	if err != nil {
		return err
	}
	if size < 0 {
		return badRequest("image %s has not been uploaded completely", r.PathValue("id"))
	}
	return respond(w, uploadComplete())
}

func uploadComplete() any {
	return map[string]any{"quota": map[string]int64{"quotaTotal": 0, "quotaUsage": 0}, "containerUrl": ""}
}

func (l *Library) startMultipart(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Size int64 `json:"filesize"`
	}
	if err := readJSON(r, &body); err != nil {
		return err
	}
	u, err := l.begin(r, body.Size, int((body.Size+partSize-1)/partSize))
	if err != nil {
		return err
	}
	// Not "s3compliant": the client would read every part twice to hash
	// it first, and the whole SIF's digest is checked at the end anyway. A
	// part announced with a hash is still checked against it.
	return respond(w, map[string]any{"uploadID": u.id, "totalParts": u.parts, "partSize": partSize,
		"options": map[string]string{"s3compliant": "false"}})
}

// partBytes is the size part n of u must have.
func (u *upload) partBytes(n int) int64 {
	return min(partSize, u.size-int64(n-1)*partSize)
}

// announcePart answers the client's request for part n's upload URL;
// parts go in order.
func (l *Library) announcePart(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		PartSize   int64  `json:"partSize"`
		UploadID   string `json:"uploadID"`
		PartNumber int    `json:"partNumber"`
		SHA256     string `json:"sha256sum"`
	}
	if err := readJSON(r, &body); err != nil {
		return err
	}
	u, err := l.session(r, body.UploadID)
	if err != nil {
		return err
	}
	defer u.mu.Unlock()
	if body.PartNumber != u.next {
		return badRequest("part %d announced, but part %d of %d is next: parts go in order", body.PartNumber, u.next, u.parts)
	}
	if body.PartSize != u.partBytes(body.PartNumber) {
		return badRequest("part %d must be %d bytes, not %d", body.PartNumber, u.partBytes(body.PartNumber), body.PartSize)
	}
	u.partSHA[body.PartNumber] = body.SHA256
	return respond(w, map[string]string{"presignedURL": fmt.Sprintf("%s/v2/imagefile/%s/_part?uploadID=%s&partNumber=%d", l.baseURL(r), u.imageID, u.id, body.PartNumber)})
}

func (l *Library) putPart(w http.ResponseWriter, r *http.Request) error {
	u, err := l.session(r, r.URL.Query().Get("uploadID"))
	if err != nil {
		return err
	}
	defer u.mu.Unlock()
	n, err := strconv.Atoi(r.URL.Query().Get("partNumber"))
	if err != nil || n != u.next {
		return badRequest("part %q sent, but part %d of %d is next: parts go in order", r.URL.Query().Get("partNumber"), u.next, u.parts)
	}
	sum, err := l.appendPart(r, u, u.partBytes(n))
	if err != nil {
		return l.fail(r.Context(), u, err)
	}
	if want := u.partSHA[n]; want != "" && !strings.EqualFold(want, sum) {
		return l.fail(r.Context(), u, badRequest("part %d has SHA-256 %s, not the %s announced; the upload is cancelled", n, sum, want))
	}
	u.next++
	w.Header().Set("ETag", sum)
	w.WriteHeader(http.StatusOK)
	return nil
}

func (l *Library) completeMultipart(w http.ResponseWriter, r *http.Request) error {
	u, err := l.bodySession(r)
	if err != nil {
		return err
	}
	defer u.mu.Unlock()
	if err := l.commit(r.Context(), u); err != nil {
		return err
	}
	return respond(w, uploadComplete())
}

func (l *Library) abortMultipart(w http.ResponseWriter, r *http.Request) error {
	u, err := l.bodySession(r)
	if err != nil {
		return err
	}
	defer u.mu.Unlock()
	l.end(r.Context(), u, false)
	return respond(w, struct{}{})
}

// bodySession locks the upload named by a JSON body {"uploadID": …}, the
// form the multipart completion and abort requests take.
func (l *Library) bodySession(r *http.Request) (*upload, error) {
	var body struct {
		UploadID string `json:"uploadID"`
	}
	if err := readJSON(r, &body); err != nil {
		return nil, err
	}
	return l.session(r, body.UploadID)
}
