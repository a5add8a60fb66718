package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// s3Gateway is a running versitygw: the environment that points the
// registry's s3 driver at it, and the directory its bucket's objects are
// files in.
type s3Gateway struct {
	env       []string
	bucketDir string
}

// startS3 runs versitygw, an S3-compatible gateway, over a temporary
// directory on a free loopback port.
func startS3(t *testing.T) s3Gateway {
	t.Helper()
	gw := requireTool(t, "versitygw")
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "oyster"), 0o755); err != nil { // the bucket
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(gw, "--port", addr, "--access", "oysterkey", "--secret", "oystersecret", "posix", root)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw did not listen on %s", addr)
		}
	}
	env := []string{
		"OYSTER_STORAGE_DRIVER=s3", "OYSTER_STORAGE_S3_BUCKET=oyster", "OYSTER_STORAGE_S3_ENDPOINT=http://" + addr,
		"OYSTER_STORAGE_S3_ACCESSKEY=oysterkey", "OYSTER_STORAGE_S3_SECRETKEY=oystersecret",
		"OYSTER_STORAGE_S3_FORCEPATHSTYLE=true", "OYSTER_STORAGE_S3_SECURE=false",
	}
	return s3Gateway{env: env, bucketDir: filepath.Join(root, "oyster")}
}

// objectDigests returns the sha256 digests of every object in the bucket.
func (g s3Gateway) objectDigests(t *testing.T) map[string]bool {
	t.Helper()
	found := map[string]bool{}
	err := filepath.WalkDir(g.bucketDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return err
		}
		found["sha256:"+hex.EncodeToString(h.Sum(nil))] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// TestS3RoundTrip pushes and pulls through a registry on S3 storage and
// checks the blobs really live in the object store: the bucket holds an
// object with each layer's and the config's content, and the local
// filesystem storage is not used.
func TestS3RoundTrip(t *testing.T) {
	requireTool(t, "crane")
	s3 := startS3(t)
	reg := startRegistry(t, "", s3.env...)
	ref := reg.Host + "/s3/busybox:1"
	dgst := pushImage(t, ref, "linux/amd64")
	if got := digestOf(t, ref); got != dgst {
		t.Fatalf("digest %s after push, %s after pull", dgst, got)
	}
	out := filepath.Join(t.TempDir(), "img.tar")
	run(t, "crane", "pull", "--insecure", ref, out)

	var manifest struct {
		Config struct{ Digest string }
		Layers []struct{ Digest string }
	}
	if err := json.Unmarshal([]byte(run(t, "crane", "manifest", "--insecure", ref)), &manifest); err != nil {
		t.Fatal(err)
	}
	blobs := append(layerDigests(manifest.Layers), manifest.Config.Digest, dgst)
	objects := s3.objectDigests(t)
	for _, b := range blobs {
		if !objects[b] {
			t.Errorf("no object in the bucket holds %s (%d objects)", b, len(objects))
		}
	}
	if _, err := os.Stat(filepath.Join(reg.Data, "registry")); err == nil {
		t.Fatal("the s3 driver wrote to the local filesystem storage")
	}
}
