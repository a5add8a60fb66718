package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"testing"
	"time"
)

// BenchmarkPushToSearchable measures the time from a push's completion
// (the manifest PUT answered 201) until the image is found by search.
// Goal: p99 under 1 s.
func BenchmarkPushToSearchable(b *testing.B) {
	ts, _ := startServer(b, nil)
	n := max(b.N, 50)
	lat := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		repo := fmt.Sprintf("bench/app-%d", i)
		m := imageManifest(b, ts.URL, repo)
		r := do(b, http.MethodPut, ts.URL+"/v2/"+repo+"/manifests/v1", m, "Content-Type", "application/vnd.oci.image.manifest.v1+json")
		if r.status != http.StatusCreated {
			b.Fatalf("push: %d %s", r.status, r.body)
		}
		pushed := time.Now()
		waitSearchable(b, ts.URL, repo)
		lat = append(lat, time.Since(pushed))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms(goal<1000)")
}

func waitSearchable(b *testing.B, base, repo string) {
	q := base + "/api/v1/search?q=" + url.QueryEscape("repo:"+repo)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		resp, err := http.Get(q)
		if err != nil {
			b.Fatal(err)
		}
		var out struct{ Total int }
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err == nil && out.Total == 1 {
			return
		}
	}
	b.Fatalf("%s never became searchable", repo)
}
