// Command gitsync measures Oyster's Git-driven builds end to end (`make
// bench-gitsync`; docs/benchmarks-gitsync.md records a run):
//
//   - push → build started: from just before `git push` (whose
//     post-receive hook posts a signed GitHub webhook) to the build
//     record's start time;
//   - build finished → searchable: from the record's finish time to the
//     first catalog search that finds the image by its revision label;
//   - last-step rebuild ratio: the build time of a 5-step Dockerfile whose
//     last step changed, over the first build's time, in the same run. The
//     buildah store is wiped before every rebuild, so the reused layers come
//     from the layer cache kept in Oyster itself, not from the local store.
//
// It starts -bin over a fresh data directory with a local bare repository
// as its one source and pushes -pushes commits, each changing only the last
// step. It prints p50/p99/max of the latencies and the ratio; it exits 1
// only when something breaks.
//
//	gitsync [-bin bin/registry] [-pushes 20] [-step-loops 3000000] [-step-bytes 1000000] [-wipe=true]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/oyster-registry/oyster/internal/registryproc"
)

const secret = "bench-secret"

// hook posts a GitHub push payload signed with HMAC-SHA256 of the body.
const hook = `#!/bin/sh
while read old new ref; do
  body=$(printf '{"ref":"%%s","before":"%%s","after":"%%s","repository":{"clone_url":"%s"}}' "$ref" "$old" "$new")
  sig=$(printf '%%s' "$body" | openssl dgst -sha256 -hmac '%s' | sed 's/^.*= //')
  curl -sS -o /dev/null -X POST -H 'X-GitHub-Event: push' -H "X-Hub-Signature-256: sha256=$sig" --data-binary "$body" '%s'
done
`

type build struct {
	ID, Recipe, Commit, Status, Error string
	Started, Finished                 *time.Time
}

type bench struct {
	host, work, data string
}

func main() {
	bin := flag.String("bin", "bin/registry", "registry binary")
	pushes := flag.Int("pushes", 20, "pushes that each change the last step")
	var st steps
	flag.IntVar(&st.bytes, "step-bytes", 1_000_000, "random bytes each of the five steps writes")
	flag.IntVar(&st.loops, "step-loops", 3_000_000, "shell loop iterations each step counts (its CPU work, about 1 s per million here)")
	flag.StringVar(&st.driver, "storage-driver", "vfs", "buildah's storage driver (gitsync.storage_driver): vfs or overlay")
	flag.BoolVar(&st.wipe, "wipe", true, "wipe buildah's local store before every rebuild, leaving only the layer cache in Oyster")
	flag.Parse()
	if err := run(*bin, *pushes, st); err != nil {
		fmt.Fprintln(os.Stderr, "bench gitsync:", err)
		os.Exit(1)
	}
}

// steps say what each of the five steps costs.
type steps struct {
	bytes, loops int
	wipe         bool
	driver       string
}

