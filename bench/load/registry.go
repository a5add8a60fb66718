package main

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
	"strconv"
	"strings"
	"syscall"
	"time"
)

// registry is the process under load: started here, or one already
// running that the flags name.
type registry struct {
	host string
	pid  int
	cmd  *exec.Cmd // nil when attached
	log  string    // path of its log, when started here
}

var listeningLine = regexp.MustCompile(`msg="oyster registry listening" addr=(\S+)`)

// startRegistry runs bin serve on a free loopback port over a new data
// directory under work, with Oyster's defaults (OYSTER_* variables are
// removed from its environment), and waits until it is healthy.
func startRegistry(bin, work string) (*registry, error) {
	data := filepath.Join(work, "data")
	logPath := filepath.Join(work, "registry.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data", data)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OYSTER_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = logFile
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			fmt.Fprintln(logFile, sc.Text())
			if m := listeningLine.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
		io.Copy(logFile, stderr)
	}()
	r := &registry{pid: cmd.Process.Pid, cmd: cmd, log: logPath}
	select {
	case r.host = <-addr:
	case <-time.After(time.Minute):
		r.stop()
		return nil, fmt.Errorf("registry did not start; see %s", logPath)
	}
	return r, r.waitHealthy()
}

func (r *registry) waitHealthy() error {
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get("http://" + r.host + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("registry at %s never became healthy", r.host)
}

// stop ends a registry started here: SIGTERM, then SIGKILL after 30 s.
func (r *registry) stop() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { r.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		r.cmd.Process.Kill()
		<-done
	}
}

// memory reads the registry's resident set and its peak from
// /proc/<pid>/status, in bytes.
func (r *registry) memory() (rss, peak int64, err error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", r.pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		name, value, _ := strings.Cut(line, ":")
		fields := strings.Fields(value)
		if len(fields) != 2 || fields[1] != "kB" {
			continue
		}
		kb, _ := strconv.ParseInt(fields[0], 10, 64)
		switch name {
		case "VmRSS":
			rss = kb << 10
		case "VmHWM":
			peak = kb << 10
		}
	}
	if rss == 0 {
		return 0, 0, fmt.Errorf("no VmRSS in /proc/%d/status", r.pid)
	}
	return rss, peak, nil
}

// metric reads one unlabelled gauge or counter from /metrics; ok is false
// when the registry does not export it.
func (r *registry) metric(ctx context.Context, name string) (value float64, ok bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+r.host+"/metrics", nil)
	if err != nil {
		return 0, false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		if v, found := strings.CutPrefix(sc.Text(), name+" "); found {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f, err == nil
		}
	}
	return 0, false
}
