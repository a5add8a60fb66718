package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	library "github.com/apptainer/container-library-client/client"
	sylabs "github.com/sylabs/sif/v2/pkg/sif"

	"github.com/oyster-registry/oyster/auth/authtest"
	"github.com/oyster-registry/oyster/auth/oidctest"
	"github.com/oyster-registry/oyster/internal/testlayers"
)

// libraryClient is the client library apptainer itself uses for
// library://, pointed at the registry.
func libraryClient(t *testing.T, host string) *library.Client {
	t.Helper()
	c, err := library.NewClient(&library.Config{BaseURL: "http://" + host})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// pushSIF pushes file to library://path:tag for arch with the client.
func pushSIF(t *testing.T, c *library.Client, file []byte, path, arch, tag string) {
	t.Helper()
	if _, err := c.UploadImage(context.Background(), bytes.NewReader(file), "library://"+path, arch, []string{tag}, "pushed by the test", nil); err != nil {
		t.Fatalf("push %s:%s (%s): %v", path, tag, arch, err)
	}
}

// pullSIF pulls path:tag for arch the way apptainer does (concurrent
// ranged parts after the redirect) and returns the bytes.
func pullSIF(t *testing.T, c *library.Client, path, tag, arch string) ([]byte, error) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "pull-*.sif")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	spec := &library.Downloader{Concurrency: 3, PartSize: 64 << 10, BufferSize: 32 << 10}
	if err := c.ConcurrentDownloadImage(context.Background(), f, arch, path, tag, spec, nil); err != nil {
		return nil, err
	}
	return os.ReadFile(f.Name())
}

