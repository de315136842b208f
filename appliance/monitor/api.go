package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/grafana/regexp"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/model"
	promconfig "github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/scrape"
	"github.com/prometheus/prometheus/util/notifications"
	apiv1 "github.com/prometheus/prometheus/web/api/v1"

	"github.com/outpost-platform/outpost/appliance/monitor/alerting"
	"github.com/outpost-platform/outpost/appliance/monitor/settings"
	"github.com/outpost-platform/outpost/appliance/version"
)

// prometheusVersion is the Prometheus release whose libraries Outpost
// embeds; /api/v1/status/buildinfo reports it so that clients such as
// Grafana enable the matching features.
const prometheusVersion = "3.15.0"

// Handler serves the whole monitoring API for mounting in-process (the
// console mounts it behind its login, e.g. with http.StripPrefix):
//
//   - /api/v1/...            Prometheus HTTP API (query, query_range, series,
//     labels, label values, metadata, rules, alerts, targets, status)
//   - /federate              Prometheus federation
//   - /metrics, /metrics/node, /metrics/kube-state
//   - /api/v2/alerts, /api/v2/silences, /api/v2/silence/{id},
//     /api/v2/receivers      Alertmanager API v2 subset
//   - /api/outpost/v1/...    receivers and rule files management
//   - /-/healthy, /-/ready, /-/reload
func (m *Monitor) Handler() http.Handler { return m.newMux(true) }

// listenerHandler is what the monitoring port serves: everything that
// reads, and the write endpoints only when configured.
func (m *Monitor) listenerHandler() http.Handler { return m.newMux(m.cfg.ManagementOnListener) }

func (m *Monitor) inProcessHandler() http.Handler {
	mux := http.NewServeMux()
	m.mountMetrics(mux)
	return mux
}

func (m *Monitor) mountMetrics(mux *http.ServeMux) {
	opts := promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, MaxRequestsInFlight: 4}
	mux.Handle("GET "+pathMonitorMetrics, promhttp.HandlerFor(m.gatherer, opts))
	mux.Handle("GET "+pathNodeMetrics, promhttp.HandlerFor(m.nodeReg, opts))
	mux.Handle("GET "+pathKubeStateMetrics, promhttp.HandlerFor(m.kubeReg, opts))
	if m.deps.Gatherer != nil {
		mux.Handle("GET "+pathOutpostMetrics, promhttp.HandlerFor(m.deps.Gatherer, opts))
	}
}

func (m *Monitor) newMux(management bool) http.Handler {
	mux := http.NewServeMux()
	m.mountMetrics(mux)

	mux.Handle("/api/v1/", m.limitQueries(m.apiV1))
	mux.Handle("GET /federate", m.limitQueries(http.HandlerFunc(m.federate)))

	mux.HandleFunc("GET /-/healthy", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "Healthy.\n") })
	mux.HandleFunc("GET /-/ready", func(w http.ResponseWriter, _ *http.Request) {
		select {
		case <-m.store.Ready():
			io.WriteString(w, "Ready.\n")
		default:
			http.Error(w, "Service Unavailable: the monitoring TSDB is not open yet.", http.StatusServiceUnavailable)
		}
	})

	mux.HandleFunc("GET /api/v2/alerts", m.getAlerts)
	mux.HandleFunc("GET /api/v2/silences", m.getSilences)
	mux.HandleFunc("GET /api/v2/silence/{id}", m.getSilence)
	mux.HandleFunc("GET /api/v2/receivers", m.getReceiverNames)
	mux.HandleFunc("GET /api/outpost/v1/rules", m.listRuleFiles)
	mux.HandleFunc("GET /api/outpost/v1/rules/{file}", m.getRuleFile)
	if management {
		// Receivers are listed only here: their addresses (mail recipients,
		// webhook hosts) are not for an unauthenticated port.
		mux.HandleFunc("GET /api/outpost/v1/receivers", m.listReceivers)
		mux.HandleFunc("POST /-/reload", func(w http.ResponseWriter, _ *http.Request) {
			m.reloadRules()
			io.WriteString(w, "Reloaded.\n")
		})
		mux.HandleFunc("POST /api/v2/silences", m.postSilence)
		mux.HandleFunc("DELETE /api/v2/silence/{id}", m.deleteSilence)
		mux.HandleFunc("PUT /api/outpost/v1/receivers/{name}", m.putReceiver)
		mux.HandleFunc("DELETE /api/outpost/v1/receivers/{name}", m.deleteReceiver)
		mux.HandleFunc("POST /api/outpost/v1/receivers/{name}/test", m.testReceiver)
		mux.HandleFunc("POST /api/outpost/v1/receivers-test", m.testUnsavedReceiver)
		mux.HandleFunc("PUT /api/outpost/v1/rules/{file}", m.putRuleFile)
		mux.HandleFunc("DELETE /api/outpost/v1/rules/{file}", m.deleteRuleFile)
	}
	return mux
}

