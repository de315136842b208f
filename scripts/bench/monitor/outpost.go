package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/outpost-platform/outpost/appliance/monitor"
)

// apiQuery runs an instant query through an HTTP handler of the
// Prometheus API and returns the first sample's value.
func apiQuery(h http.Handler, base, q string) (float64, error) {
	var body []byte
	var code int
	if h != nil {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/query?"+url.Values{"query": {q}}.Encode(), nil))
		body, code = rec.Body.Bytes(), rec.Code
	} else {
		b, err := httpGet(base + "/api/v1/query?" + url.Values{"query": {q}}.Encode())
		if err != nil {
			return 0, err
		}
		body, code = b, http.StatusOK
	}
	if code != http.StatusOK {
		return 0, fmt.Errorf("query %q: HTTP %d: %s", q, code, body)
	}
	var r struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return 0, err
	}
	if len(r.Data.Result) == 0 {
		return 0, errNoResult
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	return strconv.ParseFloat(s, 64)
}

func sumGathered(g prometheus.Gatherer, name string) (float64, error) {
	mfs, err := g.Gather()
	if err != nil {
		return 0, err
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum, nil
}

type outpostScraper struct {
	m *monitor.Monitor
	h http.Handler
}

func (s outpostScraper) query(q string) (float64, error) { return apiQuery(s.h, "", q) }
func (s outpostScraper) samplesAppended() (float64, error) {
	return sumGathered(s.m.Gatherer(), "prometheus_tsdb_head_samples_appended_total")
}
func (s outpostScraper) headSeries() (float64, error) {
	return sumGathered(s.m.Gatherer(), "prometheus_tsdb_head_series")
}
func (s outpostScraper) cpu() (time.Duration, error) { return selfCPU(), nil }
func (s outpostScraper) rss() float64                { return rss(os.Getpid()) }

func ingestOutpost(o options, targetsAddr, dir string) (ingestResult, error) {
	cfg := monitor.Config{Dir: dir, ScrapeInterval: o.interval, ScrapeTimeout: min(o.interval, 10*time.Second), MinFreeDiskBytes: 64 << 20,
		SamplesPerChunk: o.samplesPerChunk}
	for i, u := range targetURLs(targetsAddr, o.targets) {
		cfg.Targets = append(cfg.Targets, monitor.Target{Name: fmt.Sprintf("bench-%d", i), Job: "bench", URL: u})
	}
	m, err := monitor.New(cfg, monitor.Deps{Logger: discard(), NodeName: "bench"})
	if err != nil {
		return ingestResult{}, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() { cancel(); <-done }()
	fmt.Println("ingestion: Outpost monitoring (in this process) ...")
	return ingest("outpost (embedded TSDB + Prometheus scrape code)", outpostScraper{m: m, h: m.Handler()}, o, targetsAddr)
}
