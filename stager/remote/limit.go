package remote

import (
	"io"
	"sync"
	"time"
)

// limiter paces reads to rate bytes per second across every reader that
// shares it: each read books its bytes on a shared timeline and sleeps
// until its booking falls due.
type limiter struct {
	rate int64
	mu   sync.Mutex
	next time.Time
	// now and sleep are time.Now and time.Sleep but in tests.
	now   func() time.Time
	sleep func(time.Duration)
}

func newLimiter(rate int64) *limiter {
	return &limiter{rate: rate, now: time.Now, sleep: time.Sleep}
}

func (l *limiter) wait(n int) {
	l.mu.Lock()
	now := l.now()
	if l.next.Before(now) {
		l.next = now
	}
	l.next = l.next.Add(time.Duration(int64(n) * int64(time.Second) / l.rate))
	d := l.next.Sub(now)
	l.mu.Unlock()
	l.sleep(d)
}

type throttled struct {
	io.ReadCloser
	l *limiter
}

func (t throttled) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	if n > 0 {
		t.l.wait(n)
	}
	return n, err
}
