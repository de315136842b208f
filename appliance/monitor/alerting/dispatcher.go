package alerting

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/outpost-platform/outpost/appliance/monitor/settings"
)

// resolvedRetention is how long a resolved alert stays listed by Alerts.
const resolvedRetention = 15 * time.Minute

// notifyTimeout bounds one delivery attempt to one receiver.
const notifyTimeout = 30 * time.Second

// Options configure a Dispatcher.
type Options struct {
	// Config is the grouping and the receivers; defaults are filled in.
	Config settings.Alerting
	// Silences mute alerts; required.
	Silences *Silences
	// ExternalURL is put into payloads as externalURL (a link back to
	// Outpost's console or monitoring API).
	ExternalURL string
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Registerer receives the dispatcher's metrics; nil means none.
	Registerer prometheus.Registerer
	// HTTPClient sends webhook and bot requests; nil means a client with
	// notifyTimeout.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now. Tests keep the real clock and
	// shorten the group timers instead.
	Now func() time.Time
}

// Dispatcher groups alerts, applies silences and sends notifications.
type Dispatcher struct {
	silences    *Silences
	externalURL string
	logger      *slog.Logger
	client      *http.Client
	now         func() time.Time
	metrics     dispatcherMetrics

	mu        sync.Mutex
	cfg       settings.Alerting
	receivers []*receiver
	alerts    map[string]*Alert // by fingerprint, everything received
	groups    map[string]*group // by receiver name + group key
}

type receiver struct {
	cfg      settings.Receiver
	match    settings.Matchers
	notifier Notifier
}

// group is one (receiver, group labels) aggregation, like an Alertmanager
// aggregation group.
type group struct {
	receiver  string
	key       string
	labels    map[string]string
	alerts    map[string]*Alert
	nextFlush time.Time
	lastSent  time.Time
	// notified holds the fingerprints that the receiver last heard of as firing.
	notified map[string]bool
	failures int
	inflight bool
}

type dispatcherMetrics struct {
	sent   *prometheus.CounterVec
	failed *prometheus.CounterVec
}

// NewDispatcher validates the config and builds the receivers.
func NewDispatcher(o Options) (*Dispatcher, error) {
	if o.Silences == nil {
		return nil, fmt.Errorf("creating alert dispatcher: Silences is required")
	}
	d := &Dispatcher{
		silences:    o.Silences,
		externalURL: o.ExternalURL,
		logger:      o.Logger,
		client:      o.HTTPClient,
		now:         o.Now,
		alerts:      map[string]*Alert{},
		groups:      map[string]*group{},
	}
	if d.logger == nil {
		d.logger = slog.Default()
	}
	if d.client == nil {
		d.client = &http.Client{Timeout: notifyTimeout}
	}
	if d.now == nil {
		d.now = time.Now
	}
	d.metrics = dispatcherMetrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "outpost_monitor_notifications_total",
			Help: "Notifications delivered, by receiver and integration.",
		}, []string{"receiver", "integration"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "outpost_monitor_notifications_failed_total",
			Help: "Notification delivery attempts that failed, by receiver and integration.",
		}, []string{"receiver", "integration"}),
	}
	if o.Registerer != nil {
		for _, c := range []prometheus.Collector{d.metrics.sent, d.metrics.failed, alertsCollector{d}} {
			if err := o.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("registering alert dispatcher metrics: %w", err)
			}
		}
	}
	if err := d.ApplyConfig(o.Config); err != nil {
		return nil, err
	}
	return d, nil
}

