// Command pushfloor is the least a registry must do to accept a push: it
// receives each blob upload's body, hashes it with sha256 and writes it to
// a file, and answers everything else without work. It stores nothing a
// client could pull back and checks no digest; it exists to measure the
// floor of a push's CPU and time on a machine (docs/benchmarks.md), against
// which a real registry's figures can be read.
//
//	pushfloor -addr 127.0.0.1:5070 -dir /tmp/floor [-buf 32768] [-hash=false]
//
// crane push works against it: GET /v2/ answers 200, every HEAD 404 (so
// every blob is uploaded), POST starts an upload, PATCH receives the body,
// PUT completes an upload (the file is removed) or accepts a manifest.
package main

import (
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"hash"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:5070", "listen address")
	dir := flag.String("dir", "", "directory for the uploads' files (required)")
	bufSize := flag.Int("buf", 32<<10, "bytes read from the body at a time (distribution's io.Copy uses 32 KiB)")
	hashing := flag.Bool("hash", true, "hash the bodies with sha256 (false: to measure the hash's share)")
	flag.Parse()
	if *dir == "" || *bufSize < 1 {
		log.Fatal("pushfloor: -dir is required and -buf must be positive")
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		log.Fatal(err)
	}
	f := &floor{dir: *dir, bufSize: *bufSize, hashing: *hashing}
	log.Fatal(http.ListenAndServe(*addr, f))
}

type floor struct {
	dir     string
	bufSize int
	hashing bool
	uploads atomic.Int64
}

func (f *floor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	upload := strings.Contains(p, "/blobs/uploads/")
	switch {
	case p == "/v2/":
		w.WriteHeader(http.StatusOK)
	case r.Method == http.MethodHead:
		w.WriteHeader(http.StatusNotFound)
	case r.Method == http.MethodPost && upload:
		w.Header().Set("Location", fmt.Sprintf("%s%d", p, f.uploads.Add(1)))
		w.WriteHeader(http.StatusAccepted)
	case r.Method == http.MethodPatch && upload:
		if err := f.receive(r.Body, filepath.Join(f.dir, filepath.Base(p))); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Location", p)
		w.WriteHeader(http.StatusAccepted)
	case r.Method == http.MethodPut && upload:
		_ = os.Remove(filepath.Join(f.dir, filepath.Base(p)))
		w.WriteHeader(http.StatusCreated)
	case r.Method == http.MethodPut:
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusCreated)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

// receive is the whole of the work: read, hash, write.
func (f *floor) receive(body io.Reader, name string) error {
	out, err := os.Create(name)
	if err != nil {
		return err
	}
	var h hash.Hash = sha256.New()
	buf := make([]byte, f.bufSize)
	for {
		n, rerr := io.ReadFull(body, buf)
		if f.hashing {
			h.Write(buf[:n])
		}
		if _, err := out.Write(buf[:n]); err != nil {
			out.Close()
			return err
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			return out.Close()
		}
		if rerr != nil {
			out.Close()
			return rerr
		}
	}
}
