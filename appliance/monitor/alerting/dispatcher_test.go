package alerting

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/model"

	"github.com/outpost-platform/outpost/appliance/monitor/settings"
)

// webhookReceiver is a real local HTTP receiver that records payloads.
type webhookReceiver struct {
	*httptest.Server
	payloads chan webhookPayload
	mu       sync.Mutex
	failNext int
}

func newWebhookReceiver(t *testing.T) *webhookReceiver {
	r := &webhookReceiver{payloads: make(chan webhookPayload, 100)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		fail := r.failNext > 0
		if fail {
			r.failNext--
		}
		r.mu.Unlock()
		if fail {
			http.Error(w, "receiver down", http.StatusServiceUnavailable)
			return
		}
		var p webhookPayload
		body, _ := io.ReadAll(req.Body)
		if err := json.Unmarshal(body, &p); err != nil {
			t.Errorf("receiver got invalid JSON: %v: %s", err, body)
		}
		r.payloads <- p
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *webhookReceiver) next(t *testing.T) webhookPayload {
	t.Helper()
	select {
	case p := <-r.payloads:
		return p
	case <-time.After(10 * time.Second):
		t.Fatal("no notification arrived within 10s")
		return webhookPayload{}
	}
}

func fastConfig(url string) settings.Alerting {
	return settings.Alerting{
		GroupBy:        []string{"alertname"},
		GroupWait:      model.Duration(50 * time.Millisecond),
		GroupInterval:  model.Duration(100 * time.Millisecond),
		RepeatInterval: model.Duration(time.Hour),
		Receivers:      []settings.Receiver{{Name: "hook", Webhook: &settings.Webhook{URL: settings.Secret(url)}}},
	}
}

func startDispatcher(t *testing.T, cfg settings.Alerting, reg prometheus.Registerer) (*Dispatcher, *Silences) {
	t.Helper()
	sil, err := OpenSilences(filepath.Join(t.TempDir(), "silences.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDispatcher(Options{Config: cfg, Silences: sil, Registerer: reg, ExternalURL: "http://outpost.test",
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return d, sil
}

func alert(name string, labels map[string]string, endsAt time.Time) Alert {
	l := map[string]string{"alertname": name}
	for k, v := range labels {
		l[k] = v
	}
	return Alert{Labels: l, Annotations: map[string]string{"summary": name + " happened"}, EndsAt: endsAt,
		StartsAt: time.Now().Add(-time.Minute), GeneratorURL: "http://outpost.test/graph"}
}

func TestDispatcherFiresThenResolves(t *testing.T) {
	recv := newWebhookReceiver(t)
	d, _ := startDispatcher(t, fastConfig(recv.URL), nil)

	a := alert("PodCrashLooping", map[string]string{"namespace": "shop", "pod": "web-1"}, time.Now().Add(time.Hour))
	d.Put(a)
	p := recv.next(t)
	if p.Version != "4" || p.Status != StatusFiring || p.Receiver != "hook" || len(p.Alerts) != 1 {
		t.Fatalf("firing payload = %+v", p)
	}
	if got := p.Alerts[0]; got.Status != StatusFiring || got.Labels["pod"] != "web-1" || !got.EndsAt.IsZero() || got.Fingerprint == "" {
		t.Fatalf("firing alert = %+v", got)
	}
	if p.GroupKey != `{alertname="PodCrashLooping"}` || p.GroupLabels["alertname"] != "PodCrashLooping" || p.ExternalURL != "http://outpost.test" {
		t.Fatalf("group fields = %q %v %q", p.GroupKey, p.GroupLabels, p.ExternalURL)
	}

	a.EndsAt = time.Now()
	d.Put(a)
	p = recv.next(t)
	if p.Status != StatusResolved || len(p.Alerts) != 1 || p.Alerts[0].Status != StatusResolved || p.Alerts[0].EndsAt.IsZero() {
		t.Fatalf("resolved payload = %+v", p)
	}
}

func TestDispatcherGroupsAlertsAndAppliesSilences(t *testing.T) {
	recv := newWebhookReceiver(t)
	cfg := fastConfig(recv.URL)
	cfg.GroupWait = model.Duration(300 * time.Millisecond) // both alerts land before the first flush
	d, sil := startDispatcher(t, cfg, nil)
	if _, err := sil.Set(Silence{Matchers: []SilenceMatcher{{Name: "pod", Value: "web-2"}},
		EndsAt: time.Now().Add(time.Hour), CreatedBy: "test", Comment: "maintenance"}); err != nil {
		t.Fatal(err)
	}
	end := time.Now().Add(time.Hour)
	d.Put(alert("PodCrashLooping", map[string]string{"namespace": "shop", "pod": "web-1"}, end),
		alert("PodCrashLooping", map[string]string{"namespace": "shop", "pod": "web-2"}, end),
		alert("PodCrashLooping", map[string]string{"namespace": "shop", "pod": "web-3"}, end))
	p := recv.next(t)
	pods := map[string]bool{}
	for _, a := range p.Alerts {
		pods[a.Labels["pod"]] = true
	}
	if len(p.Alerts) != 2 || !pods["web-1"] || !pods["web-3"] {
		t.Fatalf("want one notification with web-1 and web-3 (web-2 silenced), got %+v", p.Alerts)
	}
	if p.CommonLabels["namespace"] != "shop" || p.CommonLabels["pod"] != "" {
		t.Fatalf("commonLabels = %v", p.CommonLabels)
	}
	var suppressed int
	for _, s := range d.Alerts(false) {
		if s.Status.State == "suppressed" {
			suppressed++
		}
	}
	if suppressed != 1 {
		t.Fatalf("want 1 suppressed alert in the API view, got %d", suppressed)
	}
}

func TestDispatcherRepeatsAndRetries(t *testing.T) {
	recv := newWebhookReceiver(t)
	recv.failNext = 1
	cfg := fastConfig(recv.URL)
	cfg.RepeatInterval = model.Duration(200 * time.Millisecond)
	reg := prometheus.NewRegistry()
	d, _ := startDispatcher(t, cfg, reg)
	d.Put(alert("NodeNotReady", map[string]string{"node": "n1"}, time.Now().Add(time.Hour)))
	first, second := recv.next(t), recv.next(t)
	for _, p := range []webhookPayload{first, second} {
		if p.Status != StatusFiring || len(p.Alerts) != 1 || p.Alerts[0].Labels["node"] != "n1" {
			t.Fatalf("payload = %+v", p)
		}
	}
	if n := testutil.ToFloat64(d.metrics.failed.WithLabelValues("hook", "webhook")); n < 1 {
		t.Fatalf("failed notifications metric = %v, want >= 1", n)
	}
	// The receiver answers before the dispatcher counts the delivery.
	deadline := time.Now().Add(10 * time.Second)
	for testutil.ToFloat64(d.metrics.sent.WithLabelValues("hook", "webhook")) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("sent notifications metric stayed below 2")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDispatcherRoutesByMatchers(t *testing.T) {
	critical, all := newWebhookReceiver(t), newWebhookReceiver(t)
	cfg := fastConfig(critical.URL)
	cfg.Receivers = []settings.Receiver{
		{Name: "oncall", Match: []string{`severity="critical"`}, Webhook: &settings.Webhook{URL: settings.Secret(critical.URL)}},
		{Name: "everything", Webhook: &settings.Webhook{URL: settings.Secret(all.URL)}},
	}
	d, _ := startDispatcher(t, cfg, nil)
	end := time.Now().Add(time.Hour)
	d.Put(alert("DiskFull", map[string]string{"severity": "warning"}, end))
	if p := all.next(t); p.Alerts[0].Labels["alertname"] != "DiskFull" {
		t.Fatalf("everything got %+v", p)
	}
	d.Put(alert("NodeDown", map[string]string{"severity": "critical"}, end))
	if p := critical.next(t); p.Receiver != "oncall" || p.Alerts[0].Labels["alertname"] != "NodeDown" {
		t.Fatalf("oncall got %+v (the warning must not reach it)", p)
	}
}

func TestApplyConfigRejectsBadReceiver(t *testing.T) {
	d, _ := startDispatcher(t, settings.Alerting{}, nil)
	err := d.ApplyConfig(settings.Alerting{Receivers: []settings.Receiver{{Name: "x", Webhook: &settings.Webhook{URL: "ftp://nope"}}}})
	if err == nil {
		t.Fatal("want an error for a non-HTTP webhook URL")
	}
}
