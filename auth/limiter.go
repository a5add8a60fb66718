package auth

import (
	"sync"
	"time"
)

// limiter counts failed logins per source; a source with max failures in
// the current window is refused until the window ends.
type limiter struct {
	max    int
	window time.Duration

	mu      sync.Mutex
	sources map[string]*failures
}

type failures struct {
	count int
	since time.Time
}

func newLimiter(max int, window time.Duration) *limiter {
	return &limiter{max: max, window: window, sources: map[string]*failures{}}
}

// blocked reports how long source must still wait, or 0.
func (l *limiter) blocked(source string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.sources[source]
	if f == nil || f.count < l.max {
		return 0
	}
	if end := f.since.Add(l.window); now.Before(end) {
		return end.Sub(now)
	}
	delete(l.sources, source)
	return 0
}

func (l *limiter) fail(source string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.sources[source]
	if f == nil || now.Sub(f.since) >= l.window {
		f = &failures{since: now}
		l.sources[source] = f
		if len(l.sources) > 4096 {
			l.forgetOld(now)
		}
	}
	f.count++
}

// forgetOld drops finished windows so that the map stays small.
func (l *limiter) forgetOld(now time.Time) {
	for src, f := range l.sources {
		if now.Sub(f.since) >= l.window {
			delete(l.sources, src)
		}
	}
}
