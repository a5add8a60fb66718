package server_test

import (
	"bytes"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/oyster-registry/oyster/config"
)

func directUploadsOff(c *config.Config) { c.Storage.Filesystem.DirectUploads = false }

// uploadSession is one upload on one server, followed through the Locations
// that server hands out.
type uploadSession struct {
	t        *testing.T
	base     string
	location string // the last Location, absolute
	uuid     string
}

func startUpload(t *testing.T, base, repo string) *uploadSession {
	t.Helper()
	r := do(t, http.MethodPost, base+"/v2/"+repo+"/blobs/uploads/", nil)
	if r.status != http.StatusAccepted {
		t.Fatalf("POST: %d %s", r.status, r.body)
	}
	return &uploadSession{t: t, base: base, location: r.header.Get("Location"), uuid: r.header.Get("Docker-Upload-UUID")}
}

// send does method on the session's current Location (or on at, if set),
// follows a new Location, and returns the answer with the server's own
// session id, token and address replaced, so two servers' answers compare.
func (u *uploadSession) send(method, at string, body []byte, headers ...string) string {
	u.t.Helper()
	target := u.location
	if at != "" {
		target = at
	}
	r := do(u.t, method, target, body, headers...)
	if loc := r.header.Get("Location"); loc != "" && r.status < 300 {
		u.location = loc
	}
	return u.normalize(answer(r))
}

var stateParam = regexp.MustCompile(`_state=[A-Za-z0-9_=%-]+`)

func (u *uploadSession) normalize(s string) string {
	s = stateParam.ReplaceAllString(s, "_state=STATE")
	s = strings.ReplaceAll(s, u.uuid, "UUID")
	return strings.ReplaceAll(s, u.base, "BASE")
}

// withQuery returns u's Location with the query parameter set.
func (u *uploadSession) withQuery(key, value string) string {
	loc, err := url.Parse(u.location)
	if err != nil {
		u.t.Fatal(err)
	}
	q := loc.Query()
	q.Set(key, value)
	loc.RawQuery = q.Encode()
	return loc.String()
}

func directBytes(t *testing.T, base string) float64 {
	t.Helper()
	for _, line := range strings.Split(string(do(t, http.MethodGet, base+"/metrics", nil).body), "\n") {
		if v, ok := strings.CutPrefix(line, "oyster_upload_direct_bytes_total "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	return 0
}

// TestUploadChunksAnswerLikeDistribution runs the same upload sequences
// against distribution's upload path and Oyster's (direct_uploads) and
// compares every answer: status, headers but Date, body, with each
// server's session id and signed state masked. The sequences cover chunks
// with and without Content-Range, an empty chunk, a chunk at the wrong
// offset, a stale or forged state, another Content-Type, a cancelled
// upload, the upload's status, a commit with the right and the wrong
// digest, and the blob read back.
func TestUploadChunksAnswerLikeDistribution(t *testing.T) {
	plain, _ := startServer(t, directUploadsOff)
	direct, _ := startServer(t, nil)
	content := bytes.Repeat([]byte("0123456789abcdef"), 40000) // 640,000 bytes: several buffers
	d := digestOf(content)
	type step func(u *uploadSession, first string) string
	octet := []string{"Content-Type", "application/octet-stream"}
	sequences := []struct {
		name  string
		steps []step
	}{
		{"chunks then commit", []step{
			func(u *uploadSession, _ string) string {
				return u.send(http.MethodPatch, "", content[:100000], octet...)
			},
			func(u *uploadSession, _ string) string {
				return u.send(http.MethodPatch, "", content[100000:300000], "Content-Type", "application/octet-stream",
					"Content-Range", "100000-299999")
			},
			func(u *uploadSession, _ string) string { return u.send(http.MethodPatch, "", nil, octet...) },
			func(u *uploadSession, _ string) string { return u.send(http.MethodGet, "", nil) },
			func(u *uploadSession, _ string) string { return u.send(http.MethodPatch, "", content[300000:]) },
			func(u *uploadSession, _ string) string { return u.send(http.MethodPut, u.location+"&digest="+d, nil) },
			func(u *uploadSession, _ string) string {
				return u.normalize(answer(do(u.t, http.MethodGet, u.base+"/v2/lab/up/blobs/"+d, nil)))
			},
		}},
		{"wrong offset and stale state", []step{
			func(u *uploadSession, _ string) string { return u.send(http.MethodPatch, "", content[:10], octet...) },
			func(u *uploadSession, _ string) string {
				return u.send(http.MethodPatch, "", content[20:30], "Content-Type", "application/octet-stream", "Content-Range", "20-29")
			},
			func(u *uploadSession, _ string) string {
				return u.send(http.MethodPatch, "", content[10:30], "Content-Type", "application/octet-stream", "Content-Range", "10-19")
			},
			func(u *uploadSession, first string) string {
				return u.send(http.MethodPatch, first, content[10:20], octet...)
			},
			func(u *uploadSession, _ string) string {
				return u.send(http.MethodPatch, "", content[10:20], "Content-Type", "text/plain")
			},
			func(u *uploadSession, _ string) string {
				return u.send(http.MethodPatch, u.withQuery("_state", "Zm9yZ2Vk"), content[10:20])
			},
			func(u *uploadSession, _ string) string {
				return u.send(http.MethodPut, u.location+"&digest="+d, content[10:20])
			},
		}},
		{"wrong digest and cancel", []step{
			func(u *uploadSession, _ string) string { return u.send(http.MethodPatch, "", content[:5000], octet...) },
			func(u *uploadSession, _ string) string { return u.send(http.MethodPut, u.location+"&digest="+d, nil) },
			func(u *uploadSession, _ string) string { return u.send(http.MethodDelete, "", nil) },
			func(u *uploadSession, _ string) string {
				return u.send(http.MethodPatch, "", content[5000:6000], octet...)
			},
			func(u *uploadSession, _ string) string {
				return u.normalize(answer(do(u.t, http.MethodHead, u.base+"/v2/lab/up/blobs/"+d, nil)))
			},
		}},
	}
	for _, seq := range sequences {
		t.Run(seq.name, func(t *testing.T) {
			before := directBytes(t, direct.URL)
			want, got := startUpload(t, plain.URL, "lab/up"), startUpload(t, direct.URL, "lab/up")
			wantFirst, gotFirst := want.location, got.location
			for i, s := range seq.steps {
				w, g := s(want, wantFirst), s(got, gotFirst)
				if w != g {
					t.Errorf("step %d:\n direct       %s\n distribution %s", i+1, g, w)
				}
			}
			if directBytes(t, direct.URL) == before {
				t.Fatal("no chunk went through Oyster's upload path: the comparison proved nothing")
			}
		})
	}
}
