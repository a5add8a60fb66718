// Package retry runs an operation again after transient failures, waiting
// longer each time with random jitter, so that a thousand nodes that lost
// the registry at once do not come back at the same instant.
package retry

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// Policy says how many times to try and how long to wait between tries.
type Policy struct {
	Attempts int           // tries in all; below 1 means 1
	Base     time.Duration // first wait; each next one doubles
	Max      time.Duration // cap on one wait
}

// Default is five tries waiting about 0.5, 1, 2 and 4 seconds.
var Default = Policy{Attempts: 5, Base: 500 * time.Millisecond, Max: 10 * time.Second}

// permanent marks an error that retrying cannot fix.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent wraps err so that Do returns it at once.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// Do calls op until it succeeds, returns a Permanent error, the attempts
// run out or ctx ends; it returns op's last error, unwrapped.
func Do(ctx context.Context, p Policy, op func() error) error {
	var err error
	for attempt := 0; ; attempt++ {
		if err = op(); err == nil {
			return nil
		}
		var perm permanent
		if errors.As(err, &perm) {
			return perm.err
		}
		if attempt+1 >= max(p.Attempts, 1) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(p.wait(attempt)):
		}
	}
}

// wait is backoff with equal jitter: between half and all of
// Base·2^attempt, capped at Max.
func (p Policy) wait(attempt int) time.Duration {
	d := p.Base << min(attempt, 20)
	if p.Max > 0 && (d > p.Max || d <= 0) {
		d = p.Max
	}
	if d <= 0 {
		return 0
	}
	return d/2 + rand.N(d/2+1)
}