func run(bin string, pushes int, st steps) error {
	dir, err := os.MkdirTemp("", "oyster-bench-gitsync-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bare := filepath.Join(dir, "src.git")
	if err := sh("", "git", "init", "-q", "--bare", "-b", "main", bare); err != nil {
		return err
	}
	b := &bench{work: filepath.Join(dir, "work"), data: filepath.Join(dir, "data")}
	stop, err := b.start(bin, bare, st.driver)
	if err != nil {
		return err
	}
	defer stop()
	hookURL := "http://" + b.host + "/api/v1/webhooks/github"
	if err := os.WriteFile(filepath.Join(bare, "hooks", "post-receive"), fmt.Appendf(nil, hook, bare, secret, hookURL), 0o755); err != nil {
		return err
	}
	if err := sh("", "git", "clone", "-q", bare, b.work); err != nil {
		return err
	}
	busybox, err := os.ReadFile("/bin/busybox")
	if err != nil {
		return fmt.Errorf("busybox-static: %w", err)
	}
	b.write("base/busybox", string(busybox))
	if err := os.Chmod(filepath.Join(b.work, "base/busybox"), 0o755); err != nil {
		return err
	}
	b.write("base/Dockerfile", "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n")
	first, err := b.push(dockerfile(b.host, st, 0))
	if err != nil {
		return err
	}
	builds, err := b.waitBuilt(first.commit, 2)
	if err != nil {
		return err
	}
	firstBuild := builds["app/Dockerfile"]
	firstTime := firstBuild.Finished.Sub(*firstBuild.Started)
	fmt.Printf("first build of the 5-step app: %.2f s\n", firstTime.Seconds())

	var started, searchable, rebuild []time.Duration
	for i := 1; i <= pushes; i++ {
		if st.wipe {
			if err := os.RemoveAll(filepath.Join(b.data, "gitsync", "buildah")); err != nil { // only Oyster's cache left
				return err
			}
		}
		p, err := b.push(dockerfile(b.host, st, i))
		if err != nil {
			return err
		}
		builds, err := b.waitBuilt(p.commit, 1)
		if err != nil {
			return err
		}
		app := builds["app/Dockerfile"]
		found, err := b.waitSearchable(p.commit)
		if err != nil {
			return err
		}
		started = append(started, app.Started.Sub(p.at))
		searchable = append(searchable, found.Sub(*app.Finished))
		rebuild = append(rebuild, app.Finished.Sub(*app.Started))
		fmt.Printf("push %2d: started after %4.0f ms, rebuilt in %.2f s, searchable %4.0f ms after\n", i,
			ms(started[i-1]), rebuild[i-1].Seconds(), ms(searchable[i-1]))
	}
	fmt.Printf("\npush -> build started:        p50 %5.0f ms  p99 %5.0f ms  max %5.0f ms  (goal p99 < 2000 ms)\n", ms(pct(started, 50)), ms(pct(started, 99)), ms(pct(started, 100)))
	fmt.Printf("build finished -> searchable: p50 %5.0f ms  p99 %5.0f ms  max %5.0f ms  (goal p99 < 2000 ms)\n", ms(pct(searchable, 50)), ms(pct(searchable, 99)), ms(pct(searchable, 100)))
	fmt.Printf("last-step rebuild / first build: median %.2f s / %.2f s = %.2f  (goal <= 0.30)\n", pct(rebuild, 50).Seconds(), firstTime.Seconds(), pct(rebuild, 50).Seconds()/firstTime.Seconds())
	return nil
}

// dockerfile is five steps, each counting st.loops in the shell and
// writing st.bytes random bytes; the last one also records n, so that
// changing n changes only the last step.
func dockerfile(host string, st steps, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "FROM %s/bench/base:latest\n", host)
	for i := 1; i <= 5; i++ {
		last := ""
		if i == 5 {
			last = fmt.Sprintf(" && echo %d > /n", n)
		}
		fmt.Fprintf(&b, "RUN i=0; while [ $i -lt %d ]; do i=$((i+1)); done; head -c %d /dev/urandom > /step%d%s\n", st.loops, st.bytes, i, last)
	}
	return b.String()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// pct is the p-th percentile (nearest rank) of ds.
func pct(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (p*len(s)+99)/100 - 1
	return s[max(0, min(i, len(s)-1))]
}

// start runs the registry with bare as its one Git source.
func (b *bench) start(bin, bare, driver string) (func(), error) {
	env := append(os.Environ(), "OYSTER_GITSYNC_ALLOW_LOCAL=true", "OYSTER_GITSYNC_BUILDER=buildah",
		"OYSTER_GITSYNC_STORAGE_DRIVER="+driver, fmt.Sprintf("OYSTER_SOURCES=[{name: bench, url: %s, webhook_secret: %s}]", bare, secret))
	proc, err := registryproc.Start(bin, b.data, env, io.Discard)
	if err != nil {
		return nil, err
	}
	b.host = proc.Host
	return func() { proc.Stop(time.Minute) }, nil
}

func (b *bench) write(name, content string) {
	p := filepath.Join(b.work, name)
	os.MkdirAll(filepath.Dir(p), 0o755)
	os.WriteFile(p, []byte(content), 0o644)
}

type pushed struct {
	commit string
	at     time.Time
}

func (b *bench) push(app string) (pushed, error) {
	b.write("app/Dockerfile", app)
	if err := sh(b.work, "git", "add", "-A"); err != nil {
		return pushed{}, err
	}
	if err := sh(b.work, "git", "-c", "user.name=b", "-c", "user.email=b@example.org", "commit", "-q", "-m", "bench"); err != nil {
		return pushed{}, err
	}
	commit, err := exec.Command("git", "-C", b.work, "rev-parse", "HEAD").Output()
	if err != nil {
		return pushed{}, err
	}
	at := time.Now()
	if err := sh(b.work, "git", "push", "-q", "origin", "HEAD:main"); err != nil {
		return pushed{}, err
	}
	return pushed{commit: strings.TrimSpace(string(commit)), at: at}, nil
}

// waitBuilt waits until n builds of commit finished, all succeeded.
func (b *bench) waitBuilt(commit string, n int) (map[string]build, error) {
	deadline := time.Now().Add(15 * time.Minute)
	for time.Now().Before(deadline) {
		var list struct{ Builds []build }
		if err := getJSON("http://"+b.host+"/api/v1/builds", &list); err != nil {
			return nil, err
		}
		done := map[string]build{}
		for _, x := range list.Builds {
			if x.Commit != commit || x.Status == "queued" || x.Status == "running" {
				continue
			}
			if x.Status != "succeeded" {
				return nil, fmt.Errorf("build %s of %s %s: %s; log:\n%s", x.ID, x.Recipe, x.Status, x.Error, b.log(x.ID))
			}
			done[x.Recipe] = x
		}
		if len(done) >= n {
			return done, nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil, fmt.Errorf("builds of %s never finished", commit)
}

// waitSearchable polls the catalog until it finds the image of commit and
// returns when it first did.
func (b *bench) waitSearchable(commit string) (time.Time, error) {
	q := url.QueryEscape(`label:"org.opencontainers.image.revision=` + commit + `"`)
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		var res struct{ Results []struct{ Repository string } }
		if err := getJSON("http://"+b.host+"/api/v1/search?q="+q, &res); err != nil {
			return time.Time{}, err
		}
		for _, r := range res.Results {
			if r.Repository == "bench/app" {
				return time.Now(), nil
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Time{}, fmt.Errorf("the image of %s never became searchable", commit)
}

// log is the build's log, or why it is not there.
func (b *bench) log(id string) string {
	resp, err := http.Get("http://" + b.host + "/api/v1/builds/" + id + "/log")
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return string(raw)
}

func getJSON(u string, v any) error {
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

func sh(dir, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}