// limitQueries bounds concurrent API requests so queries cannot pile up
// memory; a request waits for a slot as long as its client waits.
func (m *Monitor) limitQueries(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case m.queries <- struct{}{}:
			defer func() { <-m.queries }()
			h.ServeHTTP(w, r)
		case <-r.Context().Done():
			http.Error(w, "query queue wait cancelled", http.StatusServiceUnavailable)
		}
	})
}

// prometheusAPI is Prometheus's own v1 API over the embedded storage,
// engine, scrape manager and rule manager.
func (m *Monitor) prometheusAPI() *apiv1.API {
	ext, _ := url.Parse(m.cfg.ExternalURL)
	flags := map[string]string{
		"storage.tsdb.path":            m.store.Dir(),
		"storage.tsdb.retention.time":  durationFlag(m.cfg.Retention),
		"storage.tsdb.retention.size":  fmt.Sprint(m.cfg.RetentionSize),
		"web.listen-address":           m.cfg.Listen,
		"web.external-url":             m.cfg.ExternalURL,
		"query.timeout":                durationFlag(m.cfg.QueryTimeout),
		"query.max-samples":            fmt.Sprint(m.cfg.QueryMaxSamples),
		"query.max-concurrency":        fmt.Sprint(m.cfg.MaxConcurrentQueries),
		"query.lookback-delta":         durationFlag(lookbackDelta),
		"rules.alert.resend-delay":     durationFlag(m.cfg.AlertResendDelay),
		"rules.alert.for-grace-period": "10m",
	}
	runtimeInfo := func() (apiv1.RuntimeInfo, error) {
		cwd, _ := os.Getwd()
		host, _ := os.Hostname()
		return apiv1.RuntimeInfo{
			StartTime: m.start, CWD: cwd, Hostname: host, ServerTime: time.Now(), ReloadConfigSuccess: true,
			LastConfigTime: m.start, GoroutineCount: runtime.NumGoroutine(), GOMAXPROCS: runtime.GOMAXPROCS(0),
			GOMEMLIMIT: debug.SetMemoryLimit(-1), GOGC: os.Getenv("GOGC"), GODEBUG: os.Getenv("GODEBUG"),
			StorageRetention: durationFlag(m.cfg.Retention),
		}, nil
	}
	build := &apiv1.PrometheusVersion{Version: prometheusVersion, Revision: "outpost-" + version.Outpost,
		Branch: "outpost", BuildUser: "outpost", GoVersion: runtime.Version()}
	return apiv1.NewAPI(
		m.engine, m.store, nil, nil, m.store,
		func(context.Context) apiv1.ScrapePoolsRetriever { return m.scrape },
		func(context.Context) apiv1.TargetRetriever { return targetRetriever{m.scrape} },
		func(context.Context) apiv1.AlertmanagerRetriever { return noAlertmanagers{} },
		func() promconfig.Config { return *m.promCfg },
		flags,
		apiv1.GlobalURLOptions{ListenAddress: m.cfg.Listen, Host: ext.Host, Scheme: ext.Scheme},
		m.whenStorageReady,
		m.store, m.store.Dir(),
		false, // admin API (delete series, snapshots) stays off
		false, 0,
		m.logger.With("component", "api"),
		func(context.Context) apiv1.RulesRetriever { return rulesRetriever{m.rules} },
		5e7, 4, 1048576, // remote read: sample limit, concurrency, frame size
		false,
		regexp.MustCompile(`^$`), // no cross-origin browser access
		runtimeInfo, build,
		func() []notifications.Notification { return nil },
		func() (<-chan notifications.Notification, func(), bool) { return nil, func() {}, false },
		m.gatherer, m.registry,
		nil,
		false, nil, // remote write receiver off
		false, false, false, false, // OTLP off
		lookbackDelta,
		false, false,
		nil, nil,
		apiv1.OpenAPIOptions{ExternalURL: m.cfg.ExternalURL, Version: prometheusVersion},
		m.parser,
	)
}

// whenStorageReady answers 503 in the API's error shape until the TSDB is
// open, as Prometheus does while it replays its WAL.
func (m *Monitor) whenStorageReady(f http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-m.store.Ready():
			f(w, r)
		default:
			writeJSON(w, http.StatusServiceUnavailable, apiError{Status: "error", ErrorType: "unavailable",
				Error: "the monitoring TSDB is not open yet (starting, or failing to open: see outpost_monitor_storage_open_failures_total)"})
		}
	}
}

