package e2e

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/oyster-registry/oyster/internal/testlayers"
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

// TestCatalogCrashWhileIndexing kills the registry with SIGKILL while its
// indexer is provably mid-way through an image: the test waits until the
// registry process holds one of the image's layer files open
// (/proc/<pid>/fd), freezes it with SIGSTOP, checks that the file is still
// open, and only then kills it. Then, as another replica sharing the
// storage would, it pushes and deletes with the catalog off. After a
// restart every image is searchable, the deleted one is gone, and the
// interrupted image has every package of every layer: each layer ends with
// a package of its own, so only complete reads find them all.
func TestCatalogCrashWhileIndexing(t *testing.T) {
	requireTool(t, "crane")
	data, dir := t.TempDir(), t.TempDir()
	limits := fmt.Sprintf("OYSTER_CATALOG_MAX_LAYER_BYTES=%d", 2*slowLayerZeros)
	reg := startRegistry(t, data, limits)
	var want []string
	for i := 0; i < 6; i++ {
		layer := writeLayer(t, dir, fmt.Sprint("l", i), testlayers.DistInfo("crashpkg", fmt.Sprintf("1.%d.0", i)))
		pushLayers(t, fmt.Sprintf("%s/crash/img%d:v1", reg.Host, i), "", nil, layer)
		want = append(want, fmt.Sprintf("crash/img%d:v1", i))
	}
	slow := buildSlowImage(t, slowLayerCount)
	slow.push(t, reg.Host, "crash/slow", "v1")
	layer, pos := killWhileReading(t, reg, slow.layerDigests())
	t.Logf("killed while the indexer had read %d of %d bytes of layer %d of %d", pos, len(slow.layers[layer].blob), layer+1, len(slow.layers))

	reg = startRegistry(t, data, limits, "OYSTER_CATALOG_ENABLED=false")
	late := writeLayer(t, dir, "late", testlayers.DistInfo("crashpkg", "2.0.0"))
	pushLayers(t, reg.Host+"/crash/late:v1", "", nil, late)
	run(t, "crane", "delete", "--insecure", reg.Host+"/crash/img0@"+digestOf(t, reg.Host+"/crash/img0:v1"))
	reg.Stop()

	reg = startRegistry(t, data, limits)
	eventually(t, reg.Host, "pkg:crashpkg", append(want[1:], "crash/late:v1")...)
	eventually(t, reg.Host, "pkg:crashpkg>=2", "crash/late:v1")
	for i := range slow.layers {
		eventually(t, reg.Host, fmt.Sprintf("pkg:%s", slowPackage(i)), "crash/slow:v1")
	}
	if errs := getImage(t, reg.Host, "crash/slow:v1")["index_errors"]; errs != nil {
		t.Errorf("the interrupted image has index errors: %v", errs)
	}
}

// The slow image: layers the indexer needs seconds to read in all (about
// 6 GB/s of zeros here), yet small to build and push.
const (
	slowLayerCount  = 10
	slowLayerZeros  = 2 << 30 // zero bytes in each layer's big file
	slowZeroMember  = 64 << 20
	slowPackageName = "slowpkg"
)

func slowPackage(i int) string { return fmt.Sprintf("%s%d", slowPackageName, i) }

type slowLayer struct {
	blob           []byte // gzip
	digest, diffID string
}

type slowImage struct{ layers []slowLayer }

// buildSlowImage makes n distinct layers, each a tar of slowLayerZeros
// zero bytes in one file followed by a Python package of its own, gzipped
// as concatenated members: one member of slowZeroMember zeros, compressed
// once, repeated. The diff IDs share the SHA-256 state of the common
// prefix, hashed once.
func buildSlowImage(t *testing.T, n int) slowImage {
	t.Helper()
	var hdr bytes.Buffer
	tw := tar.NewWriter(&hdr)
	if err := tw.WriteHeader(&tar.Header{Name: "opt/zeros", Mode: 0o644, Size: slowLayerZeros, Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, slowZeroMember)
	zeroMember := testlayers.Gzip(t, zeros)
	prefix := sha256.New()
	prefix.Write(hdr.Bytes())
	for i := 0; i < slowLayerZeros/slowZeroMember; i++ {
		prefix.Write(zeros)
	}
	state, err := prefix.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var img slowImage
	for i := 0; i < n; i++ {
		tail := testlayers.Tar(t, testlayers.DistInfo(slowPackage(i), "1.0"))
		blob := testlayers.Gzip(t, hdr.Bytes())
		for j := 0; j < slowLayerZeros/slowZeroMember; j++ {
			blob = append(blob, zeroMember...)
		}
		blob = append(blob, testlayers.Gzip(t, tail)...)
		diff := sha256.New()
		if err := diff.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
			t.Fatal(err)
		}
		diff.Write(tail)
		img.layers = append(img.layers, slowLayer{blob: blob, digest: sha256Digest(blob), diffID: "sha256:" + hex.EncodeToString(diff.Sum(nil))})
	}
	return img
}

func (img slowImage) layerDigests() []string {
	var out []string
	for _, l := range img.layers {
		out = append(out, l.digest)
	}
	return out
}

// push uploads the layers and config, then the manifest under tag: one
// manifest event, so the indexer starts on the image once.
func (img slowImage) push(t *testing.T, host, repo, tag string) {
	t.Helper()
	var descs []map[string]any
	var diffIDs []string
	for _, l := range img.layers {
		if err := uploadStream(host, repo, l.digest, bytes.NewReader(l.blob)); err != nil {
			t.Fatal(err)
		}
		descs = append(descs, map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": l.digest, "size": len(l.blob)})
		diffIDs = append(diffIDs, l.diffID)
	}
	config, _ := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux", "config": map[string]any{},
		"rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs},
	})
	if err := uploadStream(host, repo, sha256Digest(config), bytes.NewReader(config)); err != nil {
		t.Fatal(err)
	}
	manifest, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256Digest(config), "size": len(config)},
		"layers": descs,
	})
	putManifest(t, host, repo, tag, "application/vnd.oci.image.manifest.v1+json", manifest)
}

