package monitor

import (
	"fmt"
	"log/slog"
	"net/url"

	"github.com/prometheus/common/model"
	promconfig "github.com/prometheus/prometheus/config"
	"sigs.k8s.io/yaml"
)

// The Prometheus configuration is generated as YAML and loaded with
// Prometheus's own loader, so every default and validation of a hand-written
// prometheus.yml applies, and /api/v1/status/config shows a real file.

type promFile struct {
	Global        promGlobal        `json:"global"`
	ScrapeConfigs []promScrape      `json:"scrape_configs"`
	RemoteWrite   []promRemoteWrite `json:"remote_write,omitempty"`
}

type promGlobal struct {
	ScrapeInterval     string            `json:"scrape_interval"`
	ScrapeTimeout      string            `json:"scrape_timeout"`
	EvaluationInterval string            `json:"evaluation_interval"`
	ExternalLabels     map[string]string `json:"external_labels,omitempty"`
}

type promTLS struct {
	CAFile             string `json:"ca_file,omitempty"`
	CertFile           string `json:"cert_file,omitempty"`
	KeyFile            string `json:"key_file,omitempty"`
	ServerName         string `json:"server_name,omitempty"`
	InsecureSkipVerify bool   `json:"insecure_skip_verify,omitempty"`
}

type promStatic struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels,omitempty"`
}

type promScrape struct {
	JobName               string              `json:"job_name"`
	ScrapeInterval        string              `json:"scrape_interval,omitempty"`
	ScrapeTimeout         string              `json:"scrape_timeout,omitempty"`
	MetricsPath           string              `json:"metrics_path,omitempty"`
	Scheme                string              `json:"scheme,omitempty"`
	Params                url.Values          `json:"params,omitempty"`
	HonorLabels           bool                `json:"honor_labels,omitempty"`
	SampleLimit           int                 `json:"sample_limit,omitempty"`
	TargetLimit           int                 `json:"target_limit,omitempty"`
	LabelLimit            int                 `json:"label_limit,omitempty"`
	LabelValueLengthLimit int                 `json:"label_value_length_limit,omitempty"`
	BodySizeLimit         string              `json:"body_size_limit,omitempty"`
	TLSConfig             *promTLS            `json:"tls_config,omitempty"`
	StaticConfigs         []promStatic        `json:"static_configs,omitempty"`
	KubernetesSDConfigs   []map[string]string `json:"kubernetes_sd_configs,omitempty"`
	RelabelConfigs        []promRelabel       `json:"relabel_configs,omitempty"`
	MetricRelabelConfigs  []promRelabel       `json:"metric_relabel_configs,omitempty"`
}

type promRelabel struct {
	SourceLabels []string `json:"source_labels,omitempty"`
	Separator    string   `json:"separator,omitempty"`
	Regex        string   `json:"regex,omitempty"`
	TargetLabel  string   `json:"target_label,omitempty"`
	Replacement  *string  `json:"replacement,omitempty"`
	Action       string   `json:"action,omitempty"`
}

type promRemoteWrite struct {
	URL           string             `json:"url"`
	Name          string             `json:"name,omitempty"`
	BasicAuth     *promBasicAuth     `json:"basic_auth,omitempty"`
	Authorization *promAuthorization `json:"authorization,omitempty"`
	TLSConfig     *promTLS           `json:"tls_config,omitempty"`
	Headers       map[string]string  `json:"headers,omitempty"`
}

type promBasicAuth struct {
	Username string `json:"username"`
	Password string `json:"password,omitempty"`
}

type promAuthorization struct {
	Credentials string `json:"credentials"`
}

// Default limits that keep one misbehaving target from eating memory.
const (
	defaultSampleLimit    = 200_000
	defaultBodySizeLimit  = "64MB"
	defaultLabelLimit     = 64
	defaultLabelValueSize = 4096
)

func ptr(s string) *string { return &s }

