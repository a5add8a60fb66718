// Command stagerpath measures what a job pays at start: it runs
// `stager path ARGS…` (of an image already staged) n times, one after the
// other, and prints the 50th and 99th percentile wall times in
// milliseconds, process start included. For `make bench`.
//
//	stagerpath -n 300 -- /path/to/stager path --cache DIR … REF
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"time"
)

func main() {
	n := flag.Int("n", 300, "runs")
	flag.Parse()
	argv := flag.Args()
	if len(argv) == 0 {
		fmt.Fprintln(os.Stderr, "usage: stagerpath [-n N] -- STAGER path ARGS…")
		os.Exit(2)
	}
	times := make([]time.Duration, *n)
	for i := range times {
		start := time.Now()
		out, err := exec.Command(argv[0], argv[1:]...).Output()
		times[i] = time.Since(start)
		if err != nil || len(out) == 0 {
			fmt.Fprintf(os.Stderr, "stagerpath: run %d: %v %s\n", i, err, out)
			os.Exit(1)
		}
	}
	slices.Sort(times)
	pct := func(p int) float64 { return float64(times[(len(times)-1)*p/100].Microseconds()) / 1000 }
	fmt.Printf("%.2f %.2f\n", pct(50), pct(99))
}
