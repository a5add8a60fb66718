package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

const crashLayerSize = 256 << 20

// randomStream yields size deterministic pseudo-random bytes for seed.
func randomStream(seed uint64, size int64) io.Reader {
	var key [32]byte
	key[0] = byte(seed)
	return io.LimitReader(rand.NewChaCha8(key), size)
}

func streamDigest(t *testing.T, seed uint64, size int64) string {
	h := sha256.New()
	if _, err := io.Copy(h, randomStream(seed, size)); err != nil {
		t.Fatal(err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// countingReader calls onBytes as data flows, so a test can act mid-upload.
type countingReader struct {
	r       io.Reader
	n       atomic.Int64
	onBytes func(n int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.onBytes(c.n.Add(int64(n)))
	return n, err
}

// uploadStream uploads body as one streamed PATCH then a PUT with digest.
func uploadStream(host, repo, dgst string, body io.Reader) error {
	resp, err := http.Post(fmt.Sprintf("http://%s/v2/%s/blobs/uploads/", host, repo), "", nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	req, _ := http.NewRequest(http.MethodPatch, abs(host, loc), body)
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("PATCH: %d", resp.StatusCode)
	}
	req, _ = http.NewRequest(http.MethodPut, abs(host, resp.Header.Get("Location"))+"&digest="+dgst, nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("PUT: %d", resp.StatusCode)
	}
	return nil
}

func abs(host, loc string) string {
	if strings.HasPrefix(loc, "http") {
		return loc
	}
	return "http://" + host + loc
}

// referrerManifest is a small artifact manifest whose subject is subject.
func referrerManifest(subject string, subjectSize, i int) []byte {
	m, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"artifactType": "application/vnd.oyster.crash-test",
		"config":       map[string]any{"mediaType": "application/vnd.oci.empty.v1+json", "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "size": 2, "data": "e30="},
		"layers":       []any{map[string]any{"mediaType": "application/vnd.oci.empty.v1+json", "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "size": 2, "data": "e30="}},
		"subject":      map[string]any{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": subject, "size": subjectSize},
		"annotations":  map[string]string{"n": fmt.Sprint(i)},
	})
	return m
}

// TestCrashMidPush kills the registry with SIGKILL in the middle of a
// 256 MiB layer upload while referrers are being pushed, restarts it, and
// checks that the repository shows the old state, the referrers index agrees
// with storage, and the upload can be redone.
func TestCrashMidPush(t *testing.T) {
	requireTool(t, "crane")
	data := t.TempDir()
	reg := startRegistry(t, data)
	h := reg.Host
	old := pushImage(t, h+"/crash/app:v1", "linux/amd64")
	oldManifest := run(t, "crane", "manifest", "--insecure", h+"/crash/app:v1")
	if err := uploadStream(h, "crash/app", sha256Digest([]byte("{}")), strings.NewReader("{}")); err != nil {
		t.Fatal(err)
	}

	layerDigest := streamDigest(t, 1, crashLayerSize)
	var acked sync.Map // referrer digests the registry acknowledged with 201
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // referrer pushes racing the crash
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			m := referrerManifest(old, len(oldManifest), i)
			d := sha256Digest(m)
			req, _ := http.NewRequest(http.MethodPut, fmt.Sprintf("http://%s/v2/crash/app/manifests/%s", h, d), bytes.NewReader(m))
			req.Header.Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusCreated {
				acked.Store(d, true)
			}
		}
	}()

	var killOnce sync.Once
	body := &countingReader{r: randomStream(1, crashLayerSize), onBytes: func(n int64) {
		if n > crashLayerSize/2 {
			killOnce.Do(reg.Kill)
		}
	}}
	if err := uploadStream(h, "crash/app", layerDigest, body); err == nil {
		t.Fatal("upload finished although the registry was killed halfway")
	}
	close(stop)
	wg.Wait()

	reg = startRegistry(t, data)
	h = reg.Host
	tags := run(t, "crane", "ls", "--insecure", h+"/crash/app")
	if strings.TrimSpace(tags) != "v1" {
		t.Fatalf("tags after crash: %q", tags)
	}
	if got := digestOf(t, h+"/crash/app:v1"); got != old {
		t.Fatalf("v1 changed across the crash: %s != %s", got, old)
	}
	if resp, err := http.Head(fmt.Sprintf("http://%s/v2/crash/app/blobs/%s", h, layerDigest)); err != nil || resp.StatusCode != 404 {
		t.Fatalf("half-uploaded blob is served: %v %v", resp, err)
	}
	checkReferrersMatchStorage(t, h, old, &acked)

	// The upload can be redone from scratch and used in an image.
	if err := uploadStream(h, "crash/app", layerDigest, randomStream(1, crashLayerSize)); err != nil {
		t.Fatalf("redoing the upload: %v", err)
	}
	resp, err := http.Get(fmt.Sprintf("http://%s/v2/crash/app/blobs/%s", h, layerDigest))
	if err != nil {
		t.Fatal(err)
	}
	hash := sha256.New()
	n, _ := io.Copy(hash, resp.Body)
	resp.Body.Close()
	if got := "sha256:" + hex.EncodeToString(hash.Sum(nil)); got != layerDigest || n != crashLayerSize {
		t.Fatalf("redone blob reads back as %s (%d bytes)", got, n)
	}
}

// checkReferrersMatchStorage requires that the referrers API lists exactly
// the referrer manifests storage has, including every acknowledged one.
func checkReferrersMatchStorage(t *testing.T, h, subject string, acked *sync.Map) {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://%s/v2/crash/app/referrers/%s", h, subject))
	if err != nil {
		t.Fatal(err)
	}
	var index struct {
		Manifests []struct{ Digest string } `json:"manifests"`
	}
	err = json.NewDecoder(resp.Body).Decode(&index)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, m := range index.Manifests {
		listed[m.Digest] = true
		req, _ := http.NewRequest(http.MethodHead, fmt.Sprintf("http://%s/v2/crash/app/manifests/%s", h, m.Digest), nil)
		req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json")
		r, err := http.DefaultClient.Do(req)
		if err != nil || r.StatusCode != 200 {
			t.Fatalf("referrers lists %s, which storage does not have: %v %v", m.Digest, r, err)
		}
	}
	count := 0
	acked.Range(func(k, _ any) bool {
		count++
		if !listed[k.(string)] {
			t.Errorf("acknowledged referrer %s missing from the referrers API", k)
		}
		return true
	})
	if count == 0 {
		t.Fatal("no referrer push was acknowledged before the crash; the test proved nothing")
	}
	t.Logf("%d referrers acknowledged before the crash, %d listed after restart", count, len(index.Manifests))
}
