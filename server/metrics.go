package server

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/oyster-registry/oyster/events"
)

var (
	requestsTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "oyster_http_requests_total",
		Help: "HTTP requests served, by surface, method and status code.",
	}, []string{"surface", "method", "code"})
	requestSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "oyster_http_request_duration_seconds",
		Help:    "Time to serve HTTP requests, by surface.",
		Buckets: prometheus.DefBuckets,
	}, []string{"surface"})
	directUploadBytes = promauto.NewCounter(prometheus.CounterOpts{
		Name: "oyster_upload_direct_bytes_total",
		Help: "Bytes of blob upload chunks written by Oyster's own upload path (storage.filesystem.direct_uploads) rather than distribution's.",
	})
	eventsTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "oyster_registry_events_total",
		Help: "Manifest and tag changes seen by the registry, by action.",
	}, []string{"action"})
)

var countEvents = events.ListenerFunc(func(_ context.Context, ev events.Event) {
	eventsTotal.WithLabelValues(string(ev.Action)).Inc()
})

// distribution registers its HTTP metrics in the global Prometheus registry
// and panics if two Apps do so in one process (as tests do); only the first
// App of a process gets them.
var distributionMetricsOnce sync.Once

func claimDistributionMetrics() bool {
	claimed := false
	distributionMetricsOnce.Do(func() { claimed = true })
	return claimed
}

func surface(r *http.Request) string {
	path := r.URL.Path
	switch {
	case pathOf(r).Kind != notV2:
		return "v2"
	case strings.HasPrefix(path, "/api/"):
		return "api"
	case path == "/metrics" || path == "/healthz":
		return "ops"
	default:
		return "ui"
	}
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer (for flushing).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		s := surface(r)
		if rec.code == 0 {
			rec.code = http.StatusOK
		}
		requestsTotal.WithLabelValues(s, r.Method, strconv.Itoa(rec.code)).Inc()
		requestSeconds.WithLabelValues(s).Observe(time.Since(start).Seconds())
	})
}
