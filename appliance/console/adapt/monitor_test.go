package adapt_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/outpost-platform/outpost/appliance/console"
	"github.com/outpost-platform/outpost/appliance/monitor"
	"github.com/outpost-platform/outpost/appliance/registry/registrytest"
)

// TestAlertingThroughTheMonitor checks the console's side of the monitoring
// API contract against the real monitor, in process: a rule that fires,
// a silence that mutes it, notification channels and rules.
func TestAlertingThroughTheMonitor(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "rules"), 0o755)
	os.WriteFile(filepath.Join(dir, "rules", "test.yaml"), []byte(`groups:
- name: console-test
  rules:
  - alert: AlwaysFiring
    expr: vector(1)
    labels: {severity: warning, namespace: shop}
    annotations: {summary: the console test alert}
`), 0o644)
	m, err := monitor.New(monitor.Config{Dir: dir, ScrapeInterval: 200 * time.Millisecond, EvaluationInterval: 200 * time.Millisecond,
		RuleReloadInterval: 100 * time.Millisecond, AlertResendDelay: 200 * time.Millisecond, MinFreeDiskBytes: 1},
		monitor.Deps{Logger: slog.New(slog.DiscardHandler), NodeName: "test-node"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	env := registrytest.Start(t, registrytest.Options{})
	a := startConsole(t, env, console.Deps{Monitor: m.Handler()})

	// The monitor's built-in rules may fire too (a full disk on the test
	// machine); the test's own alert is found by name.
	var alerts struct{ Items []console.Alert }
	testAlert := func() console.Alert {
		a.do("GET", "/alerts", nil, &alerts)
		for _, al := range alerts.Items {
			if al.Name == "AlwaysFiring" {
				return al
			}
		}
		return console.Alert{}
	}
	al := testAlert()
	for ; al.State != "firing"; al = testAlert() {
		time.Sleep(100 * time.Millisecond)
	}
	if al.Severity != "warning" || al.Annotations["summary"] == "" || al.Labels["namespace"] != "shop" {
		t.Fatalf("alert = %+v", al)
	}
	var rules struct{ Items []console.AlertRule }
	a.do("GET", "/alerts/rules", nil, &rules)
	foundRule := false
	for _, r := range rules.Items {
		foundRule = foundRule || (r.Name == "AlwaysFiring" && r.Query == "vector(1)")
	}
	if !foundRule {
		t.Fatalf("rules = %+v", rules.Items)
	}

	if code := a.do("POST", "/alerts/silences", map[string]any{"matchers": []string{"alertname=~Always.*"}, "endsAt": time.Now().Add(time.Hour),
		"comment": "maintenance"}, nil); code != 201 {
		t.Fatalf("creating a silence answered %d", code)
	}
	if code := a.do("POST", "/alerts/silences", map[string]any{"matchers": []string{"not a matcher"}, "endsAt": time.Now().Add(time.Hour)}, nil); code != 400 {
		t.Fatalf("a bad matcher answered %d", code)
	}
	var silences struct{ Items []console.Silence }
	a.do("GET", "/alerts/silences", nil, &silences)
	if len(silences.Items) != 1 || silences.Items[0].Matchers[0] != "alertname=~Always.*" || silences.Items[0].CreatedBy != "admin" {
		t.Fatalf("silences = %+v", silences.Items)
	}
	for testAlert().State != "silenced" {
		time.Sleep(100 * time.Millisecond)
	}
	if code := a.do("DELETE", "/alerts/silences/"+silences.Items[0].ID, nil, nil); code != 204 {
		t.Fatalf("expiring the silence answered %d", code)
	}
	if code := a.do("DELETE", "/alerts/silences/no-such-silence", nil, nil); code != 404 {
		t.Fatalf("expiring a missing silence answered %d", code)
	}

	if code := a.do("PUT", "/alerts/receivers/ops", map[string]any{"webhook": map[string]any{"url": "http://127.0.0.1:9/hook"}}, nil); code != 204 {
		t.Fatalf("saving a receiver answered %d", code)
	}
	if code := a.do("PUT", "/alerts/receivers/broken", map[string]any{"match": []string{"severity=critical"}}, nil); code != 400 {
		t.Fatalf("a receiver without a target answered %d", code)
	}
	var receivers struct{ Items []console.AlertReceiver }
	a.do("GET", "/alerts/receivers", nil, &receivers)
	if len(receivers.Items) != 1 || receivers.Items[0].Name != "ops" || receivers.Items[0].Kind() != "webhook" || receivers.Items[0].Source != "api" {
		t.Fatalf("receivers = %+v", receivers.Items)
	}
	if code := a.do("DELETE", "/alerts/receivers/ops", nil, nil); code != 204 {
		t.Fatalf("deleting a receiver answered %d", code)
	}

	// The cluster charts' queries find the node metrics the monitor collects.
	var charts struct {
		Series map[string][]struct {
			Points [][2]float64 `json:"points"`
		} `json:"series"`
	}
	for {
		if code := a.do("GET", "/cluster/metrics?range=15m", nil, &charts); code != 200 {
			t.Fatalf("cluster metrics answered %d", code)
		}
		if len(charts.Series["cpu"]) > 0 && len(charts.Series["memory"]) > 0 && len(charts.Series["disk"]) > 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	for name, series := range charts.Series {
		if len(series) != 1 {
			t.Fatalf("%s chart has %d series, want one", name, len(series))
		}
		for _, p := range series[0].Points {
			if p[1] < 0 || p[1] > 1 {
				t.Fatalf("%s utilisation %v is not a fraction", name, p[1])
			}
		}
	}
}
