// Package e2e runs the registry binary as a process and drives it with real
// clients: the OCI conformance suite, skopeo, oras, crane and podman. The
// tools come from scripts/install-test-deps.sh (the README's test command
// runs it); a missing tool fails the test loudly.
package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/oyster-registry/oyster/internal/registryproc"
)

var registryBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "oyster-e2e-bin")
	if err != nil {
		panic(err)
	}
	registryBin = filepath.Join(dir, "registry")
	build := exec.Command("go", "build", "-o", registryBin, "github.com/oyster-registry/oyster/cmd/registry")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building registry:", err)
		os.Exit(1)
	}
	os.Setenv("PATH", toolsDir()+string(os.PathListSeparator)+os.Getenv("PATH"))
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// toolsDir is where scripts/install-test-deps.sh puts pinned Go tools.
func toolsDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", ".cache", "tools", "bin")
}

// requireTool fails the test when a client it needs is not installed.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed: run scripts/install-test-deps.sh (the README's test command does)", name)
	}
	return p
}

// registryProc is one running registry process.
type registryProc struct {
	*registryproc.Proc
	Data string
	log  *os.File
}

// startRegistry runs the registry on a free loopback port over data (a new
// temporary directory when empty) and waits until it serves.
func startRegistry(t *testing.T, data string, extraEnv ...string) *registryProc {
	t.Helper()
	if data == "" {
		data = t.TempDir()
	}
	logFile, err := os.CreateTemp(t.TempDir(), "registry-*.log")
	if err != nil {
		t.Fatal(err)
	}
	p := &registryProc{Data: data, log: logFile}
	p.Proc, err = registryproc.Start(registryBin, data, append(os.Environ(), extraEnv...), logFile)
	if err != nil {
		t.Fatalf("%v; log:\n%s", err, p.Log())
	}
	t.Cleanup(p.Stop)
	return p
}

func waitHealthy(t *testing.T, host string) {
	t.Helper()
	if err := registryproc.WaitHealthy(host); err != nil {
		t.Fatal(err)
	}
}

// Log returns what the registry logged so far.
func (p *registryProc) Log() string {
	raw, _ := os.ReadFile(p.log.Name())
	return string(raw)
}

// Stop shuts the registry down gracefully.
func (p *registryProc) Stop() { p.Proc.Stop(15 * time.Second) }

// run executes a client command and fails the test with its output on error.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := runErr(name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

func runErr(name string, args ...string) (string, error) {
	return runEnv(nil, name, args...)
}

// runEnv runs a client command with env added to the environment.
func runEnv(env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
