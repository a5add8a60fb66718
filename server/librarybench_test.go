package server_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	sylabs "github.com/sylabs/sif/v2/pkg/sif"

	"github.com/oyster-registry/oyster/auth/authtest"
	"github.com/oyster-registry/oyster/config"
	"github.com/oyster-registry/oyster/internal/testlayers"
)

// BenchmarkLibraryPull pulls a 32 MiB SIF through the Library API in one
// stream: with auth off the Library redirects to the blob on /v2/; with
// auth on (a robot token, a private namespace) it serves the blob itself,
// fetched in process as the caller.
func BenchmarkLibraryPull(b *testing.B) {
	sif := testlayers.SIF(b, time.Now(), testlayers.DefFile("Bootstrap: scratch\n"),
		testlayers.SIFObject{Type: sylabs.DataGeneric, Data: bytes.Repeat([]byte("oyster library bench "), 32<<20/21)})
	for _, authOn := range []bool{false, true} {
		name := map[bool]string{false: "auth-off-redirect", true: "auth-on-in-process"}[authOn]
		b.Run(name, func(b *testing.B) {
			var data string
			ts, _ := startServer(b, func(c *config.Config) {
				data = c.Data
				if authOn {
					c.Auth.Htpasswd.Path = authtest.WriteHtpasswd(b, b.TempDir(), map[string]string{"admin": "admin-pw"})
					c.Auth.PrivateNamespaces = []string{"lab"}
				}
			})
			token := ""
			if authOn {
				token = robotToken(b, data, "bench", "lab:pull,push")
			}
			libPush(b, libClient(b, ts.URL, token), sif, "lab/bench/big")
			b.SetBytes(int64(len(sif)))
			b.ResetTimer()
			for range b.N {
				req, _ := http.NewRequest(http.MethodGet, ts.URL+"/v1/imagefile/lab/bench/big:latest?arch=amd64", nil)
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK || n != int64(len(sif)) {
					b.Fatalf("pull: %d, %d bytes, %v", resp.StatusCode, n, err)
				}
			}
		})
	}
}