func mustPull(t *testing.T, c *library.Client, path, tag, arch string, want []byte) {
	t.Helper()
	got, err := pullSIF(t, c, path, tag, arch)
	if err != nil {
		t.Fatalf("pull %s:%s (%s): %v", path, tag, arch, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("pull %s:%s (%s): %d bytes differ from the %d pushed", path, tag, arch, len(got), len(want))
	}
}

// libraryGet GETs a Library API path and decodes its data into v (when
// not nil); it returns the status.
func libraryGet(t *testing.T, host, path string, v any) int {
	t.Helper()
	var body any
	if v != nil {
		body = &struct{ Data any }{v}
	}
	return libraryGetRaw(t, host, path, body)
}

// libraryGetRaw GETs path and decodes the body into v (when not nil); it
// returns the status.
func libraryGetRaw(t *testing.T, host, path string, v any) int {
	t.Helper()
	resp, err := http.Get("http://" + host + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil && resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	return resp.StatusCode
}

// libraryCall sends a request with a body and returns the status and the
// error message of a failure.
func libraryCall(t *testing.T, method, url string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var e struct{ Error struct{ Message string } }
	_ = json.Unmarshal(raw, &e)
	if resp.StatusCode == http.StatusOK {
		return resp.StatusCode, string(raw)
	}
	return resp.StatusCode, e.Error.Message
}

// lammpsSIF is a SIF as `apptainer build` makes one, holding dpkg and
// Python packages the catalog indexes.
func lammpsSIF(t *testing.T) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "lammps.sif")
	writeSystemSIF(t, path)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// bigSIF is a SIF over 64 MiB, which the client uploads in parts.
func bigSIF(t *testing.T) []byte {
	t.Helper()
	return testlayers.SIF(t, time.Now(), testlayers.DefFile("Bootstrap: docker\nFrom: busybox\n"),
		testlayers.SIFObject{Type: sylabs.DataGeneric, Data: bytes.Repeat([]byte("big oyster "), 7<<20)})
}

// TestLibraryAPI drives the Library API with apptainer's client library:
// discovery, push (single request and multi-part), pull byte-identical
// by tag and architecture, tags, search by name and by package, delete;
// oras sees the same image.
func TestLibraryAPI(t *testing.T) {
	requireTool(t, "oras")
	reg := startRegistry(t, "")
	h := reg.Host
	c := libraryClient(t, h)
	ctx := context.Background()

	var conf map[string]map[string]string
	resp, err := http.Get("http://" + h + "/assets/config/config.prod.json")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&conf)
	resp.Body.Close()
	if conf["libraryAPI"]["uri"] != "http://"+h || conf["tokenAPI"]["uri"] != "http://"+h {
		t.Fatalf("config.prod.json: %v", conf)
	}
	if v, err := c.GetVersion(ctx); err != nil || v.APIVersion != "2.0.0" {
		t.Fatalf("version: %+v %v", v, err)
	}
	if code := libraryGet(t, h, "/v1/token-status", nil); code != http.StatusOK {
		t.Fatalf("token-status: %d", code)
	}

	amd := lammpsSIF(t)
	arm := writeSIF(t, filepath.Join(t.TempDir(), "arm.sif"))
	pushSIF(t, c, amd, "lab/hpc/lammps", "amd64", "stable")
	pushSIF(t, c, arm, "lab/hpc/lammps", "arm64", "stable")
	mustPull(t, c, "lab/hpc/lammps", "stable", "amd64", amd)
	mustPull(t, c, "lab/hpc/lammps", "stable", "arm64", arm)
	if _, err := pullSIF(t, c, "lab/hpc/lammps", "stable", "ppc64le"); err == nil {
		t.Fatal("pulled an architecture that was never pushed")
	}
	var one bytes.Buffer
	if err := c.DownloadImage(ctx, &one, "amd64", "lab/hpc/lammps", "stable", nil); err != nil || !bytes.Equal(one.Bytes(), amd) {
		t.Fatalf("single-stream pull: %v (%d bytes)", err, one.Len())
	}

	var tags map[string]map[string]string
	if code := libraryGet(t, h, "/v2/tags/lab~hpc~lammps", &tags); code != http.StatusOK {
		t.Fatalf("tags: %d", code)
	}
	if tags["amd64"]["stable"] != "lab~hpc~lammps@sha256."+sha256Digest(amd)[7:] || tags["arm64"]["stable"] == "" {
		t.Fatalf("arch tags: %v", tags)
	}
	img, err := c.GetImage(ctx, "amd64", "lab/hpc/lammps:stable")
	if err != nil || img.Size != int64(len(amd)) || img.Hash != "sha256."+sha256Digest(amd)[7:] {
		t.Fatalf("image: %+v %v", img, err)
	}

	// oras:// sees the same image: a single-architecture tag is one
	// manifest with apptainer's SIF media types.
	pushSIF(t, c, amd, "lab/hpc/lammps", "amd64", "single")
	mustPull(t, c, "lab/hpc/lammps", "single", "amd64", amd)
	waitPulls(t, h, "lab/hpc/lammps:single", 1) // the catalog counts library pulls
	out := t.TempDir()
	run(t, "oras", "pull", "--plain-http", "-o", out, h+"/lab/hpc/lammps:single")
	if got, _ := os.ReadFile(filepath.Join(out, "lammps_single.sif")); !bytes.Equal(got, amd) {
		t.Fatalf("oras pull gave %d bytes, not the %d pushed", len(got), len(amd))
	}

	// and an image pushed with oras (config "{}", no architecture) pulls
	// with library://, by its two-segment path
	t.Chdir(t.TempDir())
	write(t, "config.json", "{}")
	if err := os.WriteFile("tool.sif", arm, 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, "oras", "push", "--plain-http", h+"/hpc/tool:1.0",
		"--config", "config.json:application/vnd.sylabs.sif.config.v1+json", "tool.sif:application/vnd.sylabs.sif.layer.v1.sif")
	mustPull(t, c, "hpc/tool", "1.0", "amd64", arm)

	// over 64 MiB the client uploads in parts
	var clientLog logRecorder
	big := bigSIF(t)
	bigClient, err := library.NewClient(&library.Config{BaseURL: "http://" + h, Logger: &clientLog})
	if err != nil {
		t.Fatal(err)
	}
	pushSIF(t, bigClient, big, "lab/hpc/big", "amd64", "v1")
	if !strings.Contains(clientLog.String(), "Uploaded 2 parts") {
		t.Fatalf("the client did not upload in parts:\n%s", clientLog.String())
	}
	mustPull(t, c, "lab/hpc/big", "v1", "amd64", big)

	amdID := "lab~hpc~lammps@sha256." + sha256Digest(amd)[7:]
	armID := "lab~hpc~lammps@sha256." + sha256Digest(arm)[7:]
	librarySearch(t, c, map[string]string{"value": "lammps"}, amdID)
	librarySearch(t, c, map[string]string{"value": "mpi4py"}, amdID)
	librarySearch(t, c, map[string]string{"value": "libopenmpi3"}, amdID)
	if ids := librarySearch(t, c, map[string]string{"value": "lammps", "arch": "arm64"}, armID); slices.Contains(ids, amdID) {
		t.Fatalf("search for arm64 found the amd64 image: %v", ids)
	}
	if _, err := c.Search(ctx, map[string]string{"value": "lammps", "signed": "true"}); err == nil || !strings.Contains(err.Error(), "does not verify SIF signatures") {
		t.Fatalf("search for signed images: %v", err)
	}
	var docker struct{ Results []struct{ Name string } }
	resp, err = http.Get("http://" + h + "/v1/search?q=lammps")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&docker)
	resp.Body.Close()
	if len(docker.Results) == 0 || docker.Results[0].Name != "lab/hpc/lammps" {
		t.Fatalf("docker search on the same path: %+v", docker)
	}

	if err := c.DeleteImage(ctx, "lab/hpc/lammps:stable", "arm64"); err != nil {
		t.Fatal(err)
	}
	if _, err := pullSIF(t, c, "lab/hpc/lammps", "stable", "arm64"); err == nil {
		t.Fatal("deleted arm64 image still pulls")
	}
	mustPull(t, c, "lab/hpc/lammps", "stable", "amd64", amd)
	if err := c.DeleteImage(ctx, "lab/hpc/lammps:stable", "amd64"); err != nil {
		t.Fatal(err)
	}
	if _, err := pullSIF(t, c, "lab/hpc/lammps", "stable", "amd64"); err == nil {
		t.Fatal("deleted image still pulls")
	}
}

