package monitor

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/outpost-platform/outpost/appliance/config"
	"github.com/outpost-platform/outpost/appliance/monitor/settings"
	"github.com/outpost-platform/outpost/appliance/pki"
)

func TestApplianceConfigBuildsAValidMonitor(t *testing.T) {
	c := config.Default()
	c.DataDir = t.TempDir()
	c.NodeName = "edge-1"
	// The alerting and remote-write sections of the appliance config reach
	// monitoring as they are.
	c.Alerting = settings.Alerting{Receivers: []settings.Receiver{{Name: "from-file", Webhook: &settings.Webhook{URL: "http://127.0.0.1:1/hook", BearerToken: "tok-file"}}}}
	c.MonitoringRemoteWrite = []settings.RemoteWrite{{URL: "http://127.0.0.1:1/api/v1/write", BearerToken: "tok-rw"}}
	certs := ensurePKI(t, c.DataDir)
	cfg, err := ApplianceConfig(&c, "10.0.0.5", certs)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != ":9190" || cfg.Retention != 15*24*time.Hour || cfg.RetentionSize != 2<<30 || cfg.ScrapeInterval != 15*time.Second {
		t.Fatalf("derived config = %+v", cfg)
	}
	if cfg.Dir != filepath.Join(c.DataDir, "monitor") || cfg.ExternalURL != "http://10.0.0.5:9190" {
		t.Fatalf("dir %q, external URL %q", cfg.Dir, cfg.ExternalURL)
	}
	cfg.Listen = "" // the test serves through Handler
	cfg.ScrapeInterval, cfg.ScrapeTimeout = 500*time.Millisecond, 200*time.Millisecond
	// A KubeConfig turns on object-state metrics and pod discovery; no
	// apiserver answers here, which must not stop monitoring.
	tm := startMonitor(t, cfg, Deps{NodeName: "edge-1", KubeConfig: &rest.Config{Host: "https://127.0.0.1:1", TLSClientConfig: rest.TLSClientConfig{Insecure: true}}})

	fi, err := os.Stat(filepath.Join(cfg.Dir, "kubeconfig"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("kubeconfig for discovery: %v %v", fi, err)
	}
	_, r := tm.get(t, "/api/v1/status/config", nil)
	for _, want := range []string{
		"job_name: kubelet-cadvisor", "10.0.0.5:10250", "scheme: https", "/metrics/cadvisor", "cert_file: " + certs.MonitorClientCert,
		"job_name: kubernetes", "metric_relabel_configs", "etcd_request_duration_seconds", "job_name: containerd", "/v1/metrics",
		"job_name: kubernetes-pods", "kubernetes_sd_configs", "__meta_kubernetes_pod_annotation_prometheus_io_scrape",
		"job_name: kube-state-metrics", "job_name: node", "sample_limit: 500000",
		"remote_write:", "url: http://127.0.0.1:1/api/v1/write",
	} {
		if !strings.Contains(string(r.Data), want) {
			t.Errorf("generated Prometheus config lacks %q", want)
		}
	}
	if strings.Contains(string(r.Data), "tok-") {
		t.Errorf("status/config shows a credential:\n%s", r.Data)
	}
	if code, out := do(t, http.MethodGet, tm.api.URL+"/api/outpost/v1/receivers", "", nil); code != http.StatusOK ||
		!strings.Contains(string(out), `"from-file"`) || strings.Contains(string(out), "tok-file") {
		t.Errorf("receivers from the config file: %d %s", code, out)
	}
	// The kubelet series carry job="kubelet" and the node, told apart by
	// metrics_path, even while the kubelet is unreachable.
	eventually(t, "kubelet targets to report down", func() bool {
		return len(tm.query(t, `up{job="kubelet", node="edge-1", metrics_path="/metrics/cadvisor"} == 0`)) == 1
	})
	if code, _ := do(t, http.MethodGet, tm.api.URL+"/metrics/kube-state", "", nil); code != http.StatusOK {
		t.Fatalf("/metrics/kube-state: %d", code)
	}
	start := time.Now()
	tm.stop()
	t.Logf("stopped in %s", time.Since(start))
}

// ensurePKI creates the appliance's real certificates.
func ensurePKI(t *testing.T, dataDir string) *pki.Files {
	t.Helper()
	certs, err := pki.Ensure(pki.Options{Dir: filepath.Join(dataDir, "pki"), NodeName: "edge-1", NodeIP: net.ParseIP("127.0.0.1"),
		APIServiceIP: net.ParseIP("10.43.0.1"), ClusterDomain: "cluster.local", APIServerPort: 6443})
	if err != nil {
		t.Fatal(err)
	}
	return certs
}

// TestScrapeWithClientCertificate scrapes a stand-in for the kubelet that,
// like the kubelet, serves the PKI's serving certificate and demands a
// client certificate from the cluster CA.
func TestScrapeWithClientCertificate(t *testing.T) {
	dataDir := t.TempDir()
	certs := ensurePKI(t, dataDir)
	caPEM, err := os.ReadFile(certs.CACert)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	serving, err := tls.LoadX509KeyPair(certs.KubeletServingCert, certs.KubeletServingKey)
	if err != nil {
		t.Fatal(err)
	}
	users := make(chan string, 100)
	kubelet := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		users <- r.TLS.PeerCertificates[0].Subject.CommonName
		io.WriteString(w, "kubelet_running_pods 3\n")
	}))
	kubelet.TLS = &tls.Config{Certificates: []tls.Certificate{serving}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	kubelet.StartTLS()
	defer kubelet.Close()

	files := TLSFiles{CAFile: certs.CACert, CertFile: certs.MonitorClientCert, KeyFile: certs.MonitorClientKey}
	tm := startMonitor(t, Config{Targets: []Target{{Name: "kubelet", URL: kubelet.URL + "/metrics", TLS: &files}}}, Deps{})
	eventually(t, "the TLS target to be scraped", func() bool { return len(tm.query(t, `kubelet_running_pods == 3`)) == 1 })
	if user := <-users; user != "outpost-monitor" {
		t.Fatalf("scrape authenticated as %q, want outpost-monitor", user)
	}
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"relative dir", Config{Dir: "monitor"}, "absolute path"},
		{"timeout above interval", Config{Dir: "/m", ScrapeInterval: time.Second, ScrapeTimeout: 2 * time.Second}, "must not exceed"},
		{"reserved target name", Config{Dir: "/m", Targets: []Target{{Name: "node", URL: "http://x:1/metrics"}}}, "reserved"},
		{"duplicate target", Config{Dir: "/m", Targets: []Target{{Name: "a", URL: "http://x:1/m"}, {Name: "a", URL: "http://x:2/m"}}}, "unique"},
		{"bad target URL", Config{Dir: "/m", Targets: []Target{{Name: "a", URL: "x:1/m"}}}, "URL must be"},
		{"bad external URL", Config{Dir: "/m", ExternalURL: "nope"}, "external URL"},
	}
	for _, tc := range tests {
		if _, err := tc.cfg.withDefaults(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}

// The in-process Kubernetes components share one registry, scraped once:
// each series gets its component's job, and the large unused histogram
// buckets are not stored while their _sum and _count are.
func TestKubernetesRegistryScrapedOnceWithJobsByMetric(t *testing.T) {
	shared := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `kubelet_running_pods 3
prober_probe_total{result="successful"} 7
scheduler_pending_pods{queue="active"} 0
kubeproxy_sync_proxy_rules_last_timestamp_seconds 1.7e9
apiserver_storage_objects{resource="pods"} 12
etcd_request_duration_seconds_bucket{le="0.1",operation="get",type="pods"} 4
etcd_request_duration_seconds_bucket{le="+Inf",operation="get",type="pods"} 5
etcd_request_duration_seconds_sum{operation="get",type="pods"} 0.2
etcd_request_duration_seconds_count{operation="get",type="pods"} 5
`)
	}))
	defer shared.Close()
	target := ApplianceTargets("edge-1", "", 6443, TLSFiles{})[0]
	target.URL, target.TLS = shared.URL+"/metrics", nil
	tm := startMonitor(t, Config{Targets: []Target{target}}, Deps{})
	eventually(t, "the shared registry to be scraped", func() bool { return len(tm.query(t, `apiserver_storage_objects`)) == 1 })
	tests := []struct {
		query string
		want  int
	}{
		{`kubelet_running_pods{job="kubelet", node="edge-1"}`, 1},
		{`prober_probe_total{job="kubelet"}`, 1},
		{`scheduler_pending_pods{job="kube-scheduler"}`, 1},
		{`kubeproxy_sync_proxy_rules_last_timestamp_seconds{job="kube-proxy"}`, 1},
		{`apiserver_storage_objects{job="apiserver"}`, 1},
		{`up{job="apiserver"}`, 1},
		{`etcd_request_duration_seconds_bucket`, 0},
		{`etcd_request_duration_seconds_count{job="apiserver"}`, 1},
		{`etcd_request_duration_seconds_sum{job="apiserver"}`, 1},
		{`{__name__=~".+", job="kubernetes"}`, 0},
	}
	for _, tt := range tests {
		if got := len(tm.query(t, tt.query)); got != tt.want {
			t.Errorf("%s: %d series, want %d", tt.query, got, tt.want)
		}
	}
}
