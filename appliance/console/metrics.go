package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/outpost-platform/outpost/appliance/console/kube"
	"github.com/outpost-platform/outpost/appliance/console/problem"
	"github.com/outpost-platform/outpost/appliance/console/tenancy"
)

// Point is [unix seconds, value].
type Point [2]float64

// Series is one line of a chart.
type Series struct {
	Name   string  `json:"name"`
	Points []Point `json:"points"`
}

// chartRanges are the time ranges the UI offers.
var chartRanges = map[string]time.Duration{
	"15m": 15 * time.Minute, "1h": time.Hour, "6h": 6 * time.Hour, "24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour,
}

// The queries are built here and only here: users never send PromQL, so a
// project member cannot read another namespace's series through the chart
// endpoints. Each query prefers the monitor's recording rules (exact
// workload mapping, cheap over long ranges; docs/monitoring.md) and falls
// back, with "or", to the raw series of the kubelet's cAdvisor endpoint,
// node_exporter and kube-state-metrics, for a Prometheus that lacks them.
const (
	// sum() strips the recorded metric's name so both sides of "or" have
	// the same (empty) label set: one series, the recorded one preferred.
	clusterCPUQuery    = `sum(cluster:cpu_utilisation:ratio) or (1 - avg(rate(node_cpu_seconds_total{mode=~"idle|iowait|steal"}[2m])))`
	clusterMemoryQuery = `sum(cluster:memory_utilisation:ratio) or (1 - sum(node_memory_MemAvailable_bytes) / sum(node_memory_MemTotal_bytes))`
	clusterDiskQuery   = `max(node:filesystem_usage:ratio{mountpoint="/"}) or (1 - sum(node_filesystem_avail_bytes{mountpoint="/"}) / sum(node_filesystem_size_bytes{mountpoint="/"}))`
)

// podPattern matches the names of a workload's pods, past and present, for
// the raw-series fallback.
func podPattern(kind, name string) string {
	n := regexp.QuoteMeta(name)
	switch kind {
	case kube.KindDeployments:
		return n + `-[a-z0-9]+-[a-z0-9]+`
	case kube.KindStatefulSets:
		return n + `-[0-9]+`
	case kube.KindCronJobs:
		return n + `-[0-9]+-[a-z0-9]+`
	default: // daemon sets, jobs
		return n + `-[a-z0-9]+`
	}
}

// workloadType is the recording rules' workload_type for a URL kind.
func workloadType(kind string) string { return strings.TrimSuffix(kind, "s") }

func workloadQueries(ns, kind, name string) map[string]string {
	wl := fmt.Sprintf(`namespace=%s,workload=%s,workload_type=%s`, strconv.Quote(ns), strconv.Quote(name), strconv.Quote(workloadType(kind)))
	raw := fmt.Sprintf(`namespace=%s,pod=~%s`, strconv.Quote(ns), strconv.Quote(podPattern(kind, name)))
	q := func(recorded, fallback string) string {
		return fmt.Sprintf(`sum(namespace_workload:%s{%s}) or %s`, recorded, wl, fallback)
	}
	return map[string]string{
		"cpu": q("container_cpu_usage_seconds:rate",
			fmt.Sprintf(`sum(rate(container_cpu_usage_seconds_total{%s,container!="",container!="POD"}[2m]))`, raw)),
		"memory": q("container_memory_working_set:bytes",
			fmt.Sprintf(`sum(container_memory_working_set_bytes{%s,container!="",container!="POD"})`, raw)),
		"networkReceive":  q("container_network_receive_bytes:rate", fmt.Sprintf(`sum(rate(container_network_receive_bytes_total{%s}[2m]))`, raw)),
		"networkTransmit": q("container_network_transmit_bytes:rate", fmt.Sprintf(`sum(rate(container_network_transmit_bytes_total{%s}[2m]))`, raw)),
		"restarts":        q("kube_pod_container_status_restarts:sum", fmt.Sprintf(`sum(kube_pod_container_status_restarts_total{%s})`, raw)),
	}
}

