package monitor

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/outpost-platform/outpost/appliance/config"
	"github.com/outpost-platform/outpost/appliance/pki"
)

// ApplianceConfig derives monitoring's config from the appliance's: data
// dir, port, retention, scrape interval, and the scrape targets of a
// server node (ApplianceTargets) using the monitor client certificate,
// and the alerting and remote-write sections. nodeIP is the address the
// kubelet serves on.
func ApplianceConfig(c *config.Config, nodeIP string, certs *pki.Files) (Config, error) {
	size, err := config.ParseBytes(c.MonitoringRetentionSize)
	if err != nil {
		return Config{}, fmt.Errorf("monitoring-retention-size: %w", err)
	}
	dir := filepath.Join(c.DataDir, "monitor")
	host := nodeIP
	if host == "" {
		host = "localhost"
	}
	cfg := Config{
		Dir:            dir,
		Listen:         ":" + strconv.Itoa(c.MonitoringPort),
		Retention:      time.Duration(c.MonitoringRetention),
		RetentionSize:  size,
		ScrapeInterval: time.Duration(c.MonitoringScrapeInterval),
		ExternalURL:    "http://" + net.JoinHostPort(host, strconv.Itoa(c.MonitoringPort)),
		Alerting:       c.Alerting,
		RemoteWrite:    c.MonitoringRemoteWrite,
		Volumes: map[string]string{
			"data":     c.DataDir,
			"registry": filepath.Join(c.DataDir, "registry"),
			"monitor":  dir,
		},
	}
	var tls TLSFiles
	if certs != nil {
		tls = TLSFiles{CAFile: certs.CACert, CertFile: certs.MonitorClientCert, KeyFile: certs.MonitorClientKey}
		cfg.CertificateFiles = []string{certs.Dir}
	}
	cfg.Targets = ApplianceTargets(c.NodeName, nodeIP, c.APIServerPort, tls)
	return cfg, nil
}

// ApplianceTargets are the HTTP endpoints of a server node's components.
//
// The apiserver, controller-manager, scheduler, kubelet and kube-proxy run
// in the outpost process and register their metrics in one process-wide
// registry, which each of their /metrics endpoints serves whole. It is
// scraped once, from the apiserver, and each series gets the job of the
// component its metric name belongs to (kubelet_* → kubelet, scheduler_* →
// kube-scheduler, kubeproxy_* → kube-proxy, the rest → apiserver), so the
// usual dashboards find them. Scraping all five endpoints stored every
// series five times (≈ 140 000 series for an idle node). The histograms
// that are large and that no dashboard or alert of Outpost reads are not
// stored (KubernetesDroppedMetrics).
//
// The kubelet's cAdvisor and resource endpoints are its own (job="kubelet",
// told apart by metrics_path); the kubelet and the apiserver serve
// certificates of the cluster CA. containerd serves plain HTTP on
// 127.0.0.1.
func ApplianceTargets(nodeName, nodeIP string, apiServerPort int, tls TLSFiles) []Target {
	if nodeIP == "" {
		nodeIP = "127.0.0.1"
	}
	kubelet := "https://" + net.JoinHostPort(nodeIP, "10250")
	node := map[string]string{"node": nodeName}
	return []Target{
		{Name: "kubernetes", Job: "apiserver", URL: "https://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(apiServerPort)) + "/metrics",
			TLS: &tls, Labels: node, JobByMetric: kubernetesJobs(), DropMetrics: KubernetesDroppedMetrics},
		// cAdvisor has one series per container and metric: the larger limit.
		{Name: "kubelet-cadvisor", Job: "kubelet", URL: kubelet + "/metrics/cadvisor", TLS: &tls, SampleLimit: 500_000, Labels: node},
		{Name: "kubelet-resource", Job: "kubelet", URL: kubelet + "/metrics/resource", TLS: &tls, Labels: node},
		{Name: "containerd", URL: "http://127.0.0.1:1338/v1/metrics", Labels: node},
	}
}

// kubernetesJobs assigns the in-process components' series their job.
func kubernetesJobs() []JobRule {
	return []JobRule{
		{Regex: "kubelet_.*|prober_.*|volume_manager_.*|plugin_manager_.*", Job: "kubelet"},
		{Regex: "scheduler_.*", Job: "kube-scheduler"},
		{Regex: "kubeproxy_.*", Job: "kube-proxy"},
	}
}

// KubernetesDroppedMetrics are histogram buckets of the control plane with
// thousands of series each on an idle node (by resource × verb × le, or per
// watch type), read by no built-in rule or console chart. Their _sum and
// _count stay, so rates and averages still work.
const KubernetesDroppedMetrics = `(etcd_request_duration_seconds|apiserver_watch_events_dispatch_duration_seconds|` +
	`apiserver_request_sli_duration_seconds|apiserver_watch_list_duration_seconds|apiserver_request_body_size_bytes|` +
	`apiserver_watch_cache_read_wait_seconds|apiserver_watch_cache_initialization_duration_seconds|` +
	`apiserver_watch_events_sizes|apiserver_response_sizes|workqueue_queue_duration_seconds|workqueue_work_duration_seconds|` +
	`scheduler_plugin_execution_duration_seconds|apiserver_flowcontrol_priority_level_request_utilization|` +
	`apiserver_flowcontrol_request_execution_seconds|apiserver_admission_controller_admission_duration_seconds)_bucket`
