package nodemetrics

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// gather collects c through a registry, which also checks that every
// metric is consistent (no duplicate series, valid names).
func gather(t *testing.T, c prometheus.Collector) map[string][]*dto.Metric {
	t.Helper()
	reg := prometheus.NewRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := map[string][]*dto.Metric{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf.GetMetric()
	}
	return out
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	}
	return m.GetUntyped().GetValue()
}

// find returns the value of the series of name whose labels include want.
func find(t *testing.T, got map[string][]*dto.Metric, name string, want map[string]string) (float64, bool) {
	t.Helper()
next:
	for _, m := range got[name] {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		return value(m), true
	}
	return 0, false
}

func TestCollectorMapsProcfsFixture(t *testing.T) {
	c, err := New(Options{ProcPath: "testdata/proc", SysPath: "testdata/sys", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	got := gather(t, c)
	tests := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"node_memory_MemTotal_bytes", nil, 16000000 * 1024},
		{"node_memory_MemAvailable_bytes", nil, 8000000 * 1024},
		{"node_load1", nil, 0.5},
		{"node_load15", nil, 2},
		{"node_cpu_seconds_total", map[string]string{"cpu": "1", "mode": "idle"}, 250},   // 25000 USER_HZ
		{"node_cpu_seconds_total", map[string]string{"cpu": "0", "mode": "iowait"}, 1.5}, // 150 USER_HZ
		{"node_context_switches_total", nil, 987654},
		{"node_boot_time_seconds", nil, 1700000000},
		{"node_procs_running", nil, 3},
		{"node_network_receive_bytes_total", map[string]string{"device": "eth0"}, 5000000},
		{"node_network_transmit_drop_total", map[string]string{"device": "eth0"}, 3},
		{"node_disk_read_bytes_total", map[string]string{"device": "sda"}, 2000 * 512},
		{"node_disk_written_bytes_total", map[string]string{"device": "sda"}, 4000 * 512},
		{"node_disk_io_time_seconds_total", map[string]string{"device": "sda"}, 0.12},
		{"node_filesystem_readonly", map[string]string{"mountpoint": "/data", "fstype": "xfs", "device": "/dev/sdb1"}, 1},
		{"node_scrape_collector_success", map[string]string{"collector": "meminfo"}, 1},
	}
	for _, tc := range tests {
		v, ok := find(t, got, tc.name, tc.labels)
		if !ok {
			t.Errorf("%s%v missing", tc.name, tc.labels)
			continue
		}
		if v != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, v, tc.want)
		}
	}
	for _, absent := range []struct {
		name   string
		labels map[string]string
	}{
		{"node_disk_read_bytes_total", map[string]string{"device": "sda1"}},  // partitions are left out
		{"node_disk_read_bytes_total", map[string]string{"device": "loop0"}}, // so are loop devices
		{"node_filesystem_size_bytes", map[string]string{"fstype": "proc"}},
		{"node_filesystem_size_bytes", map[string]string{"fstype": "tmpfs"}}, // per-pod volume
	} {
		if _, ok := find(t, got, absent.name, absent.labels); ok {
			t.Errorf("%s%v should be filtered out", absent.name, absent.labels)
		}
	}
}

func TestCollectorOnThisHost(t *testing.T) {
	c, err := New(Options{Logger: slog.New(slog.DiscardHandler), Volumes: map[string]string{"registry": t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	got := gather(t, c)
	for _, name := range []string{"node_cpu_seconds_total", "node_memory_MemTotal_bytes", "node_load1",
		"node_network_receive_bytes_total", "node_filesystem_avail_bytes", "node_uname_info", "outpost_volume_size_bytes"} {
		if len(got[name]) == 0 {
			t.Errorf("%s missing on this host", name)
		}
	}
	if v, _ := find(t, got, "outpost_volume_avail_bytes", map[string]string{"volume": "registry"}); v <= 0 {
		t.Errorf("outpost_volume_avail_bytes{volume=registry} = %v", v)
	}
}

func writeCert(t *testing.T, path string, notAfter time.Time) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kube-apiserver"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	// A key before the certificate, as some tools write bundles.
	data := append(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestCertificateExpiry(t *testing.T) {
	dir := t.TempDir()
	notAfter := time.Now().Add(10 * 24 * time.Hour).Truncate(time.Second)
	writeCert(t, filepath.Join(dir, "apiserver.crt"), notAfter)
	if err := os.WriteFile(filepath.Join(dir, "broken.pem"), []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := New(Options{CertificateFiles: []string{dir, filepath.Join(dir, "missing.crt")}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	got := gather(t, c)
	v, ok := find(t, got, "outpost_certificate_expiry_timestamp_seconds", map[string]string{"subject": "CN=kube-apiserver"})
	if !ok || v != float64(notAfter.Unix()) {
		t.Fatalf("expiry = %v (found %v), want %v", v, ok, notAfter.Unix())
	}
	// The broken file makes the collector report failure, but the good
	// certificate is still exported.
	if v, _ := find(t, got, "node_scrape_collector_success", map[string]string{"collector": "certificates"}); v != 0 {
		t.Fatalf("certificates collector success = %v with a broken file, want 0", v)
	}
}
