package registry

import (
	"errors"
	"net/http"

	distmetrics "github.com/distribution/distribution/v3/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

type metrics struct {
	requests       *prometheus.CounterVec
	duration       *prometheus.HistogramVec
	gcRuns         *prometheus.CounterVec
	gcDeletedBlobs prometheus.Counter
	gcFreedBytes   prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "outpost_registry_http_requests_total",
			Help: "Registry API requests by method and status code.",
		}, []string{"method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "outpost_registry_http_request_duration_seconds",
			Help:    "Registry API request latency by method.",
			Buckets: []float64{.005, .025, .1, .5, 2, 10, 60},
		}, []string{"method"}),
		gcRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "outpost_registry_gc_runs_total",
			Help: "Registry garbage collections by result (ok, error).",
		}, []string{"result"}),
		gcDeletedBlobs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "outpost_registry_gc_deleted_blobs_total",
			Help: "Blobs deleted by registry garbage collection.",
		}),
		gcFreedBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "outpost_registry_gc_freed_bytes_total",
			Help: "Bytes freed by registry garbage collection.",
		}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.requests, m.duration, m.gcRuns, m.gcDeletedBlobs, m.gcFreedBytes,
			distmetrics.StorageNamespace} {
			if err := reg.Register(c); err != nil {
				var are prometheus.AlreadyRegisteredError
				if !errors.As(err, &are) {
					panic(err) // a programming error: two collectors with one name
				}
			}
		}
	}
	return m
}

func (m *metrics) instrument(h http.Handler) http.Handler {
	return promhttp.InstrumentHandlerDuration(m.duration, promhttp.InstrumentHandlerCounter(m.requests, h))
}
