package console

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/outpost-platform/outpost/appliance/console/problem"
)

// monitorClient calls the monitoring HTTP API, either over the network
// (Config.MonitoringURL) or in process through its handler (Deps.Monitor).
type monitorClient struct {
	base   string
	client *http.Client
}

// handlerTransport serves requests with an in-process handler.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

func newMonitorClient(baseURL string, h http.Handler, hc *http.Client) *monitorClient {
	switch {
	case h != nil:
		return &monitorClient{base: "http://monitor.in-process", client: &http.Client{Transport: handlerTransport{h}, Timeout: hc.Timeout}}
	case baseURL != "":
		return &monitorClient{base: strings.TrimRight(baseURL, "/"), client: hc}
	}
	return nil
}

var errMonitoringOff = problem.Unavailable("Monitoring is turned off on this appliance.")

// do sends a request and decodes a JSON answer into out (if not nil). A 4xx
// answer becomes a domain error carrying the monitor's message.
func (m *monitorClient) do(ctx context.Context, method, path string, body any, out any) error {
	if m == nil {
		return errMonitoringOff
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, m.base+path, rd)
	if err != nil {
		return fmt.Errorf("building monitoring request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return problem.Unavailable("The monitoring service cannot be reached; charts and alerts are unavailable for now.")
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return fmt.Errorf("reading monitoring answer from %s: %w", path, err)
	}
	if resp.StatusCode >= 400 {
		msg := monitorErrorMessage(data)
		switch {
		case resp.StatusCode == http.StatusNotFound && strings.Contains(path, "/silence"):
			return problem.NotFound("silence")
		case resp.StatusCode == http.StatusNotFound && strings.Contains(path, "/receivers/"):
			return problem.NotFound("notification channel")
		case resp.StatusCode == http.StatusNotFound, resp.StatusCode == http.StatusMethodNotAllowed:
			return problem.Unavailable("This monitoring service does not offer that function.")
		case resp.StatusCode == http.StatusConflict:
			return problem.Conflict(msg)
		case resp.StatusCode < 500:
			return &problem.Error{Kind: problem.KindInvalid, Code: "invalid", Message: msg}
		}
		return fmt.Errorf("monitoring %s %s: %d %s", method, path, resp.StatusCode, msg)
	}
	if out == nil || len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decoding monitoring answer from %s: %w", path, err)
	}
	return nil
}

func monitorErrorMessage(data []byte) string {
	var e struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(data, &e) == nil {
		if e.Error != "" {
			return e.Error
		}
		if e.Message != "" {
			return e.Message
		}
	}
	return strings.TrimSpace(string(data))
}

// prom calls a Prometheus-style endpoint ({status, data}) and returns data.
func (m *monitorClient) prom(ctx context.Context, path string, params url.Values) (json.RawMessage, error) {
	if len(params) > 0 {
		path += "?" + params.Encode()
	}
	var pr promResponse
	if err := m.do(ctx, http.MethodGet, path, nil, &pr); err != nil {
		return nil, err
	}
	if pr.Status != "success" {
		return nil, fmt.Errorf("monitoring query %s failed: %s: %s", path, pr.ErrorType, pr.Error)
	}
	return pr.Data, nil
}

// monitorAlerting is Alerting over the monitoring API.
type monitorAlerting struct {
	m   *monitorClient
	now func() time.Time
}

type monitorAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
	Status      struct {
		State string `json:"state"`
	} `json:"status"`
}

// Alerts merges the dispatcher's firing and resolved alerts with the rule
// evaluator's pending ones (which have not been sent to the dispatcher yet).
func (a *monitorAlerting) Alerts(ctx context.Context) ([]Alert, error) {
	var sent []monitorAlert
	if err := a.m.do(ctx, http.MethodGet, "/api/v2/alerts?resolved=true", nil, &sent); err != nil {
		return nil, err
	}
	now := a.now()
	out := []Alert{}
	for _, al := range sent {
		state := "firing"
		switch {
		case !al.EndsAt.IsZero() && !al.EndsAt.After(now):
			state = "resolved"
		case al.Status.State == "suppressed":
			state = "silenced"
		}
		v := Alert{Name: al.Labels["alertname"], State: state, Severity: al.Labels["severity"], Labels: al.Labels,
			Annotations: al.Annotations, ActiveAt: al.StartsAt}
		if state == "resolved" {
			v.ResolvedAt = al.EndsAt
		}
		out = append(out, v)
	}
	data, err := a.m.prom(ctx, "/api/v1/alerts", nil)
	if err == nil {
		var body struct {
			Alerts []struct {
				Labels      map[string]string `json:"labels"`
				Annotations map[string]string `json:"annotations"`
				State       string            `json:"state"`
				ActiveAt    time.Time         `json:"activeAt"`
				Value       string            `json:"value"`
			} `json:"alerts"`
		}
		if json.Unmarshal(data, &body) == nil {
			for _, al := range body.Alerts {
				if al.State == "pending" {
					out = append(out, Alert{Name: al.Labels["alertname"], State: "pending", Severity: al.Labels["severity"],
						Labels: al.Labels, Annotations: al.Annotations, ActiveAt: al.ActiveAt, Value: al.Value})
				}
			}
		}
	}
	return out, nil
}

func (a *monitorAlerting) Rules(ctx context.Context) ([]AlertRule, error) {
	data, err := a.m.prom(ctx, "/api/v1/rules", url.Values{"type": {"alert"}})
	if err != nil {
		return nil, err
	}
	return decodeRules(data)
}

