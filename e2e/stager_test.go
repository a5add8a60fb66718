package e2e

import (
	"archive/tar"
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/oyster-registry/oyster/api"
	"github.com/oyster-registry/oyster/auth/authtest"
	"github.com/oyster-registry/oyster/internal/testlayers"
	"github.com/oyster-registry/oyster/oci"
	"github.com/oyster-registry/oyster/oci/sif"
)

var (
	stagerOnce sync.Once
	stagerBin  string
	stagerErr  error
)

// stagerBinary builds cmd/stager once for the run.
func stagerBinary(t *testing.T) string {
	t.Helper()
	stagerOnce.Do(func() {
		dir, err := os.MkdirTemp("", "oyster-e2e-stager")
		if err != nil {
			stagerErr = err
			return
		}
		stagerBin = filepath.Join(dir, "stager")
		out, err := exec.Command("go", "build", "-o", stagerBin, "github.com/oyster-registry/oyster/cmd/stager").CombinedOutput()
		if err != nil {
			stagerErr = fmt.Errorf("building stager: %v\n%s", err, out)
		}
	})
	if stagerErr != nil {
		t.Fatal(stagerErr)
	}
	return stagerBin
}

// blobProxy sits between stagers and the registry, counting the bytes of
// each blob it serves (to prove nothing is fetched twice), and on demand
// corrupting one blob or stalling one after some bytes.
type blobProxy struct {
	srv *httptest.Server

	mu      sync.Mutex
	served  map[string]int64 // digest → bytes sent
	gets    map[string]int
	ranges  map[string][]string // digest → Range headers asked
	corrupt string
	stall   map[string]int64 // digest → bytes after which to hang
	stalled chan string
	drop    map[string]int64 // digest → bytes after which to drop the connection, once
}

var blobPath = regexp.MustCompile(`^/v2/.+/blobs/(sha256:[0-9a-f]{64})$`)

func newBlobProxy(t *testing.T, registryHost string) *blobProxy {
	p := &blobProxy{served: map[string]int64{}, gets: map[string]int{}, ranges: map[string][]string{}, stall: map[string]int64{}, stalled: make(chan string, 8), drop: map[string]int64{}}
	target, _ := url.Parse("http://" + registryHost)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.FlushInterval = -1
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := blobPath.FindStringSubmatch(r.URL.Path)
		if m == nil || r.Method != http.MethodGet {
			rp.ServeHTTP(w, r)
			return
		}
		d := m[1]
		p.mu.Lock()
		p.gets[d]++
		p.ranges[d] = append(p.ranges[d], r.Header.Get("Range"))
		corrupt, stallAt, dropAt := p.corrupt == d, p.stall[d], p.drop[d]
		delete(p.drop, d)
		p.mu.Unlock()
		rp.ServeHTTP(&countingWriter{ResponseWriter: w, p: p, digest: d, corrupt: corrupt, stallAt: stallAt, dropAt: dropAt, req: r}, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *blobProxy) URL() string { return p.srv.URL }

func (p *blobProxy) bytesServed(d string) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.served[d]
}

func (p *blobProxy) getsOf(d string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.gets[d]
}

type countingWriter struct {
	http.ResponseWriter
	p       *blobProxy
	digest  string
	corrupt bool
	stallAt int64
	dropAt  int64
	sent    int64
	req     *http.Request
}

func (c *countingWriter) Write(b []byte) (int, error) {
	if c.corrupt {
		b = bytes.Clone(b)
		b[0] ^= 0xff
	}
	if c.dropAt > 0 && c.sent+int64(len(b)) >= c.dropAt {
		n, _ := c.ResponseWriter.Write(b[:c.dropAt-c.sent])
		c.count(n)
		c.ResponseWriter.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // the server closes the connection mid-body
	}
	if c.stallAt > 0 && c.sent+int64(len(b)) >= c.stallAt {
		b = b[:c.stallAt-c.sent]
		n, _ := c.ResponseWriter.Write(b)
		c.count(n)
		c.ResponseWriter.(http.Flusher).Flush()
		c.p.stalled <- c.digest
		<-c.req.Context().Done() // hang until the client goes away
		return n, c.req.Context().Err()
	}
	n, err := c.ResponseWriter.Write(b)
	c.count(n)
	return n, err
}

func (c *countingWriter) count(n int) {
	c.sent += int64(n)
	c.p.mu.Lock()
	c.p.served[c.digest] += int64(n)
	c.p.mu.Unlock()
}

func (c *countingWriter) Flush() { c.ResponseWriter.(http.Flusher).Flush() }

