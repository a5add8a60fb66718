package server_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/oyster-registry/oyster/config"
	"github.com/oyster-registry/oyster/server"
)

// TestPprofOnItsOwnListener: with debug.pprof_addr set the profiler answers
// there, and the registry's own address does not serve it.
func TestPprofOnItsOwnListener(t *testing.T) {
	cfg := config.Default()
	cfg.Data = t.TempDir()
	cfg.Log.Level = "error"
	cfg.Addr = "127.0.0.1:0"
	cfg.Debug.PprofAddr = freeAddr(t)
	srv, err := server.New(context.Background(), cfg, server.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- srv.ListenAndServe(ctx, func(addr string) { ready <- addr }) }()
	t.Cleanup(func() { cancel(); <-done; srv.Close() })
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatal(err)
	}
	profiler := do(t, http.MethodGet, "http://"+cfg.Debug.PprofAddr+"/debug/pprof/cmdline", nil)
	if profiler.status != http.StatusOK || !strings.Contains(string(profiler.body), "server.test") {
		t.Fatalf("profiler: %d %q", profiler.status, profiler.body)
	}
	registry := do(t, http.MethodGet, "http://"+addr+"/debug/pprof/cmdline", nil)
	if strings.Contains(string(registry.body), "server.test") {
		t.Fatalf("the registry's address serves the profiler: %d %q", registry.status, registry.body)
	}
}

// freeAddr returns a loopback address no one listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
