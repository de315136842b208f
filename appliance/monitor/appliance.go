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
// The kubelet (its three metrics paths, all as job="kubelet" told apart by
// metrics_path) and the apiserver serve certificates of the cluster CA;
// the scheduler and controller-manager serve self-signed certificates on
// 127.0.0.1, so their server certificate is not verified (the client
// certificate still authenticates monitoring to them). kube-proxy and
// containerd serve plain HTTP on 127.0.0.1.
func ApplianceTargets(nodeName, nodeIP string, apiServerPort int, tls TLSFiles) []Target {
	if nodeIP == "" {
		nodeIP = "127.0.0.1"
	}
	kubelet := "https://" + net.JoinHostPort(nodeIP, "10250")
	selfSigned := tls
	selfSigned.InsecureSkipVerify = true
	node := map[string]string{"node": nodeName}
	return []Target{
		{Name: "kubelet", Job: "kubelet", URL: kubelet + "/metrics", TLS: &tls, Labels: node},
		// cAdvisor has one series per container and metric: the larger limit.
		{Name: "kubelet-cadvisor", Job: "kubelet", URL: kubelet + "/metrics/cadvisor", TLS: &tls, SampleLimit: 500_000, Labels: node},
		{Name: "kubelet-resource", Job: "kubelet", URL: kubelet + "/metrics/resource", TLS: &tls, Labels: node},
		{Name: "apiserver", URL: "https://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(apiServerPort)) + "/metrics", TLS: &tls, Labels: node},
		{Name: "kube-scheduler", URL: "https://127.0.0.1:10259/metrics", TLS: &selfSigned, Labels: node},
		{Name: "kube-controller-manager", URL: "https://127.0.0.1:10257/metrics", TLS: &selfSigned, Labels: node},
		{Name: "kube-proxy", URL: "http://127.0.0.1:10249/metrics", Labels: node},
		{Name: "containerd", URL: "http://127.0.0.1:1338/v1/metrics", Labels: node},
	}
}