// ApplyConfig replaces grouping and receivers. Groups of receivers that keep
// their name keep their state, so a config change does not re-notify.
func (d *Dispatcher) ApplyConfig(cfg settings.Alerting) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg = cfg.WithDefaults()
	rs := make([]*receiver, 0, len(cfg.Receivers))
	for _, rc := range cfg.Receivers {
		n, err := NewNotifier(rc, d.client)
		if err != nil {
			return fmt.Errorf("receiver %s: %w", rc.Name, err)
		}
		ms, _ := settings.ParseMatchers(rc.Match) // validated above
		rs = append(rs, &receiver{cfg: rc, match: ms, notifier: n})
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	groupingChanged := !slices.Equal(cfg.GroupBy, d.cfg.GroupBy)
	d.cfg, d.receivers = cfg, rs
	for id, g := range d.groups {
		if groupingChanged || d.receiverLocked(g.receiver) == nil {
			delete(d.groups, id)
		}
	}
	// Re-route every known alert: receivers' matchers may have changed.
	for _, a := range d.alerts {
		d.routeLocked(a)
	}
	return nil
}

// Config returns the effective config (with defaults).
func (d *Dispatcher) Config() settings.Alerting {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cfg
}

func (d *Dispatcher) receiverLocked(name string) *receiver {
	for _, r := range d.receivers {
		if r.cfg.Name == name {
			return r
		}
	}
	return nil
}

// Put records alerts. An alert with a zero EndsAt fires until updated; rule
// evaluation resends firing alerts with an EndsAt a few intervals ahead, so
// alerts whose source went away resolve by themselves.
func (d *Dispatcher) Put(alerts ...Alert) {
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range alerts {
		a := alerts[i].clone()
		if a.StartsAt.IsZero() {
			a.StartsAt = now
		}
		fp := a.Fingerprint()
		if old, ok := d.alerts[fp]; ok && !old.Resolved(now) && old.StartsAt.Before(a.StartsAt) {
			a.StartsAt = old.StartsAt
		}
		d.alerts[fp] = a
		d.routeLocked(a)
	}
}

func (d *Dispatcher) routeLocked(a *Alert) {
	now := d.now()
	fp := a.Fingerprint()
	for _, r := range d.receivers {
		if !r.match.Matches(a.Labels) {
			continue
		}
		glabels := map[string]string{}
		for _, l := range d.cfg.GroupBy {
			if v, ok := a.Labels[l]; ok {
				glabels[l] = v
			}
		}
		key := groupKey(glabels)
		id := r.cfg.Name + "\x00" + key
		g, ok := d.groups[id]
		if !ok {
			if a.Resolved(now) {
				continue // nothing to tell about an alert nobody heard of
			}
			g = &group{receiver: r.cfg.Name, key: key, labels: glabels, alerts: map[string]*Alert{},
				notified: map[string]bool{}, nextFlush: now.Add(time.Duration(d.cfg.GroupWait))}
			d.groups[id] = g
		}
		g.alerts[fp] = a
	}
}

// groupKey renders group labels like Alertmanager: {alertname="X",...}.
func groupKey(labels map[string]string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range slices.Sorted(maps.Keys(labels)) {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", k, labels[k])
	}
	b.WriteByte('}')
	return b.String()
}

// Run flushes due groups until ctx is done.
func (d *Dispatcher) Run(ctx context.Context) {
	for {
		d.mu.Lock()
		tick := min(time.Duration(d.cfg.GroupWait), time.Duration(d.cfg.GroupInterval)) / 4
		d.mu.Unlock()
		tick = max(10*time.Millisecond, min(tick, time.Second))
		select {
		case <-ctx.Done():
			return
		case <-time.After(tick):
		}
		d.flushDue(ctx)
		if err := d.silences.GC(); err != nil {
			d.logger.Warn("cleaning up expired silences", "err", err)
		}
	}
}

// flushDue starts a delivery for every group whose timer ran out and which
// has something new to say.
func (d *Dispatcher) flushDue(ctx context.Context) {
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	for fp, a := range d.alerts {
		if a.Resolved(now) && now.Sub(a.EndsAt) > resolvedRetention {
			delete(d.alerts, fp)
		}
	}
	for id, g := range d.groups {
		if g.inflight || now.Before(g.nextFlush) {
			continue
		}
		r := d.receiverLocked(g.receiver)
		n, ok := d.planLocked(g, r, now)
		if !ok {
			if len(g.alerts) == 0 {
				delete(d.groups, id)
			}
			continue
		}
		g.inflight = true
		go d.deliver(ctx, g, r, n)
	}
}

