// Command load holds a registry under mixed load for a while and reports
// how it held up: errors, latency percentiles per kind of request, and the
// registry's memory at each minute. It is a soak test for people, not CI
// (`make load`; docs/benchmarks.md records a run).
//
// By default it starts bin/registry on a free loopback port over a new
// data directory, pushes -seed-images images, waits until the catalog can
// find each of them, and then for -d runs, all at once:
//
//   - -pullers workers that pull a random seed image back to back (manifest
//     by tag, then config and layer), checking every digest and size;
//   - -pushers workers that each push a new image (one random layer of
//     -push-layer-size bytes plus a Python package) every -push-interval,
//     moving one of ten tags of their own repository;
//   - -searchers workers that query the catalog back to back, alternating
//     between a seed image's package (which must be found) and the pushed
//     packages (which change all the time).
//
// The run stops at -d or after -max-requests operations, whichever comes
// first; each request times out after -timeout. Every minute it prints
// the requests, errors and p50/p99 latency of each kind in that minute,
// the range of the registry's RSS over it (from /proc/<pid>/status,
// sampled every second) and the catalog's queue depth; then a summary over
// the whole run. The exit status is 1 if any
// request failed.
//
//	load [-bin bin/registry | -addr HOST:PORT -pid PID] [-d 5m] [-pullers 200] [-pushers 20] [-searchers 50]
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"
)

type config struct {
	bin, addr, work    string
	pid                int
	dur, timeout       time.Duration
	pushInterval       time.Duration
	interval           time.Duration
	pullers, pushers   int
	searchers          int
	seedImages         int
	seedSize, pushSize int
	maxRequests        int64
}

func main() {
	var c config
	flag.StringVar(&c.bin, "bin", "bin/registry", "registry binary to start (ignored with -addr)")
	flag.StringVar(&c.addr, "addr", "", "load a registry already running at HOST:PORT instead (needs -pid)")
	flag.IntVar(&c.pid, "pid", 0, "process id of the registry at -addr, for its memory")
	flag.StringVar(&c.work, "work", "", "directory for the started registry's data and log (default: a new temporary one, removed after)")
	flag.DurationVar(&c.dur, "d", 5*time.Minute, "how long the load lasts")
	flag.DurationVar(&c.interval, "report", time.Minute, "how often to print a report line")
	flag.Int64Var(&c.maxRequests, "max-requests", 50_000_000, "stop after this many operations in all")
	flag.DurationVar(&c.timeout, "timeout", time.Minute, "per-request timeout")
	flag.IntVar(&c.pullers, "pullers", 200, "concurrent pullers")
	flag.IntVar(&c.pushers, "pushers", 20, "concurrent pushers")
	flag.IntVar(&c.searchers, "searchers", 50, "concurrent searchers")
	flag.DurationVar(&c.pushInterval, "push-interval", time.Second, "each pusher starts a push this often")
	flag.IntVar(&c.seedImages, "seed-images", 20, "images pushed before the load, for pullers and searchers")
	flag.IntVar(&c.seedSize, "seed-layer-size", 1<<20, "random bytes in each seed image's layer")
	flag.IntVar(&c.pushSize, "push-layer-size", 256<<10, "random bytes in each pushed image's layer")
	flag.Parse()
	if c.dur <= 0 || c.interval <= 0 || c.maxRequests < 1 || c.pullers < 0 || c.pushers < 0 || c.searchers < 0 ||
		c.seedImages < 1 || c.pushInterval <= 0 || (c.addr != "" && c.pid == 0) {
		flag.Usage()
		os.Exit(2)
	}
	failed, err := run(c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
	if failed {
		os.Exit(1)
	}
}

// run sets the registry up, loads it, and reports; failed says whether any
// request failed.
func run(c config) (failed bool, err error) {
	reg, cleanup, err := setUp(c)
	if err != nil {
		return false, err
	}
	defer cleanup()
	workers := c.pullers + c.pushers + c.searchers
	cl := &client{base: "http://" + reg.host, http: &http.Client{Timeout: c.timeout, Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        workers + 10,
		MaxIdleConnsPerHost: workers + 10,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}}}

	fmt.Printf("load: registry %s (pid %d); %s on %d CPUs, %s\n", reg.host, reg.pid, runtime.GOOS, runtime.NumCPU(), time.Now().UTC().Format(time.RFC3339))
	seeds, err := seed(cl, c)
	if err != nil {
		return false, err
	}
	fmt.Printf("load: %d seed images pushed and searchable; %d pullers, %d pushers (one push each per %s), %d searchers for %s (at most %d operations)\n",
		len(seeds), c.pullers, c.pushers, c.pushInterval, c.searchers, c.dur, c.maxRequests)

	rec := newRecorder()
	ctx, cancel := context.WithTimeout(context.Background(), c.dur)
	defer cancel()
	b := &budget{}
	b.left.Store(c.maxRequests)
	var wg sync.WaitGroup
	spawn := func(n int, loop func(ctx context.Context, id int)) {
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() { defer wg.Done(); loop(ctx, i) }()
		}
	}
	spawn(c.pullers, func(ctx context.Context, id int) { puller(ctx, cl, rec, b, seeds, id) })
	spawn(c.pushers, func(ctx context.Context, id int) { pusher(ctx, cl, rec, b, c, id) })
	spawn(c.searchers, func(ctx context.Context, id int) { searcher(ctx, cl, rec, b, seeds, id) })
	go func() { wg.Wait(); cancel() }() // the budget ran out

	total := report(ctx, reg, rec, c.interval)
	cancel()
	wg.Wait()
	total.merge(rec.take()) // requests that finished after the last line
	summarize(reg, total, rec.errorSamples())
	return total.totalErrors() > 0, nil
}

