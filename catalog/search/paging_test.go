package search

import (
	"math"
	"strings"
	"testing"
)

// TestPlanRefusesPagesPastTheWindow, including pages whose offset would
// overflow an int.
func TestPlanRefusesPagesPastTheWindow(t *testing.T) {
	for _, tc := range []struct {
		page, per int
		ok        bool
	}{
		{1, 0, true}, {500, 20, true}, {501, 20, false}, {100, 100, true}, {101, 100, false},
		{MaxResultWindow, 1, true}, {MaxResultWindow + 1, 1, false}, {MaxResultWindow, 3, false},
		{math.MaxInt, 20, false}, {math.MaxInt, math.MaxInt, false}, {math.MaxInt / 20, 20, false}, {math.MinInt, 20, true},
	} {
		p, err := plan(Request{Page: tc.page, PerPage: tc.per})
		if ok := err == nil; ok != tc.ok {
			t.Errorf("page %d per_page %d: %v, want ok=%v", tc.page, tc.per, err, tc.ok)
			continue
		}
		if err != nil && !strings.Contains(err.Error(), "past the first") {
			t.Errorf("page %d per_page %d: %v", tc.page, tc.per, err)
		}
		if err == nil && (p.from < 0 || p.from >= MaxResultWindow) {
			t.Errorf("page %d per_page %d: from %d", tc.page, tc.per, p.from)
		}
	}
}
