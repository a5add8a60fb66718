// Package e2e runs the registry binary as a process and drives it with real
// clients: the OCI conformance suite, skopeo, oras, crane and podman. The
// tools come from scripts/install-test-deps.sh (the README's test command
// runs it); a missing tool fails the test loudly.
package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
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
	t    *testing.T
	cmd  *exec.Cmd
	Data string
	Host string // host:port
	log  *os.File
}

var listeningLine = regexp.MustCompile(`msg="oyster registry listening" addr=(\S+)`)

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
	cmd := exec.Command(registryBin, "serve", "--addr", "127.0.0.1:0", "--data", data)
	cmd.Env = append(os.Environ(), extraEnv...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &registryProc{t: t, cmd: cmd, Data: data, log: logFile}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logFile, line)
			if m := listeningLine.FindStringSubmatch(line); m != nil && !sent {
				addr <- m[1]
				sent = true
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	select {
	case p.Host = <-addr:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("registry did not start; log:\n%s", p.Log())
	}
	t.Cleanup(p.Stop)
	waitHealthy(t, p.Host)
	return p
}

func waitHealthy(t *testing.T, host string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + host + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("registry at %s never became healthy", host)
}

// Log returns what the registry logged so far.
func (p *registryProc) Log() string {
	raw, _ := os.ReadFile(p.log.Name())
	return string(raw)
}

// Stop shuts the registry down gracefully.
func (p *registryProc) Stop() {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		p.cmd.Process.Kill()
		<-done
	}
}

// Kill stops the registry with SIGKILL, as a crash would.
func (p *registryProc) Kill() {
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
}

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
