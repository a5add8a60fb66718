package server_test

import (
	"net/http"
	"testing"

	"github.com/oyster-registry/oyster/config"
)

// BenchmarkManifestHEAD measures manifest HEAD by tag over HTTP with the
// manifest cache on and off; run with -cpuprofile to see where time goes.
func BenchmarkManifestHEAD(b *testing.B) {
	for _, bc := range []struct {
		name   string
		mutate func(*config.Config)
	}{{"cache", nil}, {"nocache", cacheOff}} {
		b.Run(bc.name, func(b *testing.B) {
			ts, _ := startServer(b, bc.mutate)
			m := cachedManifest(b, ts.URL, "bench/head", ociManifestType, "bench")
			putManifest(b, ts.URL, "bench/head", "latest", ociManifestType, m)
			url := ts.URL + "/v2/bench/head/manifests/latest"
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest(http.MethodHead, url, nil)
					req.Header.Set("Accept", ociManifestType)
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("HEAD: %d", resp.StatusCode)
						return
					}
				}
			})
		})
	}
}
