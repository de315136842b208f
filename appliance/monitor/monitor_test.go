package monitor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"

	"github.com/outpost-platform/outpost/appliance/monitor/settings"
)

// exporter is a real HTTP metrics target whose value the test controls.
type exporter struct {
	*httptest.Server
	value atomic.Int64
}

func newExporter(t *testing.T) *exporter {
	e := &exporter{}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprintf(w, "# HELP demo_value A value the test sets.\n# TYPE demo_value gauge\ndemo_value{color=\"blue\"} %d\n", e.value.Load())
		fmt.Fprintf(w, "# HELP demo_requests_total Requests served.\n# TYPE demo_requests_total counter\ndemo_requests_total 42\n")
	}))
	t.Cleanup(e.Close)
	return e
}

type testMonitor struct {
	*Monitor
	api  *httptest.Server
	stop func()
}

// startMonitor runs a Monitor with fast timers on a temp dir and waits
// for its TSDB to open.
func startMonitor(t *testing.T, cfg Config, deps Deps) *testMonitor {
	t.Helper()
	tm := startMonitorNoWait(t, cfg, deps)
	select {
	case <-tm.store.Ready():
	case <-time.After(30 * time.Second):
		t.Fatal("monitoring TSDB did not open")
	}
	return tm
}

func startMonitorNoWait(t *testing.T, cfg Config, deps Deps) *testMonitor {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	if cfg.ScrapeInterval == 0 {
		cfg.ScrapeInterval = 200 * time.Millisecond
	}
	if cfg.EvaluationInterval == 0 {
		cfg.EvaluationInterval = 200 * time.Millisecond
	}
	if cfg.AlertResendDelay == 0 {
		cfg.AlertResendDelay = 200 * time.Millisecond
	}
	if cfg.RuleReloadInterval == 0 {
		cfg.RuleReloadInterval = 100 * time.Millisecond
	}
	if cfg.MinFreeDiskBytes == 0 {
		cfg.MinFreeDiskBytes = 1
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.NodeName == "" {
		deps.NodeName = "test-node"
	}
	m, err := New(cfg, deps)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	tm := &testMonitor{Monitor: m, api: httptest.NewServer(m.Handler())}
	var once sync.Once
	tm.stop = func() {
		once.Do(func() {
			cancel()
			tm.api.Close()
			if err := <-done; err != nil {
				t.Errorf("Run returned %v", err)
			}
		})
	}
	t.Cleanup(tm.stop)
	return tm
}

// apiResponse is the Prometheus API envelope.
type apiResponse struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
}

func (tm *testMonitor) get(t *testing.T, path string, params url.Values) (int, apiResponse) {
	t.Helper()
	u := tm.api.URL + path
	if params != nil {
		u += "?" + params.Encode()
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r apiResponse
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("GET %s: not JSON (%d): %s", path, resp.StatusCode, body)
	}
	return resp.StatusCode, r
}

type vectorSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// query runs an instant query and returns the vector result.
func (tm *testMonitor) query(t *testing.T, q string) []vectorSample {
	t.Helper()
	code, r := tm.get(t, "/api/v1/query", url.Values{"query": {q}})
	if code != http.StatusOK || r.Status != "success" {
		t.Fatalf("query %q: %d %s %s", q, code, r.ErrorType, r.Error)
	}
	var data struct {
		ResultType string         `json:"resultType"`
		Result     []vectorSample `json:"result"`
	}
	if err := json.Unmarshal(r.Data, &data); err != nil {
		t.Fatal(err)
	}
	return data.Result
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestScrapeAndPrometheusAPI(t *testing.T) {
	exp := newExporter(t)
	exp.value.Store(3)
	outpostReg := prometheus.NewRegistry()
	outpostReg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "outpost_test_things_total", Help: "Things."}))
	tm := startMonitor(t, Config{Targets: []Target{{Name: "demo", URL: exp.URL + "/metrics", Labels: map[string]string{"team": "a"}}}},
		Deps{Gatherer: outpostReg})

	eventually(t, "the demo target to be scraped", func() bool {
		return len(tm.query(t, `demo_value{job="demo"}`)) == 1
	})
	got := tm.query(t, `demo_value{job="demo"}`)[0]
	if got.Metric["color"] != "blue" || got.Metric["team"] != "a" || got.Value[1] != "3" {
		t.Fatalf("demo_value = %+v", got)
	}
	// In-process sources are scraped like any target.
	for _, q := range []string{`up{job="outpost-monitor"}`, `up{job="node"}`, `node_memory_MemTotal_bytes{node="test-node"}`,
		`outpost_test_things_total{job="outpost"}`, `prometheus_tsdb_head_series{job="outpost-monitor"}`} {
		q := q
		eventually(t, q, func() bool { return len(tm.query(t, q)) > 0 })
	}

	// query_range
	now := time.Now()
	code, r := tm.get(t, "/api/v1/query_range", url.Values{"query": {`demo_value`}, "start": {fmt.Sprint(now.Add(-time.Minute).Unix())},
		"end": {fmt.Sprint(now.Unix())}, "step": {"1"}})
	if code != http.StatusOK || !strings.Contains(string(r.Data), `"resultType":"matrix"`) {
		t.Fatalf("query_range: %d %s", code, r.Data)
	}

	// Bad PromQL gets Prometheus's error JSON.
	code, r = tm.get(t, "/api/v1/query", url.Values{"query": {`sum(rate(demo_value[5m]`}})
	if code != http.StatusBadRequest || r.Status != "error" || r.ErrorType != "bad_data" || !strings.Contains(r.Error, "parse error") {
		t.Fatalf("bad PromQL: %d %+v", code, r)
	}

	tests := []struct {
		path   string
		params url.Values
		want   string
	}{
		{"/api/v1/series", url.Values{"match[]": {`demo_value`}}, `"color":"blue"`},
		{"/api/v1/labels", nil, `"color"`},
		{"/api/v1/label/job/values", nil, `"demo"`},
		{"/api/v1/metadata", url.Values{"metric": {"demo_value"}}, `A value the test sets.`},
		{"/api/v1/targets", nil, `"scrapePool":"demo"`},
		{"/api/v1/rules", nil, `"name":"outpost.kubernetes"`},
		{"/api/v1/alerts", nil, `"alerts":[`},
		{"/api/v1/status/buildinfo", nil, `"version":"3.15.0"`},
		{"/api/v1/status/config", nil, `job_name: demo`},
		{"/api/v1/status/tsdb", nil, `"headStats"`},
	}
	for _, tc := range tests {
		code, r := tm.get(t, tc.path, tc.params)
		if code != http.StatusOK || r.Status != "success" || !strings.Contains(string(r.Data), tc.want) {
			t.Errorf("GET %s: %d %s, want data containing %s", tc.path, code, truncate(string(r.Data)), tc.want)
		}
	}
}

func truncate(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

func TestFederate(t *testing.T) {
	exp := newExporter(t)
	exp.value.Store(7)
	tm := startMonitor(t, Config{Targets: []Target{{Name: "demo", URL: exp.URL + "/metrics"}}, ExternalLabels: map[string]string{"site": "plant-1"}}, Deps{})
	eventually(t, "the demo target to be scraped", func() bool { return len(tm.query(t, `demo_value`)) == 1 })

	resp, err := http.Get(tm.api.URL + "/federate?" + url.Values{"match[]": {`{job="demo"}`}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("federate: %d %s", resp.StatusCode, body)
	}
	for _, want := range []string{`demo_value{color="blue",instance="`, `job="demo"`, `site="plant-1"`, `} 7 `, `demo_requests_total{`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("federate output lacks %q:\n%s", want, body)
		}
	}
	resp, err = http.Get(tm.api.URL + "/federate")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("federate without match[]: %d, want 400", resp.StatusCode)
	}
}