// stagerRun runs the stager and returns stdout, stderr and the error.
func stagerRun(t *testing.T, env []string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(stagerBinary(t), args...)
	cmd.Env = append(append(os.Environ(), "PATH="+toolsDir()+":"+os.Getenv("PATH")), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// stagePath runs a stager command that must succeed and returns the last
// line of its standard output: the staged path.
func stagePath(t *testing.T, env []string, args ...string) string {
	t.Helper()
	out, errOut, err := stagerRun(t, env, args...)
	if err != nil {
		t.Fatalf("stager %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	p := lines[len(lines)-1]
	if _, err := os.Lstat(p); err != nil {
		t.Fatalf("stager %s: last line %q is no path: %v", strings.Join(args, " "), p, err)
	}
	return p
}

// sharedBaseImages pushes lab/base:1 and two images on it, lab/a:1 and
// lab/b:1, each adding a layer; it returns the base layer's digest.
func sharedBaseImages(t *testing.T, host string) string {
	t.Helper()
	dir := t.TempDir()
	base := busyboxLayer(t, dir, "base")
	pushLayers(t, host+"/lab/base:1", "", map[string]string{"org.opencontainers.image.title": "base"}, base)
	pushLayers(t, host+"/lab/a:1", host+"/lab/base:1", nil, writeLayer(t, dir, "a",
		testlayers.File("etc/a", "from a\n"), testlayers.Whiteout("etc/marker"), testlayers.Symlink("usr/bin/sh", "/bin/busybox")))
	pushLayers(t, host+"/lab/b:1", host+"/lab/base:1", nil, writeLayer(t, dir, "b", testlayers.File("etc/b", "from b\n")))
	return imageLayers(t, host+"/lab/base:1")[0]
}

func imageLayers(t *testing.T, ref string) []string {
	t.Helper()
	var m struct {
		Layers []struct {
			Digest string `json:"digest"`
		} `json:"layers"`
	}
	if err := json.Unmarshal([]byte(run(t, "crane", "manifest", "--insecure", ref)), &m); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range m.Layers {
		out = append(out, l.Digest)
	}
	return out
}

// TestStagerFormats stages two images sharing a base layer in every format
// and checks each format with the tools that read it; the base layer
// crosses the network once.
func TestStagerFormats(t *testing.T) {
	requireTool(t, "crane")
	requireTool(t, "unsquashfs")
	siftool := requireTool(t, "siftool")
	reg := startRegistry(t, "")
	baseLayer := sharedBaseImages(t, reg.Host)
	proxy := newBlobProxy(t, reg.Host)
	cache := t.TempDir()
	flags := []string{"--registry", proxy.URL(), "--cache", cache, "--insecure"}
	paths := map[string]string{}
	for _, img := range []string{"lab/a:1", "lab/b:1"} {
		for _, f := range []string{"oci", "rootfs", "squashfs", "sif"} {
			paths[img+" "+f] = stagePath(t, nil, append([]string{"pull", "--format", f, img}, flags...)...)
		}
	}
	if n := proxy.bytesServed(baseLayer); n != int64(blobSize(t, cache, baseLayer)) || proxy.getsOf(baseLayer) != 1 {
		t.Errorf("shared base layer: %d GETs, %d bytes; want 1 GET of its %d bytes", proxy.getsOf(baseLayer), n, blobSize(t, cache, baseLayer))
	}

	rootfs := paths["lab/a:1 rootfs"]
	if b, err := os.ReadFile(filepath.Join(rootfs, "etc/a")); err != nil || string(b) != "from a\n" {
		t.Errorf("rootfs etc/a = %q, %v", b, err)
	}
	if fi, err := os.Stat(filepath.Join(rootfs, "bin/busybox")); err != nil || fi.Mode()&0o111 == 0 {
		t.Errorf("rootfs bin/busybox: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(rootfs, "etc/marker")); !os.IsNotExist(err) {
		t.Errorf("the whiteout of etc/marker was not applied: %v", err)
	}
	if link, _ := os.Readlink(filepath.Join(rootfs, "usr/bin/sh")); link != "/bin/busybox" {
		t.Errorf("usr/bin/sh -> %q", link)
	}

	list := run(t, "unsquashfs", "-l", paths["lab/b:1 squashfs"])
	for _, want := range []string{"squashfs-root/etc/b", "squashfs-root/etc/marker", "squashfs-root/bin/busybox"} {
		if !strings.Contains(list, want+"\n") {
			t.Errorf("unsquashfs -l lacks %s:\n%s", want, list)
		}
	}

	sifPath := paths["lab/a:1 sif"]
	objects := run(t, siftool, "list", sifPath)
	for _, want := range []string{"Def.FILE", "JSON.Generic", "FS (Squashfs/*System/amd64)"} {
		if !strings.Contains(objects, want) {
			t.Errorf("siftool list lacks %s:\n%s", want, objects)
		}
	}
	b, err := os.ReadFile(sifPath)
	if err != nil {
		t.Fatal(err)
	}
	info, err := sif.Read(bytes.NewReader(b), int64(len(b)), oci.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Root == nil || len(info.Problems) > 0 || info.Arch != "amd64" ||
		!strings.Contains(info.DefFile, "from: "+strings.TrimPrefix(proxy.URL(), "http://")+"/lab/a:1") ||
		info.Labels["org.label-schema.usage.singularity.deffile.bootstrap"] != "docker" {
		t.Errorf("SIF read back: %+v", info)
	}
	if body, err := readFS(info, "etc/a"); err != nil || body != "from a\n" {
		t.Errorf("SIF etc/a = %q, %v", body, err)
	}

	layout := paths["lab/b:1 oci"]
	var index struct {
		Manifests []struct {
			Digest      string            `json:"digest"`
			Annotations map[string]string `json:"annotations"`
		} `json:"manifests"`
	}
	raw, err := os.ReadFile(filepath.Join(layout, "index.json"))
	if err != nil || json.Unmarshal(raw, &index) != nil || len(index.Manifests) != 1 || index.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != "lab/b:1" {
		t.Fatalf("index.json: %s (%v)", raw, err)
	}
	if _, err := os.Stat(filepath.Join(layout, "blobs/sha256", strings.TrimPrefix(baseLayer, "sha256:"))); err != nil {
		t.Errorf("layout lacks the base layer: %v", err)
	}
	skopeo := requireTool(t, "skopeo")
	run(t, skopeo, "inspect", "oci:"+layout)

	// stager path of a staged image answers from the cache: no registry.
	reg.Stop()
	if p := stagePath(t, nil, append([]string{"path", "--format", "sif", "lab/a:1"}, flags...)...); p != sifPath {
		t.Errorf("stager path = %s, want %s", p, sifPath)
	}
}

func readFS(info sif.Info, name string) (string, error) {
	f, err := info.Root.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	return string(b), err
}

func blobSize(t *testing.T, cache, d string) int {
	t.Helper()
	fi, err := os.Stat(filepath.Join(cache, "blobs/sha256", strings.TrimPrefix(d, "sha256:")))
	if err != nil {
		t.Fatal(err)
	}
	return int(fi.Size())
}

// TestStagerSIFArtifact: a SIF stored in the registry is staged as is.
func TestStagerSIFArtifact(t *testing.T) {
	requireTool(t, "oras")
	reg := startRegistry(t, "")
	t.Chdir(t.TempDir())
	writeSystemSIF(t, "lammps.sif")
	write(t, "config.json", "{}")
	run(t, "oras", "push", "--plain-http", reg.Host+"/hpc/lammps:stable",
		"--config", "config.json:application/vnd.sylabs.sif.config.v1+json", "lammps.sif:application/vnd.sylabs.sif.layer.v1.sif")
	p := stagePath(t, nil, "pull", "--format", "sif", "--registry", "http://"+reg.Host, "--cache", t.TempDir(), "--insecure", "hpc/lammps:stable")
	want, _ := os.ReadFile("lammps.sif")
	if got, _ := os.ReadFile(p); !bytes.Equal(got, want) {
		t.Errorf("staged SIF differs from the pushed one (%d vs %d bytes)", len(got), len(want))
	}
	sq := stagePath(t, nil, "pull", "--format", "squashfs", "--registry", "http://"+reg.Host, "--cache", filepath.Dir(filepath.Dir(filepath.Dir(p))), "--insecure", "hpc/lammps:stable")
	if list := run(t, "unsquashfs", "-l", sq); !strings.Contains(list, "squashfs-root/.singularity.d/runscript") {
		t.Errorf("squashfs of the SIF:\n%s", list)
	}
}

// TestStagerTwoOnOneDirectory: two stagers started together on one cache
// stage the image once: every blob crosses the network once.
func TestStagerTwoOnOneDirectory(t *testing.T) {
	requireTool(t, "crane")
	reg := startRegistry(t, "")
	sharedBaseImages(t, reg.Host)
	proxy := newBlobProxy(t, reg.Host)
	cache := t.TempDir()
	var wg sync.WaitGroup
	paths := make([]string, 2)
	for i := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, errOut, err := stagerRun(t, nil, "pull", "--format", "squashfs", "--registry", proxy.URL(), "--cache", cache, "--insecure", "lab/a:1")
			if err != nil {
				t.Errorf("stager %d: %v\n%s", i, err, errOut)
			}
			paths[i] = strings.TrimSpace(out)
		}()
	}
	wg.Wait()
	if paths[0] != paths[1] || paths[0] == "" {
		t.Fatalf("paths %q", paths)
	}
	for _, d := range imageLayers(t, reg.Host+"/lab/a:1") {
		if proxy.getsOf(d) != 1 {
			t.Errorf("layer %s fetched %d times", d, proxy.getsOf(d))
		}
	}
}

// TestStagerEviction: past the quota, gc evicts the least recently used
// image but never a pinned one or one leased by `stager path`.
func TestStagerEviction(t *testing.T) {
	requireTool(t, "crane")
	reg := startRegistry(t, "")
	sharedBaseImages(t, reg.Host)
	cache := t.TempDir()
	flags := []string{"--registry", "http://" + reg.Host, "--cache", cache, "--insecure"}
	env := []string{"OYSTER_STAGER_QUOTA_MAX_BYTES=1", "OYSTER_STAGER_PINS=lab/base:1"}
	pinned := stagePath(t, env, append([]string{"pull", "--format", "rootfs", "lab/base:1"}, flags...)...)
	leased := stagePath(t, env, append([]string{"path", "--format", "rootfs", "lab/a:1"}, flags...)...)
	plain := stagePath(t, env, append([]string{"pull", "--format", "rootfs", "lab/b:1"}, flags...)...)
	out, errOut, err := stagerRun(t, env, append([]string{"gc", "--json"}, flags...)...)
	if err != nil {
		t.Fatalf("gc: %v\n%s", err, errOut)
	}
	var rep struct {
		Evicted []struct {
			Refs []string `json:"refs"`
		} `json:"evicted"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("gc output %q: %v", out, err)
	}
	if len(rep.Evicted) != 1 || rep.Evicted[0].Refs[0] != "lab/b:1" {
		t.Errorf("evicted %+v, want only lab/b:1", rep.Evicted)
	}
	for p, want := range map[string]bool{pinned: true, leased: true, plain: false} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s present=%v after gc, want %v", p, err == nil, want)
		}
	}
	// A held image (stager exec) is not evicted while its command runs,
	// even with its lease gone.
	held := filepath.Join(filepath.Dir(leased), "lease")
	mustOK(t, os.Remove(held))
	execOut, errOut, err := stagerRun(t, env, append(append([]string{"exec", "--format", "rootfs", "lab/a:1"}, flags...),
		"--", stagerBinary(t), "gc", "--json", "--registry", "http://"+reg.Host, "--cache", cache, "--insecure")...)
	if err != nil {
		t.Fatalf("exec gc: %v\n%s", err, errOut)
	}
	if strings.Contains(execOut, "lab/a:1") {
		t.Errorf("gc under exec evicted the held image: %s", execOut)
	}
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// randomLayer writes a layer holding one file of n random bytes.
func randomLayer(t *testing.T, dir string, n int) string {
	t.Helper()
	body := make([]byte, n)
	rand.Read(body)
	return writeLayer(t, dir, "random", testlayers.File("data/random.bin", string(body)))
}

// manyFilesLayer writes a layer of n small files, slow enough to unpack
// and squash that a kill lands in the middle.
func manyFilesLayer(t *testing.T, dir string, n int) string {
	t.Helper()
	p := filepath.Join(dir, "many.tar")
	f, err := os.Create(p)
	mustOK(t, err)
	tw := tar.NewWriter(f)
	body := bytes.Repeat([]byte("x"), 2048)
	for i := range n {
		mustOK(t, tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("files/%03d/%d", i%500, i), Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}))
		_, err := tw.Write(body)
		mustOK(t, err)
	}
	mustOK(t, tw.Close())
	mustOK(t, f.Close())
	return p
}

// TestStagerKillMidDownload: kill -9 while a layer downloads; the restart
// resumes it with a Range request, nothing partial is visible, and no byte
// crosses the network twice.
func TestStagerKillMidDownload(t *testing.T) {
	requireTool(t, "crane")
	reg := startRegistry(t, "")
	dir := t.TempDir()
	pushLayers(t, reg.Host+"/lab/big:1", "", nil, randomLayer(t, dir, 8<<20))
	layer := imageLayers(t, reg.Host+"/lab/big:1")[0]
	proxy := newBlobProxy(t, reg.Host)
	const cut = 3 << 20
	proxy.stall[layer] = cut
	cache := t.TempDir()
	args := []string{"pull", "--format", "squashfs", "--registry", proxy.URL(), "--cache", cache, "--insecure", "lab/big:1"}
	cmd := exec.Command(stagerBinary(t), args...)
	cmd.Env = append(os.Environ(), "PATH="+toolsDir()+":"+os.Getenv("PATH"))
	mustOK(t, cmd.Start())
	select {
	case <-proxy.stalled:
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatal("the download never reached the stall point")
	}
	partial := filepath.Join(cache, "blobs/partial", "sha256-"+strings.TrimPrefix(layer, "sha256:"))
	waitSize(t, partial, cut)
	mustOK(t, cmd.Process.Signal(syscall.SIGKILL))
	cmd.Wait()
	if m, _ := filepath.Glob(filepath.Join(cache, "images/*/image.squashfs")); len(m) != 0 {
		t.Fatalf("visible after kill: %v", m)
	}
	proxy.mu.Lock()
	delete(proxy.stall, layer)
	proxy.mu.Unlock()
	stagePath(t, nil, args...)
	size := int64(blobSize(t, cache, layer))
	if got := proxy.bytesServed(layer); got != size {
		t.Errorf("layer of %d bytes: %d bytes served in all", size, got)
	}
	if r := proxy.ranges[layer]; len(r) != 2 || r[1] != fmt.Sprintf("bytes=%d-", cut) {
		t.Errorf("Range headers %q, want a resume from %d", r, cut)
	}
}

// TestStagerRegistryDropsConnection: the registry goes away in the middle
// of a layer; the stager retries, resuming from where the bytes stopped.
func TestStagerRegistryDropsConnection(t *testing.T) {
	requireTool(t, "crane")
	reg := startRegistry(t, "")
	pushLayers(t, reg.Host+"/lab/big:1", "", nil, randomLayer(t, t.TempDir(), 8<<20))
	layer := imageLayers(t, reg.Host+"/lab/big:1")[0]
	proxy := newBlobProxy(t, reg.Host)
	const cut = 3 << 20
	proxy.drop[layer] = cut
	cache := t.TempDir()
	stagePath(t, nil, "pull", "--format", "oci", "--registry", proxy.URL(), "--cache", cache, "--insecure", "lab/big:1")
	if size := int64(blobSize(t, cache, layer)); proxy.bytesServed(layer) != size {
		t.Errorf("layer of %d bytes: %d bytes served", size, proxy.bytesServed(layer))
	}
	if r := proxy.ranges[layer]; len(r) != 2 || r[1] != fmt.Sprintf("bytes=%d-", cut) {
		t.Errorf("Range headers %q, want a resume from %d", r, cut)
	}
}

// waitSize waits until the file holds n bytes (the stager wrote what the
// proxy sent).
func waitSize(t *testing.T, p string, n int64) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if fi, err := os.Stat(p); err == nil && fi.Size() >= n {
			return
		}
	}
	t.Fatalf("%s never reached %d bytes", p, n)
}

// TestStagerKillMidConversion: kill -9 while the rootfs is being unpacked
// for a squashfs; the restart converts again without downloading, and
// the final path never shows a half-made image.
func TestStagerKillMidConversion(t *testing.T) {
	requireTool(t, "crane")
	reg := startRegistry(t, "")
	pushLayers(t, reg.Host+"/lab/many:1", "", nil, manyFilesLayer(t, t.TempDir(), 20000))
	proxy := newBlobProxy(t, reg.Host)
	cache := t.TempDir()
	args := []string{"pull", "--format", "squashfs", "--registry", proxy.URL(), "--cache", cache, "--insecure", "lab/many:1"}
	cmd := exec.Command(stagerBinary(t), args...)
	cmd.Env = append(os.Environ(), "PATH="+toolsDir()+":"+os.Getenv("PATH"))
	mustOK(t, cmd.Start())
	// Stop the stager as soon as files appear in its conversion directory.
	var converting string
	for deadline := time.Now().Add(2 * time.Minute); converting == "" && time.Now().Before(deadline); {
		if m, _ := filepath.Glob(filepath.Join(cache, "tmp/*/rootfs/files/*")); len(m) > 0 {
			converting = m[0]
			cmd.Process.Signal(syscall.SIGSTOP)
		}
	}
	if converting == "" {
		cmd.Process.Kill()
		t.Fatal("never saw the conversion start")
	}
	if m, _ := filepath.Glob(filepath.Join(cache, "images/*/image.squashfs")); len(m) != 0 {
		cmd.Process.Kill()
		t.Fatalf("the conversion had finished before the kill: %v", m)
	}
	mustOK(t, cmd.Process.Signal(syscall.SIGKILL))
	cmd.Wait()
	if m, _ := filepath.Glob(filepath.Join(cache, "tmp/*")); len(m) == 0 {
		t.Fatal("the killed conversion left nothing in tmp/: the kill came too late")
	}
	if _, errOut, err := stagerRun(t, nil, "gc", "--registry", proxy.URL(), "--cache", cache, "--insecure"); err != nil {
		t.Fatalf("gc: %v\n%s", err, errOut)
	}
	if m, _ := filepath.Glob(filepath.Join(cache, "tmp/*")); len(m) != 0 {
		t.Errorf("gc left the killed conversion's files: %v", m)
	}
	layer := imageLayers(t, reg.Host+"/lab/many:1")[0]
	before := proxy.bytesServed(layer)
	p := stagePath(t, nil, args...)
	if got := proxy.bytesServed(layer); got != before {
		t.Errorf("the restart downloaded the layer again: %d more bytes", got-before)
	}
	if list := run(t, "unsquashfs", "-l", p); strings.Count(list, "squashfs-root/files/") < 20000 {
		t.Errorf("squashfs lists %d files", strings.Count(list, "squashfs-root/files/"))
	}
	if m, _ := filepath.Glob(filepath.Join(cache, "tmp/*")); len(m) != 0 {
		t.Errorf("leftovers of the killed conversion: %v", m)
	}
}

// TestStagerRefusesMaliciousLayers: each bad layer fails the staging with
// a clear error and leaves nothing behind, in the cache or outside it.
func TestStagerRefusesMaliciousLayers(t *testing.T) {
	requireTool(t, "crane")
	reg := startRegistry(t, "")
	dir := t.TempDir()
	outside := t.TempDir()
	cases := map[string]struct {
		layer string
		want  string
	}{
		"traversal":       {writeLayer(t, dir, "trav", testlayers.File("../../../"+outside+"/evil", "x")), "escapes the root"},
		"symlink escape":  {writeLayer(t, dir, "sym", testlayers.Symlink("out", outside), testlayers.File("out/evil", "x")), "escapes the root"},
		"hardlink escape": {writeLayer(t, dir, "hard", testlayers.Hardlink("passwd", "../../../../etc/passwd")), "escapes the root"},
		"tar bomb":        {gzipBomb(t, dir, 64<<20), "limit"},
		"digest mismatch": {writeLayer(t, dir, "fine", testlayers.File("etc/fine", "fine\n")), "do not match the digest"},
	}
	proxy := newBlobProxy(t, reg.Host)
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			repo := "bad/" + strings.ReplaceAll(name, " ", "-")
			pushLayers(t, reg.Host+"/"+repo+":1", "", nil, c.layer)
			if name == "digest mismatch" {
				proxy.mu.Lock()
				proxy.corrupt = imageLayers(t, reg.Host+"/"+repo+":1")[0]
				proxy.mu.Unlock()
			}
			cache := t.TempDir()
			_, errOut, err := stagerRun(t, []string{"OYSTER_STAGER_MAX_LAYER_BYTES=1048576"}, "pull", "--format", "rootfs",
				"--registry", proxy.URL(), "--cache", cache, "--insecure", repo+":1")
			if err == nil || !strings.Contains(errOut, c.want) {
				t.Fatalf("stager pull: %v, stderr %q; want a failure saying %q", err, errOut, c.want)
			}
			if m, _ := filepath.Glob(filepath.Join(cache, "images/*/rootfs")); len(m) != 0 {
				t.Errorf("staged anyway: %v", m)
			}
			for _, d := range []string{"tmp", "blobs/partial", "blobs/sha256", "images"} {
				if m, _ := filepath.Glob(filepath.Join(cache, d, "*")); len(m) != 0 {
					t.Errorf("left behind in %s: %v", d, m)
				}
			}
			if entries, _ := os.ReadDir(outside); len(entries) != 0 {
				t.Errorf("written outside the cache: %v", entries)
			}
		})
	}
}

// TestStagerFollowsHubSelection: the daemon stages what a hub user just
// selected and reports it in its inventory.
func TestStagerFollowsHubSelection(t *testing.T) {
	requireTool(t, "crane")
	reg := startRegistry(t, "")
	sharedBaseImages(t, reg.Host)
	digest := digestOf(t, reg.Host+"/lab/b:1")
	waitRecord(t, reg.Host, "lab/b", digest)
	body, _ := json.Marshal(map[string]string{"ref": reg.Host + "/lab/b@" + digest})
	resp, err := http.Post("http://"+reg.Host+"/api/v1/hub/selections", "application/json", bytes.NewReader(body))
	mustOK(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("hub selection: %d", resp.StatusCode)
	}
	logs, inv := stageSquashfsDaemon(t, reg, digest, "", "", "OYSTER_STAGER_NODE=node-1", "OYSTER_STAGER_CLUSTER=hpc")
	if inv.Stagers[0].Node != "node-1" || inv.Stagers[0].Cluster != "hpc" {
		t.Fatalf("inventory %+v", inv)
	}
	m := regexp.MustCompile(`msg="stager serving" addr=(\S+)`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("the daemon did not log its address:\n%s", logs.String())
	}
	for path, want := range map[string]string{"/healthz": "ok", "/metrics": `oyster_stager_stage_total{format="squashfs",result="ok"} 1`} {
		resp, err := http.Get("http://" + m[1] + path)
		mustOK(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), want) {
			t.Errorf("daemon %s lacks %q:\n%s", path, want, b)
		}
	}
}

// TestComposeStager runs the compose file's stager service, built from the
// repository's Dockerfile, next to its registry: the daemon reports to the
// registry over the compose network, and a pull inside its container
// stages a runnable root filesystem.
func TestComposeStager(t *testing.T) {
	c := newComposeProject(t)
	t.Cleanup(func() { c.composeErr("--profile", "stager", "down", "-v") })
	c.compose(t, "--profile", "stager", "up", "-d", "--build")
	c.up(t)
	pushLayers(t, c.host+"/lab/c:1", "", nil, writeLayer(t, t.TempDir(), "c", busyboxEntry(t), testlayers.File("etc/marker", "staged in compose\n")))

	var inv api.StagerList
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline) && len(inv.Stagers) == 0; time.Sleep(250 * time.Millisecond) {
		if resp, err := http.Get("http://" + c.host + "/api/v1/stagers"); err == nil {
			json.NewDecoder(resp.Body).Decode(&inv)
			resp.Body.Close()
		}
	}
	if len(inv.Stagers) != 1 || inv.Stagers[0].Node != "compose-node" {
		logs, _ := c.composeErr("--profile", "stager", "logs", "stager")
		t.Fatalf("the compose stager never reported: %+v\n%s", inv, logs)
	}

	inStager := func(args ...string) string {
		return c.compose(t, append([]string{"--profile", "stager", "exec", "-T", "stager"}, args...)...)
	}
	out := inStager("/usr/local/bin/stager", "pull", "--format", "rootfs", "lab/c:1")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	rootfs := lines[len(lines)-1]
	if !strings.HasPrefix(rootfs, "/var/cache/oyster-stager/images/") {
		t.Fatalf("stager pull in the container printed %q", out)
	}
	if got := inStager(rootfs+"/bin/busybox", "cat", rootfs+"/etc/marker"); strings.TrimSpace(got) != "staged in compose" {
		t.Errorf("the staged rootfs's busybox printed %q", got)
	}
}

// TestStagerFullDisk: a cache on a small filesystem fills up during a
// download, then during a conversion; each staging fails saying so and
// frees its temporary files.
func TestStagerFullDisk(t *testing.T) {
	requireTool(t, "crane")
	reg := startRegistry(t, "")
	dir := t.TempDir()
	pushLayers(t, reg.Host+"/lab/eight:1", "", nil, randomLayer(t, dir, 8<<20))
	pushLayers(t, reg.Host+"/lab/two:1", "", nil, randomLayer(t, dir, 2<<20))
	cache := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", cache).CombinedOutput(); err != nil {
		t.Fatalf("mounting a 3 MiB tmpfs (the test runs as root, as install-test-deps does): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", cache).Run() })
	for _, c := range []struct{ ref, format string }{{"lab/eight:1", "oci"}, {"lab/two:1", "rootfs"}} {
		_, errOut, err := stagerRun(t, nil, "pull", "--format", c.format, "--registry", "http://"+reg.Host, "--cache", cache, "--insecure", c.ref)
		if err == nil || !strings.Contains(errOut, "no space left on device") {
			t.Fatalf("stager pull %s on a full disk: %v, stderr %q", c.ref, err, errOut)
		}
		for _, d := range []string{"tmp/*", "blobs/partial/*", "images/*/" + c.format} {
			if m, _ := filepath.Glob(filepath.Join(cache, d)); len(m) != 0 {
				t.Errorf("%s: left behind %v", c.ref, m)
			}
		}
	}
}

// TestStagerWithRobotToken runs the stager daemon against a registry with
// auth on and namespace lab private, lab/secret:1 pinned for every
// cluster: anonymous callers' staging list leaves it out; the daemon,
// configured with a robot token that may pull lab (registry.username and
// registry.password), gets it on its list, pulls it through the realm's
// tokens, stages it and reports its inventory.
func TestStagerWithRobotToken(t *testing.T) {
	requireTool(t, "crane")
	htpasswd := authtest.WriteHtpasswd(t, t.TempDir(), authUsers)
	reg := startRegistry(t, "", "OYSTER_AUTH_HTPASSWD_PATH="+htpasswd, "OYSTER_AUTH_PRIVATE_NAMESPACES=lab", "OYSTER_STAGE_PINS=lab/secret:1")
	admin := []string{"DOCKER_CONFIG=" + t.TempDir()}
	mustEnv(t, admin, "crane", "auth", "login", reg.Host, "-u", "admin", "-p", authUsers["admin"])
	ref := reg.Host + "/lab/secret:1"
	mustEnv(t, admin, "crane", "append", "--insecure", "--oci-empty-base", "-f", busyboxLayer(t, t.TempDir(), "secret"), "-t", ref)
	out := strings.Fields(mustEnv(t, admin, "crane", "digest", "--insecure", ref))
	digest := out[len(out)-1]
	token := robotToken(t, reg, "stager-gpu", "lab:pull")

	list := func(user, password string) api.StageList {
		req, _ := http.NewRequest(http.MethodGet, "http://"+reg.Host+"/api/v1/stage?cluster=gpu", nil)
		if user != "" {
			req.SetBasicAuth(user, password)
		}
		resp, err := http.DefaultClient.Do(req)
		mustOK(t, err)
		defer resp.Body.Close()
		var l api.StageList
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&l) != nil {
			t.Fatalf("staging list as %q: %d", user, resp.StatusCode)
		}
		return l
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && len(list("stager-gpu", token).Images) == 0; time.Sleep(100 * time.Millisecond) {
	}
	if l := list("stager-gpu", token); len(l.Images) != 1 || l.Images[0].Digest.String() != digest {
		t.Fatalf("the robot's staging list: %+v, want lab/secret@%s", l, digest)
	}
	if l := list("", ""); len(l.Images) != 0 {
		t.Fatalf("an anonymous staging list holds %+v", l.Images)
	}

	logs, inv := stageSquashfsDaemon(t, reg, digest, "stager-gpu", token, "OYSTER_STAGER_NODE=gpu-1", "OYSTER_STAGER_CLUSTER=gpu",
		"OYSTER_STAGER_REGISTRY_USERNAME=stager-gpu", "OYSTER_STAGER_REGISTRY_PASSWORD="+token)
	if inv.Stagers[0].Node != "gpu-1" {
		t.Fatalf("inventory %+v\n%s", inv, logs.String())
	}
	checkNoSecrets(t, reg, token)
	if strings.Contains(logs.String(), token) {
		t.Error("the stager's log holds its token")
	}
}

// stageSquashfsDaemon runs `stager serve` (squashfs, polling fast) with
// env against reg until it has staged digest and its inventory, read
// with the user's credentials ("" for none), lists that one image; it
// returns the daemon's log and that inventory.
func stageSquashfsDaemon(t *testing.T, reg *registryProc, digest, user, password string, env ...string) (*bytes.Buffer, api.StagerList) {
	t.Helper()
	cache := t.TempDir()
	cmd := exec.Command(stagerBinary(t), "serve", "--registry", "http://"+reg.Host, "--cache", cache, "--insecure")
	cmd.Env = append(append(os.Environ(), "PATH="+toolsDir()+":"+os.Getenv("PATH"),
		"OYSTER_STAGER_FORMATS=squashfs", "OYSTER_STAGER_POLL_INTERVAL=200ms", "OYSTER_STAGER_ADDR=127.0.0.1:0"), env...)
	logs := &bytes.Buffer{}
	cmd.Stderr = logs
	mustOK(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	staged := filepath.Join(cache, "images", strings.TrimPrefix(digest, "sha256:"), "image.squashfs")
	var inv api.StagerList
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		inv = api.StagerList{}
		req, _ := http.NewRequest(http.MethodGet, "http://"+reg.Host+"/api/v1/stagers", nil)
		if user != "" {
			req.SetBasicAuth(user, password)
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			json.NewDecoder(resp.Body).Decode(&inv)
			resp.Body.Close()
		}
		if _, err := os.Stat(staged); err == nil && len(inv.Stagers) == 1 && len(inv.Stagers[0].Images) == 1 {
			break
		}
	}
	if _, err := os.Stat(staged); err != nil {
		t.Fatalf("the image was not staged: %v\n%s", err, logs.String())
	}
	if len(inv.Stagers) != 1 || len(inv.Stagers[0].Images) != 1 || inv.Stagers[0].Images[0].Digest.String() != digest {
		t.Fatalf("inventory %+v\n%s", inv, logs.String())
	}
	return logs, inv
}