// setUp starts (or attaches to) the registry; cleanup stops what it started.
func setUp(c config) (*registry, func(), error) {
	if c.addr != "" {
		return &registry{host: c.addr, pid: c.pid}, func() {}, nil
	}
	work, remove := c.work, false
	if work == "" {
		dir, err := os.MkdirTemp("", "oyster-load-")
		if err != nil {
			return nil, nil, err
		}
		work, remove = dir, true
	}
	reg, err := startRegistry(c.bin, work)
	if err != nil {
		return nil, nil, err
	}
	return reg, func() {
		reg.stop()
		if remove {
			os.RemoveAll(work)
		}
	}, nil
}

// seed pushes the images pullers and searchers use and waits until the
// catalog finds every one of them.
func seed(cl *client, c config) ([]image, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rng := rand.New(rand.NewPCG(1, 2))
	var seeds []image
	for i := 0; i < c.seedImages; i++ {
		img := buildImage(rng, fmt.Sprintf("load/seed%d", i), "v1", fmt.Sprintf("loadseed%d", i), "1.0", c.seedSize)
		if err := cl.push(ctx, img); err != nil {
			return nil, fmt.Errorf("pushing seed image %d: %w", i, err)
		}
		seeds = append(seeds, img.image)
	}
	for _, img := range seeds {
		for {
			err := cl.search(ctx, "pkg:"+img.pkg, img.repo)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return nil, fmt.Errorf("seed image %s never became searchable: %w", img.repo, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return seeds, nil
}

func puller(ctx context.Context, cl *client, rec *recorder, b *budget, seeds []image, id int) {
	rng := rand.New(rand.NewPCG(uint64(id), 3))
	for ctx.Err() == nil && b.take() {
		img := seeds[rng.IntN(len(seeds))]
		timed(ctx, rec, pullManifest, func() error { return cl.pullManifest(ctx, img) })
		for _, bl := range img.blobs {
			timed(ctx, rec, pullBlob, func() error { return cl.pullBlob(ctx, img.repo, bl) })
		}
	}
}

func pusher(ctx context.Context, cl *client, rec *recorder, b *budget, c config, id int) {
	rng := rand.New(rand.NewPCG(uint64(id), 5))
	tick := time.NewTicker(c.pushInterval)
	defer tick.Stop()
	for n := 0; ctx.Err() == nil && b.take(); n++ {
		img := buildImage(rng, fmt.Sprintf("load/push%d", id), fmt.Sprintf("t%d", n%10), "loadpush", fmt.Sprintf("%d.%d", id, n), c.pushSize)
		timed(ctx, rec, pushImage, func() error { return cl.push(ctx, img) })
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
}

func searcher(ctx context.Context, cl *client, rec *recorder, b *budget, seeds []image, id int) {
	rng := rand.New(rand.NewPCG(uint64(id), 7))
	for n := 0; ctx.Err() == nil && b.take(); n++ {
		if n%2 == 0 {
			img := seeds[rng.IntN(len(seeds))]
			timed(ctx, rec, searchQuery, func() error { return cl.search(ctx, "pkg:"+img.pkg, img.repo) })
		} else {
			timed(ctx, rec, searchQuery, func() error { return cl.search(ctx, "pkg:loadpush", "") })
		}
	}
}

// report prints one line per interval until ctx ends and returns the
// windows merged. The registry's RSS is sampled every second, so that each
// line gives its range over the interval, not one point of a heap that the
// garbage collector keeps resizing.
func report(ctx context.Context, reg *registry, rec *recorder, interval time.Duration) *window {
	total := newWindow()
	start := time.Now()
	printMemory(reg, "start")
	header()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	sample := time.NewTicker(time.Second)
	defer sample.Stop()
	var rss rssRange
	for {
		select {
		case <-sample.C:
			rss.sample(reg)
			continue
		case <-tick.C:
		case <-ctx.Done(): // the last, maybe shorter, interval
		}
		rss.sample(reg)
		w := rec.take()
		total.merge(w)
		line(reg, time.Since(start), w, rss)
		rss = rssRange{}
		if ctx.Err() != nil {
			return total
		}
	}
}

// rssRange is the smallest, largest and latest RSS sampled in an interval.
type rssRange struct {
	min, max, last int64
	err            error
}

func (r *rssRange) sample(reg *registry) {
	rss, _, err := reg.memory()
	if err != nil {
		r.err = err
		return
	}
	if r.min == 0 || rss < r.min {
		r.min = rss
	}
	r.max, r.last = max(r.max, rss), rss
}

func header() {
	var b strings.Builder
	fmt.Fprintf(&b, "%7s", "minute")
	for _, c := range classes {
		fmt.Fprintf(&b, " | %-26s", c+": n err p50/p99 ms")
	}
	fmt.Fprintf(&b, " | %-21s %6s", "RSS MiB: min max end", "queue")
	fmt.Println(b.String())
}

func line(reg *registry, at time.Duration, w *window, rss rssRange) {
	var b strings.Builder
	fmt.Fprintf(&b, "%7.1f", at.Minutes())
	for _, c := range classes {
		h := w.latency[c]
		fmt.Fprintf(&b, " | %7d %3d %6.1f/%7.1f", h.n, w.errors[c], ms(h.quantile(0.5)), ms(h.quantile(0.99)))
	}
	queue := "-"
	if q, ok := reg.metric(context.Background(), "oyster_catalog_queue_depth"); ok {
		queue = fmt.Sprint(q)
	}
	if rss.err != nil {
		fmt.Fprintf(&b, " | memory: %v", rss.err)
	} else {
		fmt.Fprintf(&b, " | %6.0f %6.0f %6.0f  %6s", mib(rss.min), mib(rss.max), mib(rss.last), queue)
	}
	fmt.Println(b.String())
}

func printMemory(reg *registry, when string) {
	if rss, peak, err := reg.memory(); err == nil {
		fmt.Printf("load: registry RSS at %s: %.1f MiB (peak %.1f MiB)\n", when, mib(rss), mib(peak))
	} else {
		fmt.Printf("load: registry memory at %s: %v\n", when, err)
	}
}

func summarize(reg *registry, total *window, samples []string) {
	fmt.Println("summary over the whole run:")
	fmt.Printf("  %-14s %10s %7s %9s %9s %9s\n", "class", "requests", "errors", "p50 ms", "p99 ms", "max ms")
	for _, c := range classes {
		h := total.latency[c]
		fmt.Printf("  %-14s %10d %7d %9.1f %9.1f %9.1f\n", c, h.n, total.errors[c], ms(h.quantile(0.5)), ms(h.quantile(0.99)), ms(h.max))
	}
	printMemory(reg, "end")
	drainQueue(reg)
	fmt.Printf("errors: %d\n", total.totalErrors())
	for _, s := range samples {
		fmt.Println("  error:", s)
	}
}

// drainQueue reports how long the catalog took to index what the pushers
// left queued, if the registry exports its queue depth.
func drainQueue(reg *registry) {
	start := time.Now()
	last, seen := 0.0, false
	for time.Since(start) < 2*time.Minute {
		q, ok := reg.metric(context.Background(), "oyster_catalog_queue_depth")
		if !ok {
			break
		}
		if last, seen = q, true; q == 0 {
			fmt.Printf("load: catalog queue empty %.1fs after the load\n", time.Since(start).Seconds())
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	if seen {
		fmt.Printf("load: catalog queue depth still %v %.0fs after the load\n", last, time.Since(start).Seconds())
	} else {
		fmt.Println("load: the registry exports no oyster_catalog_queue_depth")
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func mib(b int64) float64        { return float64(b) / (1 << 20) }