func durationFlag(d time.Duration) string { return model.Duration(d).String() }

type targetRetriever struct{ s *scrape.Manager }

func (t targetRetriever) TargetsActive() map[string][]*scrape.Target  { return t.s.TargetsActive() }
func (t targetRetriever) TargetsDropped() map[string][]*scrape.Target { return t.s.TargetsDropped() }
func (t targetRetriever) TargetsDroppedCounts() map[string]int        { return t.s.TargetsDroppedCounts() }
func (t targetRetriever) ScrapePoolConfig(p string) (*promconfig.ScrapeConfig, error) {
	return t.s.ScrapePoolConfig(p)
}

type rulesRetriever struct{ r *rules.Manager }

func (r rulesRetriever) RuleGroups() []*rules.Group           { return r.r.RuleGroups() }
func (r rulesRetriever) AlertingRules() []*rules.AlertingRule { return r.r.AlertingRules() }

// noAlertmanagers: notifications are sent in-process, not to Alertmanagers.
type noAlertmanagers struct{}

func (noAlertmanagers) Alertmanagers() []*url.URL        { return nil }
func (noAlertmanagers) DroppedAlertmanagers() []*url.URL { return nil }

// Responses of the Outpost and Alertmanager endpoints. Errors use the
// Prometheus API's shape so clients need one error parser.

type apiError struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, err error) {
	code, typ := http.StatusInternalServerError, "internal"
	var bad *badRequestError
	var badRules *badRulesError
	switch {
	case errors.As(err, &bad), errors.As(err, &badRules):
		code, typ = http.StatusBadRequest, "bad_data"
	case errors.Is(err, errNotFound), errors.Is(err, alerting.ErrNotFound), errors.Is(err, os.ErrNotExist):
		code, typ = http.StatusNotFound, "not_found"
	case errors.Is(err, errConflict):
		code, typ = http.StatusConflict, "conflict"
	}
	writeJSON(w, code, apiError{Status: "error", ErrorType: typ, Error: err.Error()})
}

type badRequestError struct{ err error }

func (e *badRequestError) Error() string { return e.err.Error() }
func (e *badRequestError) Unwrap() error { return e.err }

func badRequest(format string, a ...any) error { return &badRequestError{fmt.Errorf(format, a...)} }

var errConflict = errors.New("conflict")

// decodeJSON reads a bounded JSON body, refusing unknown fields.
func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("invalid JSON body: %v", err)
	}
	return nil
}

func (m *Monitor) getAlerts(w http.ResponseWriter, r *http.Request) {
	alerts := m.dispatcher.Alerts(r.URL.Query().Get("resolved") == "true")
	if r.URL.Query().Get("silenced") == "false" {
		kept := alerts[:0]
		for _, a := range alerts {
			if a.Status.State != "suppressed" {
				kept = append(kept, a)
			}
		}
		alerts = kept
	}
	writeJSON(w, http.StatusOK, alerts)
}

func (m *Monitor) getSilences(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, m.silences.List())
}

func (m *Monitor) getSilence(w http.ResponseWriter, r *http.Request) {
	s, err := m.silences.Get(r.PathValue("id"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s)
}

func (m *Monitor) postSilence(w http.ResponseWriter, r *http.Request) {
	var s alerting.Silence
	if err := decodeJSON(r, &s); err != nil {
		writeError(w, err)
		return
	}
	id, err := m.silences.Set(s)
	if err != nil {
		if !errors.Is(err, alerting.ErrNotFound) {
			err = &badRequestError{err}
		}
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"silenceID": id})
}

