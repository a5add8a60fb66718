package lock

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestExclusiveAndShared(t *testing.T) {
	d := Dir(t.TempDir())
	ctx := context.Background()
	a, err := d.Exclusive(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := d.TryExclusive("k"); ok || err != nil {
		t.Fatalf("a second exclusive lock was granted (%v)", err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := d.Shared(short, "k"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("shared under exclusive: %v", err)
	}
	a.Unlock()
	s1, err := d.Shared(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	s2, err := d.Shared(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := d.TryExclusive("k"); ok {
		t.Fatal("exclusive granted under shared locks")
	}
	s1.Unlock()
	s2.Unlock()
	l, ok, err := d.TryExclusive("k")
	if !ok || err != nil {
		t.Fatalf("exclusive after every release: %v %v", ok, err)
	}
	l.Unlock()
}
