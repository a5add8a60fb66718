package stager

import "github.com/prometheus/client_golang/prometheus"

// metrics are the daemon's Prometheus series, in a registry of their own.
type metrics struct {
	reg     *prometheus.Registry
	fetched prometheus.Counter
	staged  *prometheus.CounterVec
	evicted prometheus.Counter
	usage   prometheus.Gauge
	polls   *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		fetched: prometheus.NewCounter(prometheus.CounterOpts{Name: "oyster_stager_blob_bytes_fetched_total",
			Help: "Bytes of blobs downloaded from the registry."}),
		staged: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "oyster_stager_stage_total",
			Help: "Stage requests by format and result."}, []string{"format", "result"}),
		evicted: prometheus.NewCounter(prometheus.CounterOpts{Name: "oyster_stager_evicted_images_total",
			Help: "Images evicted from the cache."}),
		usage: prometheus.NewGauge(prometheus.GaugeOpts{Name: "oyster_stager_cache_bytes",
			Help: "Bytes the cache holds, as of the last eviction pass."}),
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "oyster_stager_polls_total",
			Help: "Staging list polls by result (changed, unchanged, error)."}, []string{"result"}),
	}
	m.reg.MustRegister(m.fetched, m.staged, m.evicted, m.usage, m.polls)
	return m
}