func (m *Monitor) deleteSilence(w http.ResponseWriter, r *http.Request) {
	if err := m.silences.Expire(r.PathValue("id")); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (m *Monitor) getReceiverNames(w http.ResponseWriter, _ *http.Request) {
	out := []map[string]string{}
	for _, rc := range m.dispatcher.Config().Receivers {
		out = append(out, map[string]string{"name": rc.Name})
	}
	writeJSON(w, http.StatusOK, out)
}

// ReceiverView is a receiver as the management API lists it, secrets
// redacted.
type ReceiverView struct {
	settings.Receiver
	// Source is "config" for receivers from the YAML file (read-only
	// through the API) and "api" for those created through it.
	Source string `json:"source"`
}

func (m *Monitor) listReceivers(w http.ResponseWriter, _ *http.Request) {
	out := []ReceiverView{}
	for _, rc := range m.cfg.Alerting.Receivers {
		out = append(out, ReceiverView{Receiver: rc, Source: "config"})
	}
	for _, rc := range m.receivers.list() {
		if m.yamlReceiver(rc.Name) == nil {
			out = append(out, ReceiverView{Receiver: rc, Source: "api"})
		}
	}
	cfg := m.dispatcher.Config()
	writeJSON(w, http.StatusOK, map[string]any{
		"groupBy": cfg.GroupBy, "groupWait": cfg.GroupWait, "groupInterval": cfg.GroupInterval,
		"repeatInterval": cfg.RepeatInterval, "receivers": out,
	})
}

func (m *Monitor) putReceiver(w http.ResponseWriter, r *http.Request) {
	var rc settings.Receiver
	if err := decodeJSON(r, &rc); err != nil {
		writeError(w, err)
		return
	}
	name := r.PathValue("name")
	if rc.Name == "" {
		rc.Name = name
	}
	if rc.Name != name {
		writeError(w, badRequest("receiver name %q in the body differs from %q in the path", rc.Name, name))
		return
	}
	if m.yamlReceiver(name) != nil {
		writeError(w, fmt.Errorf("receiver %s is defined in the config file and cannot be changed through the API: %w", name, errConflict))
		return
	}
	if prev, ok := m.receivers.get(name); ok {
		rc.KeepRedacted(&prev)
	}
	if err := rc.Validate(); err != nil {
		writeError(w, &badRequestError{fmt.Errorf("receiver %s: %w", name, err)})
		return
	}
	m.configMu.Lock()
	defer m.configMu.Unlock()
	if err := m.receivers.put(rc, m.applyAPIReceivers); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, ReceiverView{Receiver: rc, Source: "api"})
}

func (m *Monitor) applyAPIReceivers(rs []settings.Receiver) error {
	if err := m.dispatcher.ApplyConfig(m.mergedAlerting(rs)); err != nil {
		return &badRequestError{err}
	}
	return nil
}

func (m *Monitor) deleteReceiver(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if m.yamlReceiver(name) != nil {
		writeError(w, fmt.Errorf("receiver %s is defined in the config file and cannot be deleted through the API: %w", name, errConflict))
		return
	}
	m.configMu.Lock()
	defer m.configMu.Unlock()
	if err := m.receivers.delete(name, m.applyAPIReceivers); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (m *Monitor) testReceiver(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	for _, rc := range m.dispatcher.Config().Receivers {
		if rc.Name == name {
			m.runTest(w, r, rc)
			return
		}
	}
	writeError(w, fmt.Errorf("receiver %s: %w", name, errNotFound))
}

func (m *Monitor) testUnsavedReceiver(w http.ResponseWriter, r *http.Request) {
	var rc settings.Receiver
	if err := decodeJSON(r, &rc); err != nil {
		writeError(w, err)
		return
	}
	if prev, ok := m.receivers.get(rc.Name); ok {
		rc.KeepRedacted(&prev)
	}
	m.runTest(w, r, rc)
}

func (m *Monitor) runTest(w http.ResponseWriter, r *http.Request, rc settings.Receiver) {
	if err := rc.Validate(); err != nil {
		writeError(w, &badRequestError{err})
		return
	}
	if err := m.dispatcher.Test(r.Context(), rc); err != nil {
		// The receiver's failure is the answer, not a server error.
		writeJSON(w, http.StatusBadGateway, apiError{Status: "error", ErrorType: "receiver", Error: err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "success"})
}

func (m *Monitor) listRuleFiles(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, m.ruleFiles.Status())
}

func (m *Monitor) getRuleFile(w http.ResponseWriter, r *http.Request) {
	data, err := m.ruleFiles.Get(r.PathValue("file"))
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(data)
}

// putRuleFile stores a rule file (YAML body) after validating it; a bad
// file gets 400 with file, line and reason, and nothing changes.
func (m *Monitor) putRuleFile(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4<<20))
	if err != nil {
		writeError(w, badRequest("reading body: %v", err))
		return
	}
	if err := m.ruleFiles.Put(r.PathValue("file"), data); err != nil {
		writeError(w, err)
		return
	}
	m.reloadRules()
	writeJSON(w, http.StatusOK, m.ruleFiles.Status())
}

func (m *Monitor) deleteRuleFile(w http.ResponseWriter, r *http.Request) {
	if err := m.ruleFiles.Delete(r.PathValue("file")); err != nil {
		writeError(w, err)
		return
	}
	m.reloadRules()
	w.WriteHeader(http.StatusNoContent)
}