// librarySearch waits for the catalog to index the pushes until
// `apptainer search` with args lists image ID want, and returns the IDs it
// lists.
func librarySearch(t *testing.T, c *library.Client, args map[string]string, want string) []string {
	t.Helper()
	var ids []string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		res, err := c.Search(context.Background(), args)
		if err != nil {
			t.Fatalf("search %v: %v", args, err)
		}
		ids = ids[:0]
		for _, img := range res.Images {
			ids = append(ids, img.ID)
		}
		if slices.Contains(ids, want) {
			return ids
		}
	}
	t.Fatalf("search %v: got %v, want %s", args, ids, want)
	return nil
}

// logRecorder keeps what the client library logs.
type logRecorder struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *logRecorder) Log(v ...any) { l.Logf("%s", fmt.Sprint(v...)) }
func (l *logRecorder) Logf(format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(&l.buf, format+"\n", v...)
}
func (l *logRecorder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// createContainer makes entity/collection/container through the API, as
// the client does before its first push.
func createContainer(t *testing.T, h, entity, collection, container string) {
	t.Helper()
	for _, step := range []struct{ path, body string }{
		{"/v1/entities", fmt.Sprintf(`{"name":%q}`, entity)},
		{"/v1/collections", fmt.Sprintf(`{"name":%q,"entity":%q}`, collection, entity)},
		{"/v1/containers", fmt.Sprintf(`{"name":%q,"collection":%q}`, container, entity+"~"+collection)},
	} {
		if code, msg := libraryCall(t, http.MethodPost, "http://"+h+step.path, []byte(step.body)); code != http.StatusOK {
			t.Fatalf("POST %s: %d %s", step.path, code, msg)
		}
	}
}

// nothingVisible checks that repo has no tag and no blob of data, over
// /v2/ and over library://.
func nothingVisible(t *testing.T, h, repo string, data ...[]byte) {
	t.Helper()
	var tags struct{ Tags []string }
	if code := libraryGetRaw(t, h, "/v2/"+repo+"/tags/list", &tags); code != http.StatusNotFound && len(tags.Tags) > 0 {
		t.Fatalf("%s has tags %v", repo, tags.Tags)
	}
	for _, d := range data {
		req, _ := http.NewRequest(http.MethodHead, "http://"+h+"/v2/"+repo+"/blobs/"+sha256Digest(d), nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("blob %s of %s: %d, want 404", sha256Digest(d), repo, resp.StatusCode)
		}
	}
	if code := libraryGet(t, h, "/v1/imagefile/"+repo+":latest", nil); code != http.StatusNotFound {
		t.Fatalf("library pull of %s: %d, want 404", repo, code)
	}
}

// TestLibraryBadInput: a push whose bytes do not match its hash, a
// truncated multi-part upload, an unknown entity and refs with "..": each
// a clear error, and nothing visible.
func TestLibraryBadInput(t *testing.T) {
	reg := startRegistry(t, "")
	h := reg.Host
	base := "http://" + h
	createContainer(t, h, "lab", "sci", "bad")
	claimed, sent := []byte("the SIF the client announced"), []byte("other bytes, sent instead")
	id := "lab~sci~bad@sha256." + sha256Digest(claimed)[7:]

	code, msg := libraryCall(t, http.MethodPost, base+"/v2/imagefile/"+id, []byte(fmt.Sprintf(`{"filesize":%d}`, len(sent))))
	if code != http.StatusOK {
		t.Fatalf("start upload: %d %s", code, msg)
	}
	var start struct{ Data struct{ UploadURL string } }
	json.Unmarshal([]byte(msg), &start)
	if code, msg = libraryCall(t, http.MethodPut, start.Data.UploadURL, sent); code != http.StatusBadRequest || !strings.Contains(msg, "DIGEST_INVALID") {
		t.Fatalf("upload of mismatched bytes: %d %q, want 400 DIGEST_INVALID", code, msg)
	}
	if code, msg = libraryCall(t, http.MethodPost, base+"/v2/tags/lab~sci~bad", []byte(`{"Arch":"amd64","Tag":"latest","ImageID":"`+id+`"}`)); code != http.StatusNotFound || !strings.Contains(msg, "not been uploaded") {
		t.Fatalf("tagging the refused upload: %d %q", code, msg)
	}
	nothingVisible(t, h, "lab/sci/bad", claimed, sent)

	// a multi-part upload completed with a part missing, and one whose
	// part is shorter than announced
	for _, send := range []int{0, 500} {
		code, msg = libraryCall(t, http.MethodPost, base+"/v2/imagefile/"+id+"/_multipart", []byte(`{"filesize":1000}`))
		var mp struct{ Data struct{ UploadID string } }
		json.Unmarshal([]byte(msg), &mp)
		if code != http.StatusOK || mp.Data.UploadID == "" {
			t.Fatalf("start multi-part: %d %s", code, msg)
		}
		code, msg = libraryCall(t, http.MethodPut, base+"/v2/imagefile/"+id+"/_multipart", []byte(`{"partSize":1000,"partNumber":1,"uploadID":"`+mp.Data.UploadID+`"}`))
		var part struct{ Data struct{ PresignedURL string } }
		json.Unmarshal([]byte(msg), &part)
		if code != http.StatusOK {
			t.Fatalf("announce part: %d %s", code, msg)
		}
		if send > 0 {
			code, msg = libraryCall(t, http.MethodPut, part.Data.PresignedURL, bytes.Repeat([]byte("x"), send))
			if code != http.StatusBadRequest || !strings.Contains(msg, "is 1000 bytes, not 500") {
				t.Fatalf("short part: %d %q", code, msg)
			}
			continue
		}
		code, msg = libraryCall(t, http.MethodPut, base+"/v2/imagefile/"+id+"/_multipart_complete", []byte(`{"uploadID":"`+mp.Data.UploadID+`"}`))
		if code != http.StatusBadRequest || !strings.Contains(msg, "upload incomplete: 0 of 1000 bytes") {
			t.Fatalf("truncated multi-part upload: %d %q", code, msg)
		}
	}
	nothingVisible(t, h, "lab/sci/bad", claimed)

	c := libraryClient(t, h)
	if code := libraryGet(t, h, "/v1/entities/nobody", nil); code != http.StatusNotFound {
		t.Fatalf("unknown entity: %d", code)
	}
	if code, msg = libraryCall(t, http.MethodPost, base+"/v1/collections", []byte(`{"name":"x","entity":"nobody"}`)); code != http.StatusNotFound || !strings.Contains(msg, "nobody not found") {
		t.Fatalf("collection in an unknown entity: %d %q", code, msg)
	}
	if _, err := pullSIF(t, c, "nobody/x/y", "latest", "amd64"); err == nil {
		t.Fatal("pulled from an unknown entity")
	}
	if code := libraryGet(t, h, "/v1/collections/nobody/x", nil); code != http.StatusNotFound {
		t.Fatalf("a refused collection exists: %d", code)
	}

	for _, path := range []string{"/v1/imagefile/lab/../etc:latest", "/v1/images/lab/sci/%2e%2e:latest", "/v1/containers/lab/sci/..", "/v2/tags/lab~..~bad"} {
		code, msg := libraryCall(t, http.MethodGet, base+path, nil)
		if code != http.StatusBadRequest || !strings.Contains(msg, "..") {
			t.Fatalf("GET %s: %d %q, want 400 naming ..", path, code, msg)
		}
	}
	if code, msg = libraryCall(t, http.MethodPost, base+"/v1/entities", []byte(`{"name":".."}`)); code != http.StatusBadRequest {
		t.Fatalf("entity named ..: %d %q", code, msg)
	}
}

// TestLibraryKillMidMultipart kills the registry with SIGKILL between the
// parts of a multi-part push: after a restart nothing of it is visible and
// the upload is gone.
func TestLibraryKillMidMultipart(t *testing.T) {
	data := t.TempDir()
	reg := startRegistry(t, data)
	base := "http://" + reg.Host
	createContainer(t, reg.Host, "lab", "sci", "crash")
	sif := bigSIF(t)
	id := "lab~sci~crash@sha256." + sha256Digest(sif)[7:]
	code, msg := libraryCall(t, http.MethodPost, base+"/v2/imagefile/"+id+"/_multipart", []byte(fmt.Sprintf(`{"filesize":%d}`, len(sif))))
	var mp struct {
		Data struct {
			UploadID   string
			TotalParts int
			PartSize   int
		}
	}
	json.Unmarshal([]byte(msg), &mp)
	if code != http.StatusOK || mp.Data.TotalParts != 2 {
		t.Fatalf("start multi-part: %d %s", code, msg)
	}
	code, msg = libraryCall(t, http.MethodPut, base+"/v2/imagefile/"+id+"/_multipart", []byte(fmt.Sprintf(`{"partSize":%d,"partNumber":1,"uploadID":%q}`, mp.Data.PartSize, mp.Data.UploadID)))
	var part struct{ Data struct{ PresignedURL string } }
	json.Unmarshal([]byte(msg), &part)
	if code != http.StatusOK {
		t.Fatalf("announce part 1: %d %s", code, msg)
	}
	if code, msg = libraryCall(t, http.MethodPut, part.Data.PresignedURL, sif[:mp.Data.PartSize]); code != http.StatusOK {
		t.Fatalf("part 1: %d %s", code, msg)
	}
	reg.Kill()

	reg = startRegistry(t, data)
	base = "http://" + reg.Host
	nothingVisible(t, reg.Host, "lab/sci/crash", sif)
	var ctr library.Container
	if code := libraryGet(t, reg.Host, "/v1/containers/lab/sci/crash", &ctr); code != http.StatusOK || len(ctr.Images) != 0 {
		t.Fatalf("the container created before the kill: %d %+v", code, ctr)
	}
	code, msg = libraryCall(t, http.MethodPut, base+"/v2/imagefile/"+id+"/_multipart_complete", []byte(`{"uploadID":"`+mp.Data.UploadID+`"}`))
	if code != http.StatusNotFound || !strings.Contains(msg, "no upload") {
		t.Fatalf("completing the killed upload after restart: %d %q", code, msg)
	}
	nothingVisible(t, reg.Host, "lab/sci/crash", sif)
}

// TestLibraryAuth drives the Library API of the registry binary with auth
// on and namespace lab private, as `apptainer remote login` with a robot
// token leaves the client: token-status, a push in one request and one in
// parts (whose parts the client sends without its token) to lab, a push
// to another namespace refused, lab's images pulled byte-identical by the
// robot and refused to anonymous callers, and an anonymous search that
// finds the public image and not lab's.
func TestLibraryAuth(t *testing.T) {
	reg := startRegistry(t, "", "OYSTER_AUTH_HTPASSWD_PATH="+authtest.WriteHtpasswd(t, t.TempDir(), authUsers), "OYSTER_AUTH_PRIVATE_NAMESPACES=lab")
	h := reg.Host
	labToken := robotToken(t, reg, "lab-ci", "lab:pull,push")
	pubToken := robotToken(t, reg, "pub-ci", "pub:pull,push")
	tokenClient := func(token string) *library.Client {
		c, err := library.NewClient(&library.Config{BaseURL: "http://" + h, AuthToken: token})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	lab, pub, anonymous := tokenClient(labToken), tokenClient(pubToken), libraryClient(t, h)

	for token, want := range map[string]int{labToken: http.StatusOK, labToken + "0": http.StatusUnauthorized, "": http.StatusUnauthorized} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+h+"/v1/token-status", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("token-status with a token of %d characters: %d, want %d", len(token), resp.StatusCode, want)
		}
	}

	private, public, big := lammpsSIF(t), writeSIF(t, filepath.Join(t.TempDir(), "public.sif")), bigSIF(t)
	pushSIF(t, lab, private, "lab/hpc/lammps", "amd64", "1")
	pushSIF(t, lab, big, "lab/hpc/big", "amd64", "1")
	pushSIF(t, pub, public, "pub/hpc/lammps", "amd64", "1")
	if _, err := lab.UploadImage(context.Background(), bytes.NewReader(private), "library://pub/hpc/stolen", "amd64", []string{"1"}, "", nil); err == nil {
		t.Error("the lab robot pushed to pub")
	}
	mustPull(t, lab, "lab/hpc/lammps", "1", "amd64", private)
	mustPull(t, lab, "lab/hpc/big", "1", "amd64", big)
	mustPull(t, anonymous, "pub/hpc/lammps", "1", "amd64", public)
	for who, c := range map[string]*library.Client{"anonymous": anonymous, "the pub robot": pub} {
		if _, err := pullSIF(t, c, "lab/hpc/lammps", "1", "amd64"); err == nil {
			t.Errorf("%s pulled lab's private image", who)
		}
	}

	labID := "lab~hpc~lammps@sha256." + sha256Digest(private)[7:]
	pubID := "pub~hpc~lammps@sha256." + sha256Digest(public)[7:]
	librarySearch(t, lab, map[string]string{"value": "lammps"}, labID)
	if ids := librarySearch(t, anonymous, map[string]string{"value": "lammps"}, pubID); slices.Contains(ids, labID) {
		t.Errorf("anonymous search found lab's private image: %v", ids)
	}
	checkNoSecrets(t, reg, labToken, pubToken)
}

