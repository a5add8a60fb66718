// Package registryproc runs the registry binary as a child process on a
// free loopback port, for the end-to-end tests and the benchmarks alike.
package registryproc

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"sync"
	"syscall"
	"time"
)

// listeningLine is what the registry logs once it has bound its address.
var listeningLine = regexp.MustCompile(`msg="oyster registry listening" addr=(\S+)`)

// Proc is one running registry.
type Proc struct {
	Host   string // host:port it serves on
	Pid    int
	cmd    *exec.Cmd
	exited chan struct{} // closed once the process has been waited for
}

// Start runs `bin serve` on a free loopback port over the data directory
// with the environment env, copies everything it prints to log, and waits
// until it says where it listens and /healthz answers. A registry that does
// not get there is killed.
func Start(bin, data string, env []string, log io.Writer) (*Proc, error) {
	// Our own pipe rather than StderrPipe: Wait then returns when the
	// process exits, and the log is read to its end independently.
	stderrR, stderrW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	out := &lockedWriter{w: log}
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data", data)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, out, stderrW
	err = cmd.Start()
	stderrW.Close()
	if err != nil {
		stderrR.Close()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	p := &Proc{Pid: cmd.Process.Pid, cmd: cmd, exited: make(chan struct{})}
	addr := make(chan string, 1)
	logDone := make(chan struct{})
	go func() { copyLog(stderrR, out, addr); close(logDone) }()
	go func() {
		cmd.Wait()
		// The last lines (the shutdown message) are still in the pipe when
		// Wait returns; a child of the registry that kept stderr open must
		// not hold us forever, so the wait for them is bounded.
		select {
		case <-logDone:
		case <-time.After(5 * time.Second):
		}
		close(p.exited)
	}()
	select {
	case p.Host = <-addr:
	case <-p.exited:
		return nil, fmt.Errorf("registry exited before listening: %v", cmd.ProcessState)
	case <-time.After(time.Minute):
		p.Kill()
		return nil, errors.New("registry did not say it was listening within a minute")
	}
	if err := WaitHealthy(p.Host); err != nil {
		p.Kill()
		return nil, err
	}
	return p, nil
}

// copyLog copies the registry's stderr to out line by line, sending the
// address it listens on to addr once.
func copyLog(stderr *os.File, out io.Writer, addr chan<- string) {
	defer stderr.Close()
	sc := bufio.NewScanner(stderr)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	sent := false
	for sc.Scan() {
		fmt.Fprintln(out, sc.Text())
		if m := listeningLine.FindStringSubmatch(sc.Text()); m != nil && !sent {
			addr <- m[1]
			sent = true
		}
	}
	io.Copy(out, stderr) // past a line too long to scan
}

// WaitHealthy polls http://host/healthz until it answers 200, for 30 s
// at most.
func WaitHealthy(host string) error {
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get("http://" + host + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("registry at %s never became healthy", host)
}

// Stop shuts the registry down gracefully (SIGTERM), killing it if it is
// still running after grace; it returns once the process is gone.
func (p *Proc) Stop(grace time.Duration) {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(grace):
		p.Kill()
	}
}

// Kill stops the registry with SIGKILL, as a crash would, and waits for it.
func (p *Proc) Kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// lockedWriter lets the stdout copier and the stderr scanner share one log.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