// buildPromConfig turns Config into Prometheus's configuration.
func buildPromConfig(c *Config, nodeName, kubeconfigPath string, withOutpost, withKubeState bool, logger *slog.Logger) (*promconfig.Config, error) {
	f := promFile{Global: promGlobal{
		ScrapeInterval:     model.Duration(c.ScrapeInterval).String(),
		ScrapeTimeout:      model.Duration(c.ScrapeTimeout).String(),
		EvaluationInterval: model.Duration(c.EvaluationInterval).String(),
		ExternalLabels:     c.ExternalLabels,
	}}
	inProcess := func(job, path string, honorLabels bool) promScrape {
		return promScrape{
			JobName: job, MetricsPath: path, HonorLabels: honorLabels,
			SampleLimit: defaultSampleLimit, BodySizeLimit: defaultBodySizeLimit,
			StaticConfigs: []promStatic{{Targets: []string{inProcessAddr}, Labels: map[string]string{"instance": nodeName, "node": nodeName}}},
		}
	}
	f.ScrapeConfigs = append(f.ScrapeConfigs, inProcess(jobMonitor, pathMonitorMetrics, false), inProcess(jobNode, pathNodeMetrics, false))
	if withKubeState {
		// The state metrics carry namespace/pod/node labels of the objects
		// they describe; honor them over the target's.
		f.ScrapeConfigs = append(f.ScrapeConfigs, inProcess(jobKubeState, pathKubeStateMetrics, true))
	}
	if withOutpost {
		f.ScrapeConfigs = append(f.ScrapeConfigs, inProcess(jobOutpost, pathOutpostMetrics, false))
	}
	for _, t := range c.Targets {
		sc, err := targetScrapeConfig(c, t)
		if err != nil {
			return nil, err
		}
		f.ScrapeConfigs = append(f.ScrapeConfigs, sc)
	}
	if kubeconfigPath != "" {
		f.ScrapeConfigs = append(f.ScrapeConfigs, podsScrapeConfig(c, kubeconfigPath))
	}
	for _, rw := range c.RemoteWrite {
		prw := promRemoteWrite{URL: rw.URL, Name: rw.Name, Headers: rw.Headers}
		if rw.Username != "" || rw.Password != "" {
			prw.BasicAuth = &promBasicAuth{Username: rw.Username, Password: rw.Password.Reveal()}
		}
		if rw.BearerToken != "" {
			prw.Authorization = &promAuthorization{Credentials: rw.BearerToken.Reveal()}
		}
		if rw.CAFile != "" || rw.CertFile != "" || rw.InsecureSkipVerify {
			prw.TLSConfig = &promTLS{CAFile: rw.CAFile, CertFile: rw.CertFile, KeyFile: rw.KeyFile, InsecureSkipVerify: rw.InsecureSkipVerify}
		}
		f.RemoteWrite = append(f.RemoteWrite, prw)
	}
	out, err := yaml.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("encoding Prometheus config: %w", err)
	}
	pc, err := promconfig.Load(string(out), logger)
	if err != nil {
		return nil, fmt.Errorf("loading generated Prometheus config: %w", err)
	}
	return pc, nil
}

func targetScrapeConfig(c *Config, t Target) (promScrape, error) {
	u, err := url.Parse(t.URL)
	if err != nil {
		return promScrape{}, fmt.Errorf("target %s: %w", t.Name, err)
	}
	sc := promScrape{
		JobName: t.Name, Scheme: u.Scheme, MetricsPath: u.Path, Params: u.Query(),
		SampleLimit: t.SampleLimit, BodySizeLimit: defaultBodySizeLimit,
		StaticConfigs: []promStatic{{Targets: []string{u.Host}, Labels: t.Labels}},
	}
	if sc.SampleLimit == 0 {
		sc.SampleLimit = defaultSampleLimit
	}
	if len(sc.Params) == 0 {
		sc.Params = nil
	}
	if t.Interval > 0 {
		sc.ScrapeInterval = model.Duration(t.Interval).String()
		sc.ScrapeTimeout = model.Duration(min(t.Interval, c.ScrapeTimeout)).String()
	}
	if t.TLS != nil && u.Scheme == "https" {
		sc.TLSConfig = &promTLS{CAFile: t.TLS.CAFile, CertFile: t.TLS.CertFile, KeyFile: t.TLS.KeyFile,
			ServerName: t.TLS.ServerName, InsecureSkipVerify: t.TLS.InsecureSkipVerify}
	}
	if t.Job != "" && t.Job != t.Name {
		sc.RelabelConfigs = append(sc.RelabelConfigs, promRelabel{TargetLabel: "job", Replacement: ptr(t.Job)})
	}
	// metrics_path as a label tells /metrics, /metrics/cadvisor and
	// /metrics/resource of one kubelet apart, as kube-prometheus does.
	sc.RelabelConfigs = append(sc.RelabelConfigs, promRelabel{TargetLabel: "metrics_path", Replacement: ptr(u.Path)})
	if t.DropMetrics != "" {
		sc.MetricRelabelConfigs = append(sc.MetricRelabelConfigs, promRelabel{SourceLabels: []string{"__name__"}, Regex: t.DropMetrics, Action: "drop"})
	}
	// Later rules would overwrite earlier ones, so they are applied in
	// reverse: the first matching rule is the last to write.
	for i := len(t.JobByMetric) - 1; i >= 0; i-- {
		r := t.JobByMetric[i]
		sc.MetricRelabelConfigs = append(sc.MetricRelabelConfigs, promRelabel{SourceLabels: []string{"__name__"}, Regex: r.Regex,
			TargetLabel: "job", Replacement: ptr(r.Job), Action: "replace"})
	}
	return sc, nil
}