// TestLibraryOIDCToken: `apptainer remote login` with an OIDC access token
// (opaque, as Globus Auth issues them, from an in-process provider): a
// member of group namespace lab's writers pushes and pulls there; another
// user of the provider may not pull lab's private image.
func TestLibraryOIDCToken(t *testing.T) {
	p := oidctest.Start(t, oidctest.Options{})
	p.AddUser(oidctest.User{Username: "gwen", Groups: []string{"lab-writers"}})
	p.AddUser(oidctest.User{Username: "rita"})
	reg := startRegistry(t, "",
		"OYSTER_AUTH_OIDC_ISSUER="+p.Issuer, "OYSTER_AUTH_OIDC_AUDIENCE=oyster",
		"OYSTER_AUTH_OIDC_INTROSPECTION_CLIENT_ID="+p.IntrospectionClientID,
		"OYSTER_AUTH_OIDC_INTROSPECTION_CLIENT_SECRET="+p.IntrospectionSecret,
		"OYSTER_AUTH_NAMESPACES={lab: {private: true, groups: {lab-writers: write}}}")
	client := func(user string) (*library.Client, string) {
		token := p.Token(t, oidctest.Mint{User: user, Opaque: true, Lifetime: time.Hour})
		c, err := library.NewClient(&library.Config{BaseURL: "http://" + reg.Host, AuthToken: token})
		if err != nil {
			t.Fatal(err)
		}
		return c, token
	}
	gwen, gwenToken := client("gwen")
	rita, ritaToken := client("rita")
	req, _ := http.NewRequest(http.MethodGet, "http://"+reg.Host+"/v1/token-status", nil)
	req.Header.Set("Authorization", "Bearer "+gwenToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token-status with gwen's access token: %d", resp.StatusCode)
	}
	sif := writeSIF(t, filepath.Join(t.TempDir(), "lab.sif"))
	pushSIF(t, gwen, sif, "lab/hpc/tool", "amd64", "1")
	mustPull(t, gwen, "lab/hpc/tool", "1", "amd64", sif)
	if _, err := pullSIF(t, rita, "lab/hpc/tool", "1", "amd64"); err == nil {
		t.Error("rita, not in lab's groups, pulled lab's private image")
	}
	checkNoSecrets(t, reg, gwenToken, ritaToken)
}
