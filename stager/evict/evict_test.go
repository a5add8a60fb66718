package evict

import (
	"reflect"
	"testing"
	"time"
)

func keys(items []Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Key)
	}
	return out
}

func TestSelect(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	items := []Item{
		{Key: "newest", Bytes: 30, LastUsed: t0.Add(5 * time.Hour)},
		{Key: "pinned-oldest", Bytes: 30, LastUsed: t0, Pinned: true},
		{Key: "leased-old", Bytes: 30, LastUsed: t0.Add(time.Hour), Leased: true},
		{Key: "old", Bytes: 30, LastUsed: t0.Add(2 * time.Hour)},
		{Key: "middle", Bytes: 30, LastUsed: t0.Add(3 * time.Hour)},
	}
	for _, c := range []struct {
		usage int64
		w     Watermarks
		want  []string
	}{
		{120, Watermarks{120, 90}, nil},                                 // at the high mark: nothing
		{150, Watermarks{120, 90}, []string{"old", "middle"}},           // down to 90
		{121, Watermarks{120, 100}, []string{"old"}},                    // one is enough
		{300, Watermarks{120, 90}, []string{"old", "middle", "newest"}}, // never pinned or leased, even if short
	} {
		if got := keys(Select(items, c.usage, c.w)); !reflect.DeepEqual(got, c.want) {
			t.Errorf("usage %d: evicted %v, want %v", c.usage, got, c.want)
		}
	}
	if items[0].Key != "newest" {
		t.Error("Select reordered its input")
	}
}
