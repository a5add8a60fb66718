package retry

import (
	"context"
	"errors"
	"testing"
	"time"
)

var errFlaky = errors.New("flaky")

func TestDo(t *testing.T) {
	p := Policy{Attempts: 4, Base: time.Microsecond, Max: time.Millisecond}
	calls := 0
	if err := Do(context.Background(), p, func() error {
		if calls++; calls < 3 {
			return errFlaky
		}
		return nil
	}); err != nil || calls != 3 {
		t.Errorf("succeeded after %d calls: %v", calls, err)
	}
	calls = 0
	if err := Do(context.Background(), p, func() error { calls++; return errFlaky }); !errors.Is(err, errFlaky) || calls != 4 {
		t.Errorf("gave up after %d calls: %v", calls, err)
	}
	calls = 0
	if err := Do(context.Background(), p, func() error { calls++; return Permanent(errFlaky) }); err != errFlaky || calls != 1 {
		t.Errorf("permanent: %d calls, %v", calls, err)
	}
}

func TestWaitGrowsWithJitterUnderMax(t *testing.T) {
	p := Policy{Base: 100 * time.Millisecond, Max: time.Second}
	for attempt, lo := range []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 500 * time.Millisecond, 500 * time.Millisecond} {
		for range 20 {
			if w := p.wait(attempt); w < lo || w > min(2*lo, time.Second) {
				t.Fatalf("attempt %d waited %s, want within [%s, %s]", attempt, w, lo, min(2*lo, time.Second))
			}
		}
	}
}
