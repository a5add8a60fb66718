// Package lock holds per-key file locks (flock) in a directory shared by
// every stager and CLI call on a node, so that two processes never fetch or
// convert the same thing at once. The kernel drops a lock when its holder
// dies, kill -9 included: a crash never leaves a stale lock.
package lock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Dir is a directory of lock files, one per key.
type Dir string

// Lock is a held lock; Unlock releases it.
type Lock struct{ f *os.File }

// pollInterval is how often a waiting Lock retries; flock cannot be
// interrupted by a context, so waiting polls a non-blocking attempt.
const pollInterval = 20 * time.Millisecond

// Exclusive waits for the exclusive lock on key, or ctx's end.
func (d Dir) Exclusive(ctx context.Context, key string) (*Lock, error) {
	return d.wait(ctx, key, syscall.LOCK_EX)
}

// Shared waits for a shared lock on key: several holders at once, none
// while an exclusive holder has it.
func (d Dir) Shared(ctx context.Context, key string) (*Lock, error) {
	return d.wait(ctx, key, syscall.LOCK_SH)
}

// TryExclusive takes the exclusive lock on key if nobody holds the key;
// ok is false, with no error, if someone does.
func (d Dir) TryExclusive(key string) (l *Lock, ok bool, err error) {
	f, err := d.open(key)
	if err != nil {
		return nil, false, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("lock %s: %w", key, err)
	}
	return &Lock{f}, true, nil
}

func (d Dir) wait(ctx context.Context, key string, how int) (*Lock, error) {
	f, err := d.open(key)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if err == nil {
			return &Lock{f}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", key, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(pollInterval):
		}
	}
}

// open opens key's lock file; lock files are never removed, since a file
// removed while someone waits on it would let two holders in.
func (d Dir) open(key string) (*os.File, error) {
	if err := os.MkdirAll(string(d), 0o755); err != nil {
		return nil, err
	}
	return os.OpenFile(filepath.Join(string(d), key+".lock"), os.O_RDWR|os.O_CREATE, 0o644)
}

// Unlock releases the lock.
func (l *Lock) Unlock() error { return l.f.Close() }
