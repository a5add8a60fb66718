// Package progress shows how far long terminal work has got: a line that
// redraws itself on a terminal, and a line per tenth of the work otherwise
// (so logs of CI jobs stay readable).
package progress

import (
	"fmt"
	"io"
	"os"
	"time"
)

// Reporter prints progress of one piece of work to w.
type Reporter struct {
	w        io.Writer
	label    string
	terminal bool
	start    time.Time
	lastStep int
}

// New returns a Reporter for work called label, printing to w.
func New(w io.Writer, label string) *Reporter {
	return &Reporter{w: w, label: label, terminal: isTerminal(w), start: time.Now(), lastStep: -1}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Update reports that done of total items are finished.
func (r *Reporter) Update(done, total int) {
	pct := 100
	if total > 0 {
		pct = done * 100 / total
	}
	elapsed := time.Since(r.start).Round(time.Second)
	if r.terminal {
		fmt.Fprintf(r.w, "\r%s %s %3d%% (%d/%d) %s", r.label, bar(pct), pct, done, total, elapsed)
		if done == total {
			fmt.Fprintln(r.w)
		}
		return
	}
	if step := pct / 10; step != r.lastStep || done == total {
		r.lastStep = step
		fmt.Fprintf(r.w, "%s: %d/%d (%d%%) after %s\n", r.label, done, total, pct, elapsed)
	}
}

func bar(pct int) string {
	const width = 30
	filled := pct * width / 100
	b := make([]byte, width)
	for i := range b {
		b[i] = '.'
		if i < filled {
			b[i] = '#'
		}
	}
	return "[" + string(b) + "]"
}