func TestHangingTargetTimesOut(t *testing.T) {
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer hang.Close()
	defer close(release)
	tm := startMonitor(t, Config{ScrapeInterval: 300 * time.Millisecond, ScrapeTimeout: 100 * time.Millisecond,
		Targets: []Target{{Name: "hang", URL: hang.URL + "/metrics"}}}, Deps{})

	eventually(t, "up{job=hang} == 0", func() bool {
		r := tm.query(t, `up{job="hang"}`)
		return len(r) == 1 && r[0].Value[1] == "0"
	})
	_, r := tm.get(t, "/api/v1/targets", nil)
	var data struct {
		ActiveTargets []struct {
			ScrapePool string `json:"scrapePool"`
			Health     string `json:"health"`
			LastError  string `json:"lastError"`
		} `json:"activeTargets"`
	}
	if err := json.Unmarshal(r.Data, &data); err != nil {
		t.Fatal(err)
	}
	for _, tg := range data.ActiveTargets {
		if tg.ScrapePool == "hang" {
			if tg.Health != "down" || !strings.Contains(tg.LastError, "deadline") {
				t.Fatalf("hanging target: health %q, lastError %q", tg.Health, tg.LastError)
			}
			return
		}
	}
	t.Fatal("hanging target not listed")
}

// webhook is a real local receiver of alert notifications.
type webhook struct {
	*httptest.Server
	payloads chan map[string]any
}

func newWebhook(t *testing.T) *webhook {
	h := &webhook{payloads: make(chan map[string]any, 100)}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p map[string]any
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			t.Errorf("webhook got bad JSON: %v", err)
		}
		h.payloads <- p
	}))
	t.Cleanup(h.Close)
	return h
}

// waitFor returns the first payload with the given status for alertname.
func (h *webhook) waitFor(t *testing.T, alertname, status string) map[string]any {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case p := <-h.payloads:
			if p["status"] == status && p["commonLabels"].(map[string]any)["alertname"] == alertname {
				return p
			}
		case <-deadline:
			t.Fatalf("no %s notification for %s", status, alertname)
		}
	}
}

func fastAlerting(url string) settings.Alerting {
	return settings.Alerting{
		GroupWait: model.Duration(100 * time.Millisecond), GroupInterval: model.Duration(200 * time.Millisecond),
		RepeatInterval: model.Duration(time.Hour),
		Receivers:      []settings.Receiver{{Name: "hook", Webhook: &settings.Webhook{URL: settings.Secret(url)}}},
	}
}

const demoRules = `groups:
  - name: demo
    rules:
      - alert: DemoValueHigh
        expr: demo_value > 5
        labels:
          severity: warning
        annotations:
          summary: demo value is {{ $value }}
`

func TestAlertFiresThenResolvesToWebhook(t *testing.T) {
	exp := newExporter(t)
	exp.value.Store(1)
	hook := newWebhook(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "rules"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rules", "demo.yaml"), []byte(demoRules), 0o644); err != nil {
		t.Fatal(err)
	}
	tm := startMonitor(t, Config{Dir: dir, Alerting: fastAlerting(hook.URL), Targets: []Target{{Name: "demo", URL: exp.URL + "/metrics"}}}, Deps{})
	eventually(t, "the demo target to be scraped", func() bool { return len(tm.query(t, `demo_value`)) == 1 })

	exp.value.Store(9)
	p := hook.waitFor(t, "DemoValueHigh", "firing")
	alerts := p["alerts"].([]any)
	first := alerts[0].(map[string]any)
	if first["annotations"].(map[string]any)["summary"] != "demo value is 9" || first["labels"].(map[string]any)["job"] != "demo" {
		t.Fatalf("firing alert = %v", first)
	}
	if !strings.Contains(first["generatorURL"].(string), "demo_value") {
		t.Fatalf("generatorURL = %v", first["generatorURL"])
	}
	// The alert is visible in both APIs while it fires.
	if _, r := tm.get(t, "/api/v1/alerts", nil); !strings.Contains(string(r.Data), "DemoValueHigh") {
		t.Fatalf("/api/v1/alerts lacks the alert: %s", r.Data)
	}
	resp, err := http.Get(tm.api.URL + "/api/v2/alerts")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"DemoValueHigh"`) || !strings.Contains(string(body), `"state":"active"`) {
		t.Fatalf("/api/v2/alerts = %s", body)
	}

	exp.value.Store(2)
	p = hook.waitFor(t, "DemoValueHigh", "resolved")
	if a := p["alerts"].([]any)[0].(map[string]any); a["status"] != "resolved" {
		t.Fatalf("resolved alert = %v", a)
	}
}
