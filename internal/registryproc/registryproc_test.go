package registryproc

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary stands in for the registry when fakeEnv is set: it
// listens, logs the line the registry logs, and serves /healthz until
// SIGTERM, or exits at once when fakeEnv is "exit".
const fakeEnv = "REGISTRYPROC_FAKE"

func TestMain(m *testing.M) {
	switch os.Getenv(fakeEnv) {
	case "":
		os.Exit(m.Run())
	case "exit":
		fmt.Fprintln(os.Stderr, "cannot open data directory")
		os.Exit(3)
	default:
		fakeRegistry()
	}
}

func fakeRegistry() {
	// The handler is in place before the log line that tells Start we are
	// up, so a SIGTERM sent right after can never kill us ungracefully.
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.Exit(1)
	}
	fmt.Println("args:", strings.Join(os.Args[1:], " "))
	fmt.Fprintf(os.Stderr, "level=INFO msg=\"oyster registry listening\" addr=%s\n", l.Addr())
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {})
	go http.Serve(l, mux)
	<-term
	fmt.Fprintln(os.Stderr, "msg=\"shut down\"")
	os.Exit(0)
}

// newLog is a log the test reads while the process may still write.
func newLog() *lockedWriter { return &lockedWriter{w: &bytes.Buffer{}} }

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.(*bytes.Buffer).String()
}

func start(t *testing.T, mode string, log *lockedWriter) (*Proc, error) {
	t.Helper()
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return Start(bin, t.TempDir(), append(os.Environ(), fakeEnv+"="+mode), log)
}

func TestStartServesAndStopLogsShutdown(t *testing.T) {
	log := newLog()
	p, err := start(t, "serve", log)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + p.Host + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz after Start: %v %v", resp, err)
	}
	resp.Body.Close()
	p.Stop(time.Minute)
	p.Stop(time.Minute) // a second stop is a no-op
	for _, want := range []string{"args: serve --addr 127.0.0.1:0 --data", "oyster registry listening", "shut down"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
	if _, err := http.Get("http://" + p.Host + "/healthz"); err == nil {
		t.Error("still serving after Stop")
	}
}

func TestKillEndsTheProcess(t *testing.T) {
	log := newLog()
	p, err := start(t, "serve", log)
	if err != nil {
		t.Fatal(err)
	}
	p.Kill()
	if strings.Contains(log.String(), "shut down") {
		t.Error("a killed registry shut down gracefully")
	}
	if err := syscall.Kill(p.Pid, 0); err == nil {
		t.Errorf("process %d still exists", p.Pid)
	}
}

func TestStartReportsAnEarlyExit(t *testing.T) {
	if _, err := start(t, "exit", newLog()); err == nil || !strings.Contains(err.Error(), "exited before listening") {
		t.Fatalf("early exit: %v", err)
	}
}
