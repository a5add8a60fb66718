package remote

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

// tokenRegistry answers /v2/ only with a bearer token its /token endpoint
// hands out for the right basic credentials, in both spellings, as Oyster's
// realm and distribution's answer.
func tokenRegistry(t *testing.T) *httptest.Server {
	var srv *httptest.Server
	blob := []byte("0123456789")
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/token":
			if u, p, ok := r.BasicAuth(); !ok || u != "ada" || p != "secret" || r.URL.Query().Get("scope") != "repository:lab/a:pull" {
				http.Error(w, "no", http.StatusUnauthorized)
				return
			}
			json.NewEncoder(w).Encode(map[string]string{"token": "t0k", "access_token": "t0k"})
		case r.Header.Get("Authorization") != "Bearer t0k":
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+srv.URL+`/token",service="oyster",scope="repository:lab/a:pull"`)
			http.Error(w, "auth", http.StatusUnauthorized)
		case strings.HasSuffix(r.URL.Path, "/blobs/"+digest.FromBytes(blob).String()):
			if rg := r.Header.Get("Range"); rg == "bytes=4-" {
				w.WriteHeader(http.StatusPartialContent)
				w.Write(blob[4:])
				return
			}
			w.Write(blob)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestTokenAuthAndRange(t *testing.T) {
	srv := tokenRegistry(t)
	c, err := New(Options{URL: srv.URL, Insecure: true, Username: "ada", Password: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	d := digest.FromString("0123456789")
	r, err := c.Blob(context.Background(), "lab/a", d, 4)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	r.Close()
	if string(b) != "456789" {
		t.Errorf("blob from offset 4: %q", b)
	}
	_, err = c.Manifest(context.Background(), "lab/a", "1")
	var se *StatusError
	if !errors.As(err, &se) || se.Status != http.StatusNotFound || Retry(err) == err {
		t.Errorf("missing manifest: %v (want a permanent 404)", err)
	}
}

func TestWrongCredentials(t *testing.T) {
	srv := tokenRegistry(t)
	c, _ := New(Options{URL: srv.URL, Insecure: true, Username: "ada", Password: "wrong"})
	_, err := c.Blob(context.Background(), "lab/a", digest.FromString("0123456789"), 0)
	var se *StatusError
	if !errors.As(err, &se) || se.Status != http.StatusUnauthorized {
		t.Errorf("wrong password: %v", err)
	}
}
