package progress

import (
	"bytes"
	"strings"
	"testing"
)

func TestNonTerminalPrintsEveryTenthAndTheEnd(t *testing.T) {
	var buf bytes.Buffer
	r := New(&buf, "reindex")
	for i := 0; i <= 200; i++ {
		r.Update(i, 200)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 11 || !strings.HasPrefix(lines[10], "reindex: 200/200 (100%)") {
		t.Fatalf("got %d lines:\n%s", len(lines), buf.String())
	}
}

func TestEmptyWorkIsComplete(t *testing.T) {
	var buf bytes.Buffer
	New(&buf, "reindex").Update(0, 0)
	if !strings.Contains(buf.String(), "0/0 (100%)") {
		t.Fatalf("got %q", buf.String())
	}
}