func decodeRules(data json.RawMessage) ([]AlertRule, error) {
	var body struct {
		Groups []struct {
			Name  string `json:"name"`
			Rules []struct {
				Name        string            `json:"name"`
				Query       string            `json:"query"`
				Duration    float64           `json:"duration"`
				Labels      map[string]string `json:"labels"`
				Annotations map[string]string `json:"annotations"`
				State       string            `json:"state"`
				Health      string            `json:"health"`
				Type        string            `json:"type"`
			} `json:"rules"`
		} `json:"groups"`
	}
	if err := json.Unmarshal(data, &body); err != nil {
		return nil, fmt.Errorf("decoding alert rules: %w", err)
	}
	rules := []AlertRule{}
	for _, g := range body.Groups {
		for _, r := range g.Rules {
			if r.Type != "" && r.Type != "alerting" {
				continue
			}
			ar := AlertRule{Name: r.Name, Group: g.Name, Query: r.Query, Labels: r.Labels, Annotations: r.Annotations, State: r.State, Health: r.Health}
			if r.Duration > 0 {
				ar.For = (time.Duration(r.Duration) * time.Second).String()
			}
			rules = append(rules, ar)
		}
	}
	return rules, nil
}

func (a *monitorAlerting) Receivers(ctx context.Context) ([]AlertReceiver, error) {
	var body struct {
		Receivers []AlertReceiver `json:"receivers"`
	}
	if err := a.m.do(ctx, http.MethodGet, "/api/outpost/v1/receivers", nil, &body); err != nil {
		return nil, err
	}
	if body.Receivers == nil {
		body.Receivers = []AlertReceiver{}
	}
	return body.Receivers, nil
}

func (a *monitorAlerting) PutReceiver(ctx context.Context, name string, spec json.RawMessage) error {
	return a.m.do(ctx, http.MethodPut, "/api/outpost/v1/receivers/"+url.PathEscape(name), spec, nil)
}

func (a *monitorAlerting) DeleteReceiver(ctx context.Context, name string) error {
	return a.m.do(ctx, http.MethodDelete, "/api/outpost/v1/receivers/"+url.PathEscape(name), nil, nil)
}

type monitorMatcher struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	IsRegex bool   `json:"isRegex"`
	IsEqual *bool  `json:"isEqual,omitempty"`
}

type monitorSilence struct {
	ID        string           `json:"id,omitempty"`
	Matchers  []monitorMatcher `json:"matchers"`
	StartsAt  time.Time        `json:"startsAt"`
	EndsAt    time.Time        `json:"endsAt"`
	CreatedBy string           `json:"createdBy"`
	Comment   string           `json:"comment"`
	Status    *struct {
		State string `json:"state"`
	} `json:"status,omitempty"`
}

// parseMatcher reads "name=value", "name!=value", "name=~regex" or "name!~regex".
func parseMatcher(s string) (monitorMatcher, error) {
	for _, op := range []string{"=~", "!~", "!=", "="} {
		if name, value, ok := strings.Cut(s, op); ok {
			name = strings.TrimSpace(name)
			if name == "" {
				break
			}
			equal := op == "=" || op == "=~"
			return monitorMatcher{Name: name, Value: strings.Trim(strings.TrimSpace(value), `"`), IsRegex: strings.HasSuffix(op, "~"), IsEqual: &equal}, nil
		}
	}
	return monitorMatcher{}, fmt.Errorf("%q is not a matcher such as alertname=HighCPU", s)
}

func formatMatcher(m monitorMatcher) string {
	op := "="
	if m.IsEqual != nil && !*m.IsEqual {
		op = "!="
	}
	if m.IsRegex {
		op = strings.TrimSuffix(op, "=") + "~"
		if op == "~" {
			op = "=~"
		}
	}
	return m.Name + op + m.Value
}

func (a *monitorAlerting) Silences(ctx context.Context) ([]Silence, error) {
	var list []monitorSilence
	if err := a.m.do(ctx, http.MethodGet, "/api/v2/silences", nil, &list); err != nil {
		return nil, err
	}
	out := []Silence{}
	for _, s := range list {
		v := Silence{ID: s.ID, StartsAt: s.StartsAt, EndsAt: s.EndsAt, CreatedBy: s.CreatedBy, Comment: s.Comment, Matchers: []string{}}
		if s.Status != nil {
			v.State = s.Status.State
		}
		for _, m := range s.Matchers {
			v.Matchers = append(v.Matchers, formatMatcher(m))
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].EndsAt.After(out[j].EndsAt) })
	return out, nil
}

func (a *monitorAlerting) CreateSilence(ctx context.Context, s Silence) (Silence, error) {
	ms := monitorSilence{StartsAt: s.StartsAt, EndsAt: s.EndsAt, CreatedBy: s.CreatedBy, Comment: s.Comment}
	for _, str := range s.Matchers {
		m, err := parseMatcher(str)
		if err != nil {
			return Silence{}, problem.Field("matchers", err.Error())
		}
		ms.Matchers = append(ms.Matchers, m)
	}
	var res struct {
		SilenceID string `json:"silenceID"`
	}
	if err := a.m.do(ctx, http.MethodPost, "/api/v2/silences", ms, &res); err != nil {
		return Silence{}, err
	}
	s.ID = res.SilenceID
	return s, nil
}

func (a *monitorAlerting) ExpireSilence(ctx context.Context, id string) error {
	return a.m.do(ctx, http.MethodDelete, "/api/v2/silence/"+url.PathEscape(id), nil, nil)
}
