package monitor

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"regexp"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/rest"

	"github.com/outpost-platform/outpost/appliance/monitor/settings"
)

// Defaults of Config.
const (
	DefaultScrapeInterval = 15 * time.Second
	// DefaultMinEvaluationInterval is the least default rule evaluation
	// interval.
	DefaultMinEvaluationInterval = 30 * time.Second
	DefaultRetention             = 15 * 24 * time.Hour
	DefaultQueryTimeout          = 2 * time.Minute
	DefaultQueryMaxSamples       = 5_000_000
	DefaultMaxQueries            = 8
	DefaultRuleReload            = 30 * time.Second
	DefaultAlertResendDelay      = time.Minute
	DefaultPodSampleLimit        = 20_000
	DefaultPodTargetLimit        = 1_000
)

// Config is monitoring's runtime configuration. ApplianceConfig derives it
// from the appliance's config; tests build it directly.
type Config struct {
	// Dir holds the TSDB, rule files, silences and API-managed receivers,
	// normally <data-dir>/monitor.
	Dir string
	// Listen is the address of the HTTP API (":9190"); empty serves
	// nothing and leaves the API to Handler().
	Listen string
	// ManagementOnListener also serves the write endpoints (receivers,
	// rules, silences, reload) on Listen. Off by default: that port has no
	// authentication, so by default it only serves reads, and changes go
	// through Handler() mounted behind the console's login.
	ManagementOnListener bool
	// Retention is how long samples are kept. Default 15d.
	Retention time.Duration
	// RetentionSize caps the TSDB in bytes; 0 means no cap.
	RetentionSize int64
	// ScrapeInterval is the default scrape interval. Default 15s.
	ScrapeInterval time.Duration
	// ScrapeTimeout defaults to the smaller of 10s and ScrapeInterval.
	ScrapeTimeout time.Duration
	// EvaluationInterval is how often rules are evaluated; default the
	// scrape interval but at least 30s (kube-prometheus's choice): recorded
	// dashboard series at 30s resolution cost half the storage of 15s.
	EvaluationInterval time.Duration
	// RuleFilesDir holds user rule files (*.yaml, *.yml) in Prometheus's
	// format; default Dir/rules. A file named like a built-in one
	// (outpost-alerts.yaml, outpost-recording.yaml) replaces it.
	RuleFilesDir string
	// RuleReloadInterval is how often RuleFilesDir is checked for
	// changes. Default 30s.
	RuleReloadInterval time.Duration
	// Alerting is the YAML alerting section.
	Alerting settings.Alerting
	// RemoteWrite lists external receivers of every sample.
	RemoteWrite []settings.RemoteWrite
	// Targets are the HTTP(S) endpoints to scrape besides the in-process
	// ones (see ApplianceTargets).
	Targets []Target
	// ExternalURL is where users reach monitoring; it is put into alert
	// links. Default http://<Listen>.
	ExternalURL string
	// ExternalLabels are added to alerts, federation and remote_write.
	ExternalLabels map[string]string
	// MinFreeDiskBytes is the free space below which ingestion pauses.
	// Default 256 MiB.
	MinFreeDiskBytes int64
	// SamplesPerChunk is the TSDB's target chunk length; default
	// store.DefaultSamplesPerChunk (480).
	SamplesPerChunk int
	// QueryTimeout, QueryMaxSamples and MaxConcurrentQueries bound the
	// memory and time a query may use. Defaults 2m, 5M samples, 8.
	QueryTimeout         time.Duration
	QueryMaxSamples      int
	MaxConcurrentQueries int
	// AlertResendDelay is how often firing alerts are re-sent to the
	// dispatcher, which keeps them alive there. Default 1m.
	AlertResendDelay time.Duration
	// PodSampleLimit and PodTargetLimit bound what annotated pods can
	// add: samples per pod scrape and number of pod targets.
	PodSampleLimit int
	PodTargetLimit int
	// CertificateFiles are PEM files or directories of them whose expiry
	// is exported as outpost_certificate_expiry_timestamp_seconds.
	CertificateFiles []string
	// Volumes names directories whose filesystem usage is exported as
	// outpost_volume_*_bytes{volume=name}, e.g. "registry" for the
	// registry's storage, for the RegistryStorageNearlyFull alert.
	Volumes map[string]string
}

// TLSFiles are the client credentials and CA for scraping the control
// plane and the kubelet.
type TLSFiles struct {
	CAFile   string
	CertFile string
	KeyFile  string
	// ServerName overrides the name checked in the server certificate.
	ServerName string
	// InsecureSkipVerify turns off server verification; for components
	// that serve a self-signed certificate.
	InsecureSkipVerify bool
}

