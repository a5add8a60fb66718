package server

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
)

// listOf lists names as distribution's Namespace.Repositories does:
// after last, into buf, io.EOF with the final batch.
func listOf(names []string) func(buf []string, last string) (int, error) {
	return func(buf []string, last string) (int, error) {
		i, _ := slices.BinarySearch(names, last)
		if i < len(names) && names[i] == last {
			i++
		}
		n := copy(buf, names[i:])
		if i+n == len(names) {
			return n, io.EOF
		}
		return n, nil
	}
}

// TestVisiblePageKeepsToItsBudget: pages hold only visible repositories,
// a page stops after catalogScanPages reads with a Link to go on, and
// following the Links finds every visible repository once.
func TestVisiblePageKeepsToItsBudget(t *testing.T) {
	var names []string
	for i := range 45 {
		names = append(names, fmt.Sprintf("hidden/r%02d", i))
	}
	names = append(names, "pub/a", "pub/b", "pub/c")
	slices.Sort(names)
	visible := func(repo string) bool { return strings.HasPrefix(repo, "pub/") }
	list := listOf(names)

	repos, next, err := visiblePage(list, "", 2, visible)
	if err != nil || len(repos) != 0 || next != "hidden/r19" {
		t.Fatalf("first page: %q next %q %v; want nothing after a budget of %d reads of 2, next hidden/r19", repos, next, err, catalogScanPages)
	}
	var all []string
	pages := 0
	for last := ""; ; pages++ {
		repos, next, err := visiblePage(list, last, 2, visible)
		if err != nil || pages > 10 {
			t.Fatalf("page %d: %v", pages, err)
		}
		all = append(all, repos...)
		if next == "" {
			break
		}
		last = next
	}
	if !slices.Equal(all, []string{"pub/a", "pub/b", "pub/c"}) {
		t.Errorf("following the Links: %q", all)
	}
	if repos, next, _ := visiblePage(list, "hidden/r44", 2, visible); !slices.Equal(repos, []string{"pub/a", "pub/b"}) || next != "pub/b" {
		t.Errorf("a full page before the end: %q next %q", repos, next)
	}
	if repos, next, _ := visiblePage(list, "pub/a", 2, visible); !slices.Equal(repos, []string{"pub/b", "pub/c"}) || next != "" {
		t.Errorf("the last page: %q next %q, want no next", repos, next)
	}
}
