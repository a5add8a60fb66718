package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/oyster-registry/oyster/internal/registryproc"
)

// registry is the process under load: started here, or one already
// running that the flags name.
type registry struct {
	host string
	pid  int
	proc *registryproc.Proc // nil when attached
}

// startRegistry runs bin serve on a free loopback port over a new data
// directory under work, with Oyster's defaults (OYSTER_* variables are
// removed from its environment), and waits until it is healthy. It logs to
// registry.log under work.
func startRegistry(bin, work string) (*registry, error) {
	logPath := filepath.Join(work, "registry.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OYSTER_") {
			env = append(env, kv)
		}
	}
	proc, err := registryproc.Start(bin, filepath.Join(work, "data"), env, logFile)
	if err != nil {
		return nil, fmt.Errorf("%w; see %s", err, logPath)
	}
	return &registry{host: proc.Host, pid: proc.Pid, proc: proc}, nil
}

// stop ends a registry started here: SIGTERM, then SIGKILL after 30 s.
func (r *registry) stop() {
	if r.proc != nil {
		r.proc.Stop(30 * time.Second)
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