type promResponse struct {
	Status    string          `json:"status"`
	Error     string          `json:"error"`
	ErrorType string          `json:"errorType"`
	Data      json.RawMessage `json:"data"`
}

// promGet calls a Prometheus API endpoint of the monitor.
func (s *Console) promGet(ctx context.Context, path string, params url.Values) (json.RawMessage, error) {
	return s.monitor.prom(ctx, path, params)
}

// queryRange runs a range query and returns its series; the name of each
// is its label set, or name when the query yields one unlabeled series.
func (s *Console) queryRange(ctx context.Context, name, query string, start, end time.Time, step time.Duration) ([]Series, error) {
	data, err := s.promGet(ctx, "/api/v1/query_range", url.Values{"query": {query},
		"start": {strconv.FormatInt(start.Unix(), 10)}, "end": {strconv.FormatInt(end.Unix(), 10)},
		"step": {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)}})
	if err != nil {
		return nil, err
	}
	var matrix struct {
		Result []struct {
			Metric map[string]string `json:"metric"`
			Values [][2]any          `json:"values"`
		} `json:"result"`
	}
	if err := json.Unmarshal(data, &matrix); err != nil {
		return nil, fmt.Errorf("decoding monitoring series: %w", err)
	}
	out := []Series{}
	for _, r := range matrix.Result {
		sr := Series{Name: name, Points: make([]Point, 0, len(r.Values))}
		if len(r.Metric) > 0 {
			parts := []string{}
			for k, v := range r.Metric {
				parts = append(parts, k+"="+v)
			}
			sr.Name = strings.Join(parts, ",")
		}
		for _, v := range r.Values {
			ts, _ := v[0].(float64)
			str, _ := v[1].(string)
			f, err := strconv.ParseFloat(str, 64)
			if err != nil {
				continue
			}
			sr.Points = append(sr.Points, Point{ts, f})
		}
		out = append(out, sr)
	}
	return out, nil
}

// chartWindow parses ?range= and returns start, end and a step giving
// about 120 points.
func (s *Console) chartWindow(c echo.Context) (string, time.Time, time.Time, time.Duration, error) {
	r := c.QueryParam("range")
	if r == "" {
		r = "1h"
	}
	d, ok := chartRanges[r]
	if !ok {
		return "", time.Time{}, time.Time{}, 0, problem.Field("range", "must be one of 15m, 1h, 6h, 24h, 7d")
	}
	end := s.now()
	step := max(d/120, 15*time.Second)
	return r, end.Add(-d), end, step, nil
}

// chartAnswer is the JSON of a chart endpoint.
type chartAnswer struct {
	Range  string              `json:"range"`
	Step   float64             `json:"stepSeconds"`
	Series map[string][]Series `json:"series"`
}

func (s *Console) runCharts(ctx context.Context, queries map[string]string, r string, start, end time.Time, step time.Duration) (chartAnswer, error) {
	ans := chartAnswer{Range: r, Step: step.Seconds(), Series: map[string][]Series{}}
	for name, q := range queries {
		series, err := s.queryRange(ctx, name, q, start, end, step)
		if err != nil {
			return ans, err
		}
		ans.Series[name] = series
	}
	return ans, nil
}

func (s *Console) handleClusterMetrics(c echo.Context) error {
	r, start, end, step, err := s.chartWindow(c)
	if err != nil {
		return err
	}
	ans, err := s.runCharts(c.Request().Context(), map[string]string{"cpu": clusterCPUQuery, "memory": clusterMemoryQuery, "disk": clusterDiskQuery},
		r, start, end, step)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ans)
}

func (s *Console) handleWorkloadMetrics(c echo.Context) error {
	ns, err := s.inProject(c, tenancy.ActionView)
	if err != nil {
		return err
	}
	kind, name := c.Param("kind"), c.Param("name")
	if _, err := s.cluster.Workload(ns, kind, name); err != nil {
		return err
	}
	r, start, end, step, err := s.chartWindow(c)
	if err != nil {
		return err
	}
	ans, err := s.runCharts(c.Request().Context(), workloadQueries(ns, kind, name), r, start, end, step)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ans)
}