// podsScrapeConfig discovers pods through the Kubernetes API and keeps
// those annotated prometheus.io/scrape: "true"; prometheus.io/port,
// prometheus.io/path and prometheus.io/scheme pick the endpoint.
func podsScrapeConfig(c *Config, kubeconfigPath string) promScrape {
	return promScrape{
		JobName:               jobPods,
		SampleLimit:           c.PodSampleLimit,
		TargetLimit:           c.PodTargetLimit,
		LabelLimit:            defaultLabelLimit,
		LabelValueLengthLimit: defaultLabelValueSize,
		BodySizeLimit:         defaultBodySizeLimit,
		KubernetesSDConfigs:   []map[string]string{{"role": "pod", "kubeconfig_file": kubeconfigPath}},
		RelabelConfigs: []promRelabel{
			{SourceLabels: []string{"__meta_kubernetes_pod_annotation_prometheus_io_scrape"}, Regex: "true", Action: "keep"},
			{SourceLabels: []string{"__meta_kubernetes_pod_phase"}, Regex: "Pending|Succeeded|Failed", Action: "drop"},
			{SourceLabels: []string{"__meta_kubernetes_pod_container_init"}, Regex: "true", Action: "drop"},
			{SourceLabels: []string{"__meta_kubernetes_pod_annotation_prometheus_io_scheme"}, Regex: "(https?)", TargetLabel: "__scheme__", Action: "replace"},
			{SourceLabels: []string{"__meta_kubernetes_pod_annotation_prometheus_io_path"}, Regex: "(.+)", TargetLabel: "__metrics_path__", Action: "replace"},
			// One target per pod even when it has several ports: with the
			// annotated port every container port maps to the same
			// address, and identical targets are merged.
			{SourceLabels: []string{"__address__", "__meta_kubernetes_pod_annotation_prometheus_io_port"}, Regex: `(.+?)(?::\d+)?;(\d+)`, Replacement: ptr("$1:$2"), TargetLabel: "__address__", Action: "replace"},
			{Regex: "__meta_kubernetes_pod_annotation_prometheus_io_param_(.+)", Replacement: ptr("__param_$1"), Action: "labelmap"},
			{SourceLabels: []string{"__meta_kubernetes_namespace"}, TargetLabel: "namespace", Action: "replace"},
			{SourceLabels: []string{"__meta_kubernetes_pod_name"}, TargetLabel: "pod", Action: "replace"},
			{SourceLabels: []string{"__meta_kubernetes_pod_node_name"}, TargetLabel: "node", Action: "replace"},
		},
	}
}

// sdConfigs extracts the service discovery configs by scrape pool.
func scrapeConfigsOf(pc *promconfig.Config) ([]*promconfig.ScrapeConfig, error) {
	scs, err := pc.GetScrapeConfigs()
	if err != nil {
		return nil, fmt.Errorf("reading scrape configs: %w", err)
	}
	return scs, nil
}