// killWhileReading waits until the registry has one of the given blobs
// open, stops the process, checks that the blob is still open, and kills
// it. It returns the blob's position in digests and the file offset the
// registry had reached.
func killWhileReading(t *testing.T, reg *registryProc, digests []string) (index int, offset int64) {
	t.Helper()
	pid := reg.Pid
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if _, _, ok := openBlob(pid, digests); !ok {
			time.Sleep(time.Millisecond)
			continue
		}
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		waitStopped(t, pid)
		index, offset, ok := openBlob(pid, digests)
		if ok {
			reg.Kill()
			return index, offset
		}
		syscall.Kill(pid, syscall.SIGCONT) // the read ended just before the stop
	}
	t.Fatalf("the registry never had a layer of the slow image open; log:\n%s", reg.Log())
	return 0, 0
}

var blobDataPath = regexp.MustCompile(`/blobs/sha256/[0-9a-f]{2}/([0-9a-f]{64})/data$`)

// openBlob reports which of digests process pid has open, and the offset
// its open file description has reached, from /proc.
func openBlob(pid int, digests []string) (index int, offset int64, ok bool) {
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	for _, fd := range fds {
		target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		m := blobDataPath.FindStringSubmatch(target)
		if err != nil || m == nil {
			continue
		}
		for i, d := range digests {
			if d == "sha256:"+m[1] {
				info, _ := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%s", pid, fd.Name()))
				fmt.Sscanf(string(info), "pos: %d", &offset)
				return i, offset, true
			}
		}
	}
	return 0, 0, false
}

// waitStopped waits until process pid is in the stopped state.
func waitStopped(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			t.Fatal(err)
		}
		// The state follows the command name, which is in parentheses.
		if i := bytes.LastIndexByte(stat, ')'); i > 0 && len(stat) > i+2 && stat[i+2] == 'T' {
			return
		}
	}
	t.Fatalf("process %d did not stop", pid)
}

// TestCrashMidChunk kills the registry with SIGKILL while Oyster's own
// upload path (storage.filesystem.direct_uploads) writes the second chunk
// of an upload, restarts it, and checks that no part of the blob is
// visible, that the first chunk's Location is refused rather than resumed
// over the partial bytes, and that the upload can be redone.
func TestCrashMidChunk(t *testing.T) {
	const size, firstChunk = 64 << 20, 1 << 20
	data := t.TempDir()
	reg := startRegistry(t, data)
	h := reg.Host
	layerDigest := streamDigest(t, 3, size)
	resp, err := http.Post(fmt.Sprintf("http://%s/v2/crash/chunks/blobs/uploads/", h), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	stream := randomStream(3, size)
	afterFirst := patchChunk(t, abs(h, resp.Header.Get("Location")), io.LimitReader(stream, firstChunk))
	if afterFirst.StatusCode != http.StatusAccepted || afterFirst.Header.Get("Range") != fmt.Sprintf("0-%d", firstChunk-1) {
		t.Fatalf("first chunk: %d, Range %q", afterFirst.StatusCode, afterFirst.Header.Get("Range"))
	}
	resumeAt := abs(h, afterFirst.Header.Get("Location"))
	var killOnce sync.Once
	rest := &countingReader{r: stream, onBytes: func(n int64) {
		if n > (size-firstChunk)/2 {
			killOnce.Do(reg.Kill)
		}
	}}
	req, _ := http.NewRequest(http.MethodPatch, resumeAt, rest)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("second chunk answered %d although the registry was killed halfway", resp.StatusCode)
	}

	reg = startRegistry(t, data)
	h = reg.Host
	if resp, err := http.Head(fmt.Sprintf("http://%s/v2/crash/chunks/blobs/%s", h, layerDigest)); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("half-uploaded blob is visible: %v %v", resp, err)
	}
	stale := onHost(t, resumeAt, h)
	again := patchChunk(t, stale, randomStream(4, 1000))
	if again.StatusCode != http.StatusRequestedRangeNotSatisfiable {
		t.Fatalf("a chunk at the pre-crash offset: %d, want 416 (the file holds more than that Location says)", again.StatusCode)
	}
	req, _ = http.NewRequest(http.MethodPut, stale+"&digest="+layerDigest, nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode == http.StatusCreated {
		t.Fatalf("committing the interrupted upload: %v %v", resp, err)
	}
	if err := uploadStream(h, "crash/chunks", layerDigest, randomStream(3, size)); err != nil {
		t.Fatalf("redoing the upload: %v", err)
	}
	resp, err = http.Get(fmt.Sprintf("http://%s/v2/crash/chunks/blobs/%s", h, layerDigest))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.New()
	n, _ := io.Copy(sum, resp.Body)
	resp.Body.Close()
	if got := "sha256:" + hex.EncodeToString(sum.Sum(nil)); got != layerDigest || n != size {
		t.Fatalf("redone blob reads back as %s (%d bytes)", got, n)
	}
}

// patchChunk sends body as one chunk to an upload Location.
func patchChunk(t *testing.T, location string, body io.Reader) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPatch, location, body)
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// onHost moves an absolute Location to another host:port (the restarted
// registry's); the signed state in it does not name the host.
func onHost(t *testing.T, location, host string) string {
	t.Helper()
	u, err := url.Parse(location)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = host
	return u.String()
}
