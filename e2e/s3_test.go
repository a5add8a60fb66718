package e2e

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// startS3 runs versitygw, an S3-compatible gateway, over a temporary
// directory on a free loopback port, and returns the environment that
// points the registry's s3 driver at it.
func startS3(t *testing.T) []string {
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
	return []string{
		"OYSTER_STORAGE_DRIVER=s3", "OYSTER_STORAGE_S3_BUCKET=oyster", "OYSTER_STORAGE_S3_ENDPOINT=http://" + addr,
		"OYSTER_STORAGE_S3_ACCESSKEY=oysterkey", "OYSTER_STORAGE_S3_SECRETKEY=oystersecret",
		"OYSTER_STORAGE_S3_FORCEPATHSTYLE=true", "OYSTER_STORAGE_S3_SECURE=false",
	}
}

// TestS3RoundTrip pushes and pulls through a registry on S3 storage and
// checks the blobs really live in the object store.
func TestS3RoundTrip(t *testing.T) {
	requireTool(t, "crane")
	env := startS3(t)
	reg := startRegistry(t, "", env...)
	dgst := pushImage(t, reg.Host+"/s3/busybox:1", "linux/amd64")
	if got := digestOf(t, reg.Host+"/s3/busybox:1"); got != dgst {
		t.Fatalf("digest %s after push, %s after pull", dgst, got)
	}
	out := filepath.Join(t.TempDir(), "img.tar")
	run(t, "crane", "pull", "--insecure", reg.Host+"/s3/busybox:1", out)
	if _, err := os.Stat(filepath.Join(reg.Data, "registry")); err == nil {
		t.Fatal("the s3 driver wrote to the local filesystem storage")
	}
}
