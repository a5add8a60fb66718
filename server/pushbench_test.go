package server_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/oyster-registry/oyster/config"
)

// BenchmarkBlobPush pushes a 64 MiB blob the way crane does (POST, one
// streamed PATCH, PUT ?digest= with no body) over HTTP, through Oyster's
// upload path (direct) and distribution's; run with -cpuprofile to see
// where an upload's time goes.
func BenchmarkBlobPush(b *testing.B) {
	content := make([]byte, 64<<20)
	if _, err := rand.Read(content); err != nil {
		b.Fatal(err)
	}
	d := digestOf(content)
	for _, bc := range []struct {
		name   string
		mutate func(*config.Config)
	}{{"direct", nil}, {"distribution", directUploadsOff}} {
		b.Run(bc.name, func(b *testing.B) {
			ts, _ := startServer(b, bc.mutate)
			b.SetBytes(int64(len(content)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				streamBlob(b, ts.URL, fmt.Sprintf("bench/push-%d", i), d, content)
			}
		})
	}
}

// streamBlob uploads content as crane does: a PATCH whose body has no
// declared length (chunked), then a PUT without a body.
func streamBlob(t testing.TB, base, repo, d string, content []byte) {
	t.Helper()
	r := do(t, http.MethodPost, base+"/v2/"+repo+"/blobs/uploads/", nil)
	if r.status != http.StatusAccepted {
		t.Fatalf("POST: %d %s", r.status, r.body)
	}
	req, err := http.NewRequest(http.MethodPatch, r.header.Get("Location"), io.MultiReader(bytes.NewReader(content)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("PATCH: %d %s", resp.StatusCode, body)
	}
	loc := resp.Header.Get("Location")
	if r := do(t, http.MethodPut, loc+"&digest="+d, nil); r.status != http.StatusCreated {
		t.Fatalf("PUT: %d %s", r.status, r.body)
	}
}