// planLocked decides whether group g needs a notification now and builds
// it. It also forgets resolved alerts that need no notice.
func (d *Dispatcher) planLocked(g *group, r *receiver, now time.Time) (*Notification, bool) {
	g.nextFlush = now.Add(time.Duration(d.cfg.GroupInterval))
	var firing, resolved []*Alert
	for fp, a := range g.alerts {
		silenced := len(d.silences.Mutes(a.Labels)) > 0
		switch {
		case a.Resolved(now) && g.notified[fp] && r.cfg.ResolvedNotices() && !silenced:
			resolved = append(resolved, a)
		case a.Resolved(now) || silenced && !g.notified[fp]:
			// Never announced (or muted before it was): drop silently.
			if a.Resolved(now) {
				delete(g.alerts, fp)
				delete(g.notified, fp)
			}
		case silenced:
			// Muted after being announced: stop repeating it, send no resolve.
			delete(g.notified, fp)
		default:
			firing = append(firing, a)
		}
	}
	newFiring := false
	for _, a := range firing {
		if !g.notified[a.Fingerprint()] {
			newFiring = true
		}
	}
	repeat := len(firing) > 0 && now.Sub(g.lastSent) >= time.Duration(d.cfg.RepeatInterval)
	if !newFiring && len(resolved) == 0 && !repeat {
		return nil, false
	}
	alerts := append(firing, resolved...)
	slices.SortFunc(alerts, func(a, b *Alert) int {
		if c := a.StartsAt.Compare(b.StartsAt); c != 0 {
			return c
		}
		return strings.Compare(a.Fingerprint(), b.Fingerprint())
	})
	return d.notification(r.cfg.Name, g.key, g.labels, alerts, now), true
}

func (d *Dispatcher) notification(receiver, key string, glabels map[string]string, alerts []*Alert, now time.Time) *Notification {
	n := &Notification{
		Receiver:    receiver,
		Status:      StatusResolved,
		GroupKey:    key,
		GroupLabels: maps.Clone(glabels),
		ExternalURL: d.externalURL,
	}
	for i, a := range alerts {
		na := NotifiedAlert{Alert: *a.clone(), Status: StatusFiring, Fingerprint: a.Fingerprint()}
		if a.Resolved(now) {
			na.Status = StatusResolved
		} else {
			n.Status = StatusFiring
			na.EndsAt = time.Time{}
		}
		n.Alerts = append(n.Alerts, na)
		if i == 0 {
			n.CommonLabels, n.CommonAnnotations = maps.Clone(a.Labels), maps.Clone(a.Annotations)
			continue
		}
		intersect(n.CommonLabels, a.Labels)
		intersect(n.CommonAnnotations, a.Annotations)
	}
	return n
}

func intersect(common, m map[string]string) {
	for k, v := range common {
		if m[k] != v {
			delete(common, k)
		}
	}
}

func (d *Dispatcher) deliver(ctx context.Context, g *group, r *receiver, n *Notification) {
	ctx, cancel := context.WithTimeout(ctx, notifyTimeout)
	err := r.notifier.Notify(ctx, n)
	cancel()
	kind := r.cfg.Kind()
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	g.inflight = false
	if err != nil {
		g.failures++
		d.metrics.failed.WithLabelValues(r.cfg.Name, kind).Inc()
		// Retry sooner than group-interval, backing off, so a receiver that
		// was down briefly still gets the news quickly.
		retry := min(time.Duration(d.cfg.GroupInterval), time.Second<<min(g.failures, 8))
		g.nextFlush = now.Add(retry)
		d.logger.Warn("sending alert notification failed", "receiver", r.cfg.Name, "integration", kind,
			"group", n.GroupKey, "attempt", g.failures, "retry_in", retry, "err", err)
		return
	}
	g.failures = 0
	d.metrics.sent.WithLabelValues(r.cfg.Name, kind).Inc()
	g.lastSent = now
	g.notified = map[string]bool{}
	for _, a := range n.Alerts {
		if a.Status == StatusFiring {
			g.notified[a.Fingerprint] = true
		} else {
			delete(g.alerts, a.Fingerprint)
		}
	}
	d.logger.Info("sent alert notification", "receiver", r.cfg.Name, "integration", kind,
		"group", n.GroupKey, "status", n.Status, "alerts", len(n.Alerts))
}

