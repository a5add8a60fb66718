package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestSubcommands(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"env"}, nil, &out, &errOut); err != nil || !strings.Contains(out.String(), "OYSTER_STORAGE_S3_BUCKET") {
		t.Fatalf("env: %v %q", err, out.String())
	}
	if err := run(context.Background(), []string{"frobnicate"}, nil, &out, &errOut); err == nil || !strings.Contains(errOut.String(), "usage:") {
		t.Fatalf("unknown subcommand: %v", err)
	}
	if err := run(context.Background(), []string{"serve", "--config", "/nonexistent.yml"}, nil, &out, &errOut); err == nil || !strings.Contains(err.Error(), "reading config") {
		t.Fatalf("missing config file: %v", err)
	}
}

func TestHealthcheck(t *testing.T) {
	code := http.StatusOK
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) }))
	defer ts.Close()
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"healthcheck", "--url", ts.URL}, nil, &out, &errOut); err != nil {
		t.Fatalf("healthy server: %v", err)
	}
	code = http.StatusServiceUnavailable
	if err := run(context.Background(), []string{"healthcheck", "--url", ts.URL}, nil, &out, &errOut); err == nil {
		t.Fatal("unhealthy server passed the healthcheck")
	}
}
