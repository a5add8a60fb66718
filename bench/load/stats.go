package main

import (
	"math"
	"sync"
	"time"
)

// histogram counts latencies in buckets 2% wide, so that a run of any
// length costs the same memory and a percentile is off by at most 2%.
type histogram struct {
	counts []int64 // counts[i]: latencies in [bucketLow(i), bucketLow(i+1))
	n      int64
	max    time.Duration
}

const (
	bucketGrowth = 1.02
	bucketFloor  = time.Microsecond // everything faster lands in bucket 0
	bucketCount  = 1000             // 1 µs · 1.02^1000 ≈ 7 min: beyond any timeout
)

func bucketOf(d time.Duration) int {
	if d <= bucketFloor {
		return 0
	}
	i := int(math.Log(float64(d)/float64(bucketFloor)) / math.Log(bucketGrowth))
	return min(i, bucketCount-1)
}

func bucketLow(i int) time.Duration {
	return time.Duration(float64(bucketFloor) * math.Pow(bucketGrowth, float64(i)))
}

func (h *histogram) add(d time.Duration) {
	if h.counts == nil {
		h.counts = make([]int64, bucketCount)
	}
	h.counts[bucketOf(d)]++
	h.n++
	h.max = max(h.max, d)
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		if c != 0 && h.counts == nil {
			h.counts = make([]int64, bucketCount)
		}
		if c != 0 {
			h.counts[i] += c
		}
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// quantile returns the latency below which a fraction q of the samples
// fall: the upper edge of the bucket holding that sample, capped at the
// largest latency seen.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.n)))
	var seen int64
	for i, c := range h.counts {
		if seen += c; seen >= rank {
			return min(bucketLow(i+1), h.max)
		}
	}
	return h.max
}

// class is one kind of request the load generator makes.
type class string

const (
	pullManifest class = "pull manifest"
	pullBlob     class = "pull blob"
	pushImage    class = "push image"
	searchQuery  class = "search"
)

var classes = []class{pullManifest, pullBlob, pushImage, searchQuery}

// window holds one minute (or the whole run) of results per class.
type window struct {
	latency map[class]*histogram
	errors  map[class]int64
}

func newWindow() *window {
	w := &window{latency: map[class]*histogram{}, errors: map[class]int64{}}
	for _, c := range classes {
		w.latency[c] = &histogram{}
	}
	return w
}

func (w *window) merge(o *window) {
	for _, c := range classes {
		w.latency[c].merge(o.latency[c])
		w.errors[c] += o.errors[c]
	}
}

func (w *window) totalErrors() int64 {
	var n int64
	for _, e := range w.errors {
		n += e
	}
	return n
}

// recorder collects results from every worker into the current window;
// the reporter swaps windows each minute.
type recorder struct {
	mu      sync.Mutex
	current *window
	samples []string // the first errors, for the report
}

const maxErrorSamples = 20

func newRecorder() *recorder { return &recorder{current: newWindow()} }

func (r *recorder) ok(c class, d time.Duration) {
	r.mu.Lock()
	r.current.latency[c].add(d)
	r.mu.Unlock()
}

func (r *recorder) fail(c class, err error) {
	r.mu.Lock()
	r.current.errors[c]++
	if len(r.samples) < maxErrorSamples {
		r.samples = append(r.samples, string(c)+": "+err.Error())
	}
	r.mu.Unlock()
}

// take returns the current window and starts a new one.
func (r *recorder) take() *window {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.current
	r.current = newWindow()
	return w
}

func (r *recorder) errorSamples() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.samples...)
}