// Target is one endpoint to scrape.
type Target struct {
	// Name is the scrape pool name; unique.
	Name string
	// Job is the job label; default Name.
	Job string
	// URL is the full metrics URL, e.g. https://10.0.0.5:10250/metrics/cadvisor.
	URL string
	// TLS applies to https URLs; nil uses the system roots and no client
	// certificate.
	TLS *TLSFiles
	// Labels are added to every series of the target.
	Labels map[string]string
	// SampleLimit fails scrapes with more samples; 0 means 200 000.
	SampleLimit int
	// Interval overrides Config.ScrapeInterval for this target.
	Interval time.Duration
	// JobByMetric sets the job label of the series whose metric name
	// matches a rule's regex (first match wins), for a target that serves
	// the metrics of several components.
	JobByMetric []JobRule
	// DropMetrics is a regex of metric names not stored.
	DropMetrics string
}

// JobRule gives series whose metric name matches Regex the job Job.
type JobRule struct {
	Regex string
	Job   string
}

// Deps are what the appliance hands to monitoring at construction.
type Deps struct {
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// KubeConfig reaches the apiserver as user outpost-monitor. With it,
	// object-state metrics are collected and pods annotated
	// prometheus.io/scrape: "true" are scraped. Nil turns both off.
	KubeConfig *rest.Config
	// NodeName labels node metrics (node="...").
	NodeName string
	// Gatherer is Outpost's own process registry, scraped in-process as
	// job="outpost". Nil leaves it out.
	Gatherer prometheus.Gatherer
}

var jobName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_.-]*$`)

// withDefaults fills defaults and checks the config.
func (c Config) withDefaults() (Config, error) {
	var errs []error
	if c.Dir == "" || !filepath.IsAbs(c.Dir) {
		errs = append(errs, fmt.Errorf("monitoring dir must be an absolute path, got %q", c.Dir))
	}
	if c.Retention == 0 {
		c.Retention = DefaultRetention
	}
	if c.ScrapeInterval == 0 {
		c.ScrapeInterval = DefaultScrapeInterval
	}
	if c.ScrapeTimeout == 0 {
		c.ScrapeTimeout = min(10*time.Second, c.ScrapeInterval)
	}
	if c.ScrapeTimeout > c.ScrapeInterval {
		errs = append(errs, fmt.Errorf("scrape timeout %s must not exceed the scrape interval %s", c.ScrapeTimeout, c.ScrapeInterval))
	}
	if c.EvaluationInterval == 0 {
		c.EvaluationInterval = max(c.ScrapeInterval, DefaultMinEvaluationInterval)
	}
	if c.RuleFilesDir == "" {
		c.RuleFilesDir = filepath.Join(c.Dir, "rules")
	}
	if c.RuleReloadInterval == 0 {
		c.RuleReloadInterval = DefaultRuleReload
	}
	if c.QueryTimeout == 0 {
		c.QueryTimeout = DefaultQueryTimeout
	}
	if c.QueryMaxSamples == 0 {
		c.QueryMaxSamples = DefaultQueryMaxSamples
	}
	if c.MaxConcurrentQueries == 0 {
		c.MaxConcurrentQueries = DefaultMaxQueries
	}
	if c.AlertResendDelay == 0 {
		c.AlertResendDelay = DefaultAlertResendDelay
	}
	if c.PodSampleLimit == 0 {
		c.PodSampleLimit = DefaultPodSampleLimit
	}
	if c.PodTargetLimit == 0 {
		c.PodTargetLimit = DefaultPodTargetLimit
	}
	if c.ExternalURL == "" {
		c.ExternalURL = "http://localhost" + c.Listen
		if c.Listen == "" {
			c.ExternalURL = "http://localhost"
		}
	}
	if u, err := url.Parse(c.ExternalURL); err != nil || u.Scheme == "" || u.Host == "" {
		errs = append(errs, fmt.Errorf("external URL must be an absolute URL, got %q", c.ExternalURL))
	}
	if err := c.Alerting.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := settings.ValidateRemoteWrite(c.RemoteWrite); err != nil {
		errs = append(errs, err)
	}
	names := map[string]bool{}
	for i, t := range c.Targets {
		if !jobName.MatchString(t.Name) || isReservedJob(t.Name) || names[t.Name] {
			errs = append(errs, fmt.Errorf("targets[%d]: name %q must be unique, not reserved and look like a job name", i, t.Name))
		}
		names[t.Name] = true
		if u, err := url.Parse(t.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("targets[%d] (%s): URL must be http(s)://host:port/path, got %q", i, t.Name, t.URL))
		}
		for _, re := range append([]string{t.DropMetrics}, jobRuleRegexes(t.JobByMetric)...) {
			if _, err := regexp.Compile("^(?:" + re + ")$"); err != nil {
				errs = append(errs, fmt.Errorf("targets[%d] (%s): bad metric name regex %q: %v", i, t.Name, re, err))
			}
		}
	}
	return c, errors.Join(errs...)
}

func jobRuleRegexes(rules []JobRule) []string {
	var out []string
	for _, r := range rules {
		out = append(out, r.Regex)
	}
	return out
}
