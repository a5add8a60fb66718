package indexer

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Prometheus metrics of the indexer, served with the registry's at /metrics.
var (
	indexedTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "oyster_catalog_tasks_total",
		Help: "Catalog indexing tasks done, by kind (manifest, tags) and result (ok, error).",
	}, []string{"kind", "result"})
	indexSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "oyster_catalog_task_duration_seconds",
		Help:    "Time to index one manifest or refresh one repository's tags.",
		Buckets: []float64{.001, .005, .01, .05, .1, .5, 1, 5, 30, 120},
	}, []string{"kind"})
	queueDepth = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "oyster_catalog_queue_depth",
		Help: "Indexing tasks waiting or running.",
	})
	layersScanned = promauto.NewCounter(prometheus.CounterOpts{
		Name: "oyster_catalog_layers_scanned_total",
		Help: "Layers read from storage (cache misses); cached layers are not counted.",
	})
)
