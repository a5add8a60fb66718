package scan_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/oyster-registry/oyster/catalog"
	"github.com/oyster-registry/oyster/catalog/scan"
	"github.com/oyster-registry/oyster/oci"
)

// benchLayer writes (once, cached under .cache/bench) a gzip layer of
// 1 GiB uncompressed: many files of mixed text and random bytes, and the
// package databases a real image has.
func benchLayer(b *testing.B) string {
	b.Helper()
	dir := filepath.Join("..", "..", ".cache", "bench")
	path := filepath.Join(dir, "layer-1g-v1.tar.gz")
	if _, err := os.Stat(path); err == nil {
		return path
	}
	os.MkdirAll(dir, 0o755)
	f, err := os.Create(path + ".tmp")
	if err != nil {
		b.Fatal(err)
	}
	zw, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
	tw := tar.NewWriter(zw)
	rng := rand.New(rand.NewPCG(1, 2))
	add := func(name string, body []byte) {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write(body)
	}
	var status bytes.Buffer
	for i := 0; i < 400; i++ {
		fmt.Fprintf(&status, "Package: pkg%d\nStatus: install ok installed\nVersion: 1.%d-1\nArchitecture: amd64\nDescription: package %d\n\n", i, i, i)
	}
	add("var/lib/dpkg/status", status.Bytes())
	for i := 0; i < 200; i++ {
		add(fmt.Sprintf("usr/lib/python3/dist-packages/mod%d-1.0.dist-info/METADATA", i), []byte(fmt.Sprintf("Metadata-Version: 2.1\nName: mod%d\nVersion: 1.0\n", i)))
	}
	text := bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog 0123456789\n"), 1200)
	noise := make([]byte, 64<<10)
	var written int64
	for i := 0; written < 1<<30; i++ {
		body := text
		if i%2 == 1 {
			for j := range noise {
				noise[j] = byte(rng.Uint32())
			}
			body = noise
		}
		add(fmt.Sprintf("usr/share/data/%d/file%d", i%100, i), body)
		written += int64(len(body))
	}
	tw.Close()
	zw.Close()
	f.Close()
	if err := os.Rename(path+".tmp", path); err != nil {
		b.Fatal(err)
	}
	return path
}

func timeIt(fn func() error) (time.Duration, error) {
	start := time.Now()
	err := fn()
	return time.Since(start), err
}

func median(d []time.Duration) time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)/2]
}

// BenchmarkLayerIndexing compares indexing a 1 GiB gzip layer with plain
// decompression of the same layer by the same decompressor, in one run.
// Goal: indexing throughput / decompression throughput >= 0.8.
func BenchmarkLayerIndexing(b *testing.B) {
	path := benchLayer(b)
	gunzip := func() error {
		f, _ := os.Open(path)
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, zr)
		return err
	}
	scan := func() error {
		f, _ := os.Open(path)
		defer f.Close()
		facts, err := scan.ScanLayer(f, "application/vnd.oci.image.layer.v1.tar+gzip", oci.Limits{MaxLayerBytes: 2 << 30}, catalog.Budget{})
		if err == nil && len(facts.Findings) == 0 {
			err = errors.New("scan found nothing")
		}
		return err
	}
	var plain, indexed []time.Duration
	for i := 0; i < max(3, b.N); i++ { // alternate, so drift hits both alike
		p, err := timeIt(gunzip)
		if err != nil {
			b.Fatal(err)
		}
		s, err := timeIt(scan)
		if err != nil {
			b.Fatal(err)
		}
		plain, indexed = append(plain, p), append(indexed, s)
	}
	const gib = float64(1 << 30)
	p, s := median(plain), median(indexed)
	b.ReportMetric(gib/p.Seconds()/1e6, "gunzip-MB/s")
	b.ReportMetric(gib/s.Seconds()/1e6, "index-MB/s")
	b.ReportMetric(p.Seconds()/s.Seconds(), "ratio(goal>=0.8)")
}
