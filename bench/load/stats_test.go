package main

import (
	"testing"
	"time"
)

// TestHistogramQuantiles checks the percentiles the report prints against
// exact ones: within the 2% bucket width, never below the true value, and
// never above the largest sample.
func TestHistogramQuantiles(t *testing.T) {
	var h histogram
	var samples []time.Duration
	for i := 1; i <= 10000; i++ {
		d := time.Duration(i) * 37 * time.Microsecond
		samples = append(samples, d)
		h.add(d)
	}
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
		exact := samples[int(q*float64(len(samples)))-1]
		got := h.quantile(q)
		if got < exact || float64(got) > float64(exact)*bucketGrowth {
			t.Errorf("quantile %v = %v, exact %v", q, got, exact)
		}
	}
	if h.quantile(1) != samples[len(samples)-1] || h.max != samples[len(samples)-1] {
		t.Errorf("max %v, quantile(1) %v, want %v", h.max, h.quantile(1), samples[len(samples)-1])
	}
	var empty histogram
	if empty.quantile(0.99) != 0 {
		t.Errorf("empty histogram quantile = %v", empty.quantile(0.99))
	}
}

// TestHistogramMerge checks that merged windows count like one.
func TestHistogramMerge(t *testing.T) {
	var a, b, all histogram
	for i := 1; i <= 1000; i++ {
		d := time.Duration(i) * time.Millisecond
		all.add(d)
		if i%3 == 0 {
			a.add(d)
		} else {
			b.add(d)
		}
	}
	var merged histogram
	merged.merge(&a)
	merged.merge(&b)
	if merged.n != all.n || merged.max != all.max || merged.quantile(0.99) != all.quantile(0.99) {
		t.Errorf("merged n=%d max=%v p99=%v, want n=%d max=%v p99=%v", merged.n, merged.max, merged.quantile(0.99), all.n, all.max, all.quantile(0.99))
	}
}