// AlertStatus is an alert with its routing and silencing state, in the shape
// of Alertmanager's API v2 gettable alert.
type AlertStatus struct {
	Alert
	Fingerprint string    `json:"fingerprint"`
	UpdatedAt   time.Time `json:"updatedAt"`
	Receivers   []struct {
		Name string `json:"name"`
	} `json:"receivers"`
	Status struct {
		// State is "active", "suppressed" (silenced) or "unprocessed".
		State       string   `json:"state"`
		SilencedBy  []string `json:"silencedBy"`
		InhibitedBy []string `json:"inhibitedBy"`
	} `json:"status"`
}

// Alerts lists the alerts that have not been resolved for long, firing
// first. With active false, resolved alerts are left out.
func (d *Dispatcher) Alerts(includeResolved bool) []AlertStatus {
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	out := []AlertStatus{}
	for fp, a := range d.alerts {
		if a.Resolved(now) && !includeResolved {
			continue
		}
		s := AlertStatus{Alert: *a.clone(), Fingerprint: fp, UpdatedAt: now}
		for _, r := range d.receivers {
			if r.match.Matches(a.Labels) {
				s.Receivers = append(s.Receivers, struct {
					Name string `json:"name"`
				}{r.cfg.Name})
			}
		}
		s.Status.SilencedBy = d.silences.Mutes(a.Labels)
		s.Status.InhibitedBy = []string{}
		s.Status.State = "active"
		if len(s.Status.SilencedBy) > 0 {
			s.Status.State = "suppressed"
		} else {
			s.Status.SilencedBy = []string{}
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b AlertStatus) int {
		if c := strings.Compare(a.Name(), b.Name()); c != 0 {
			return c
		}
		return strings.Compare(a.Fingerprint, b.Fingerprint)
	})
	return out
}

// Test sends a one-off notification through rc, which need not be
// configured, so a user can check a receiver before saving it.
func (d *Dispatcher) Test(ctx context.Context, rc settings.Receiver) error {
	if err := rc.Validate(); err != nil {
		return err
	}
	n, err := NewNotifier(rc, d.client)
	if err != nil {
		return err
	}
	now := d.now()
	a := &Alert{
		Labels:      map[string]string{"alertname": "OutpostTestNotification", "severity": "info"},
		Annotations: map[string]string{"summary": "Test notification from Outpost monitoring", "description": "If you read this, receiver " + rc.Name + " works."},
		StartsAt:    now,
	}
	ctx, cancel := context.WithTimeout(ctx, notifyTimeout)
	defer cancel()
	return n.Notify(ctx, d.notification(rc.Name, groupKey(map[string]string{"alertname": "OutpostTestNotification"}),
		map[string]string{"alertname": "OutpostTestNotification"}, []*Alert{a}, now))
}

// alertsCollector exports the number of alerts by state.
type alertsCollector struct{ d *Dispatcher }

var alertsDesc = prometheus.NewDesc("outpost_monitor_alerts", "Alerts known to the dispatcher, by state (active, suppressed).", []string{"state"}, nil)

func (c alertsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- alertsDesc }

func (c alertsCollector) Collect(ch chan<- prometheus.Metric) {
	counts := map[string]float64{"active": 0, "suppressed": 0}
	for _, a := range c.d.Alerts(false) {
		counts[a.Status.State]++
	}
	for state, n := range counts {
		ch <- prometheus.MustNewConstMetric(alertsDesc, prometheus.GaugeValue, n, state)
	}
}
