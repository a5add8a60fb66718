package remote

import (
	"io"
	"strings"
	"testing"
	"time"
)

// TestLimiterPaces: readers sharing a limiter are made to wait, together,
// as long as their bytes take at the rate (on a fake clock).
func TestLimiterPaces(t *testing.T) {
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var slept time.Duration
	l := &limiter{rate: 1000, now: func() time.Time { return clock }, sleep: func(d time.Duration) { slept += d; clock = clock.Add(d) }}
	a := throttled{io.NopCloser(strings.NewReader(strings.Repeat("a", 3000))), l}
	b := throttled{io.NopCloser(strings.NewReader(strings.Repeat("b", 2000))), l}
	for _, r := range []io.Reader{a, b} {
		if _, err := io.Copy(io.Discard, r); err != nil {
			t.Fatal(err)
		}
	}
	if slept != 5*time.Second {
		t.Errorf("5000 bytes at 1000 B/s slept %s in all, want 5s", slept)
	}
}
