// Command headload measures how many requests per second a registry answers
// for one URL (by default a manifest HEAD) over a fixed number of keep-alive
// connections, for `make bench`.
//
// Each of -c workers owns one connection and sends requests back to back.
// After -warmup (connections opened, caches warm, not counted) it counts
// for -d, or until -n requests are done, whichever comes first. Only 2xx
// answers count as successes; anything else is reported and makes the exit
// status 1.
//
//	headload -url http://127.0.0.1:5000/v2/repo/manifests/tag [-c 100] [-d 5s] [-n 2000000]
//
// With -login (a token endpoint URL with its service and scope, e.g.
// http://127.0.0.1:5000/auth/token?service=oyster&scope=repository:repo:pull)
// and -user, it first logs in there with HTTP Basic (the password from the
// environment variable HEADLOAD_PASSWORD) and sends the bearer token it gets
// with every request, as a logged-in client does.
//
// The last line of output is machine-readable:
//
//	RESULT rps=<float> requests=<n> errors=<n> seconds=<float> p50_ms=<float> p99_ms=<float>
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

const defaultAccept = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, " +
	"application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json"

func main() {
	url := flag.String("url", "", "URL to request (required)")
	method := flag.String("method", http.MethodHead, "HTTP method")
	accept := flag.String("accept", defaultAccept, "Accept header")
	conns := flag.Int("c", 100, "concurrent connections (one worker each)")
	dur := flag.Duration("d", 5*time.Second, "measured duration")
	warmup := flag.Duration("warmup", time.Second, "unmeasured warm-up before the measured duration")
	maxReq := flag.Int64("n", 2_000_000, "stop the measured phase after this many requests")
	timeout := flag.Duration("timeout", 10*time.Second, "per-request timeout")
	login := flag.String("login", "", "token endpoint to log in at first (with -user; password in $HEADLOAD_PASSWORD)")
	user := flag.String("user", "", "user name for -login")
	flag.Parse()
	if *url == "" || *conns < 1 || *dur <= 0 || *maxReq < 1 || (*login == "") != (*user == "") {
		flag.Usage()
		os.Exit(2)
	}
	headers := http.Header{"Accept": {*accept}}
	if *login != "" {
		token, err := fetchToken(*login, *user, os.Getenv("HEADLOAD_PASSWORD"))
		if err != nil {
			fmt.Fprintln(os.Stderr, "headload: logging in:", err)
			os.Exit(1)
		}
		headers.Set("Authorization", "Bearer "+token)
	}
	res, err := run(*url, *method, headers, *conns, *warmup, *dur, *maxReq, *timeout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "headload:", err)
		os.Exit(1)
	}
	fmt.Printf("%s %s: %d connections, %.2fs measured: %d requests, %d errors, %.0f req/s, latency p50 %.2f ms, p99 %.2f ms\n",
		*method, *url, *conns, res.seconds, res.requests, res.errors, res.rps(), res.p50, res.p99)
	for _, e := range res.samples {
		fmt.Println("  error:", e)
	}
	fmt.Printf("RESULT rps=%.1f requests=%d errors=%d seconds=%.3f p50_ms=%.3f p99_ms=%.3f\n",
		res.rps(), res.requests, res.errors, res.seconds, res.p50, res.p99)
	if res.errors > 0 || res.requests == 0 {
		os.Exit(1)
	}
}

type result struct {
	requests, errors int64
	seconds          float64
	p50, p99         float64
	samples          []string
}

func (r result) rps() float64 {
	if r.seconds == 0 {
		return 0
	}
	return float64(r.requests) / r.seconds
}

// phase values shared by the workers.
const (
	phaseWarmup int32 = iota
	phaseMeasure
	phaseDone
)

func run(url, method string, headers http.Header, conns int, warmup, dur time.Duration, maxReq int64, timeout time.Duration) (result, error) {
	transport := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	// Fail fast on a wrong URL instead of hammering it.
	if err := once(client, url, method, headers); err != nil {
		return result{}, err
	}

	var (
		phase     atomic.Int32
		started   atomic.Int64 // measured requests begun, bounds the count
		errCount  atomic.Int64
		mu        sync.Mutex
		latencies []time.Duration
		samples   []string
		wg        sync.WaitGroup
	)
	perWorkerCap := int(min(maxReq/int64(conns)+1, 1<<20))
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, perWorkerCap)
			var localErrs []string
			for {
				p := phase.Load()
				if p == phaseDone {
					break
				}
				if p == phaseMeasure && started.Add(1) > maxReq {
					break
				}
				t0 := time.Now()
				err := once(client, url, method, headers)
				lat := time.Since(t0)
				// Only completions inside the measured window count.
				if phase.Load() != phaseMeasure {
					continue
				}
				if err != nil {
					errCount.Add(1)
					if len(localErrs) < 3 {
						localErrs = append(localErrs, err.Error())
					}
					continue
				}
				local = append(local, lat)
			}
			mu.Lock()
			latencies = append(latencies, local...)
			if len(samples) < 5 {
				samples = append(samples, localErrs...)
			}
			mu.Unlock()
		}()
	}

	time.Sleep(warmup)
	measureStart := time.Now()
	phase.Store(phaseMeasure)
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	// Stop at the deadline, or earlier once the request budget is spent.
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
			if started.Load() >= maxReq {
				break loop
			}
		}
	}
	elapsed := time.Since(measureStart)
	phase.Store(phaseDone)
	wg.Wait()

	res := result{requests: int64(len(latencies)), errors: errCount.Load(), seconds: elapsed.Seconds()}
	if len(samples) > 5 {
		samples = samples[:5]
	}
	res.samples = samples
	if len(latencies) > 0 {
		slices.Sort(latencies)
		res.p50 = ms(latencies[len(latencies)*50/100])
		res.p99 = ms(latencies[min(len(latencies)*99/100, len(latencies)-1)])
	}
	return res, nil
}

func once(client *http.Client, url, method string, headers http.Header) error {
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		return err
	}
	req.Header = headers.Clone()
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s", method, url, resp.Status)
	}
	return nil
}

// fetchToken logs in at a token endpoint (GET with HTTP Basic) and returns
// the bearer token of its JSON answer ("token", or OAuth2's "access_token").
func fetchToken(endpoint, user, password string) (string, error) {
	req, err := http.NewRequest(http.MethodGet, endpoint, nil)
	if err != nil {
		return "", err
	}
	req.SetBasicAuth(user, password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var answer struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&answer); err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s (%v)", endpoint, resp.Status, err)
	}
	if answer.Token == "" {
		answer.Token = answer.AccessToken
	}
	if answer.Token == "" {
		return "", fmt.Errorf("%s answered no token", endpoint)
	}
	return answer.Token, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
