package pki

import (
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
)

func testOptions(dir string) Options {
	return Options{Dir: dir, NodeName: "node-a", NodeIP: net.ParseIP("192.168.7.10"),
		APIServiceIP: net.ParseIP("10.43.0.1"), ClusterDomain: "cluster.local", APIServerPort: 6443}
}

func mustCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := parseCert(data)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEnsureIssuesVerifiableCertificates(t *testing.T) {
	f, err := Ensure(testOptions(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	ca := mustCert(t, f.CACert)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	tests := []struct {
		cert  string
		usage x509.ExtKeyUsage
		name  string
	}{
		{f.APIServerCert, x509.ExtKeyUsageServerAuth, "kubernetes.default.svc.cluster.local"},
		{f.APIServerCert, x509.ExtKeyUsageServerAuth, "10.43.0.1"},
		{f.APIServerCert, x509.ExtKeyUsageServerAuth, "127.0.0.1"},
		{f.KubeletServingCert, x509.ExtKeyUsageServerAuth, "192.168.7.10"},
		{f.RegistryCert, x509.ExtKeyUsageServerAuth, "192.168.7.10"},
		{f.ConsoleCert, x509.ExtKeyUsageServerAuth, "localhost"},
		{f.MonitorClientCert, x509.ExtKeyUsageClientAuth, ""},
	}
	for _, tt := range tests {
		c := mustCert(t, tt.cert)
		if _, err := c.Verify(x509.VerifyOptions{Roots: pool, DNSName: tt.name, KeyUsages: []x509.ExtKeyUsage{tt.usage}}); err != nil {
			t.Errorf("%s for %q: %v", filepath.Base(tt.cert), tt.name, err)
		}
	}
	// The front-proxy client must NOT be trusted by the cluster CA.
	fp := mustCert(t, f.FrontProxyClientCert)
	if _, err := fp.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err == nil {
		t.Error("front-proxy client certificate verifies against the cluster CA; it must use its own CA")
	}
	for _, p := range []string{f.CAKey, f.APIServerKey, f.ServiceAccountKey, f.EncryptionConfig, f.AdminKubeconfig} {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, err %v; want 0600", filepath.Base(p), st.Mode().Perm(), err)
		}
	}
}

func TestKubeconfigsIdentifyComponents(t *testing.T) {
	f, err := Ensure(testOptions(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		user string
		orgs []string
	}{
		{f.AdminKubeconfig, "outpost-admin", []string{"system:masters"}},
		{f.KubeletKubeconfig, "system:node:node-a", []string{"system:nodes"}},
		{f.SchedulerKubeconfig, "system:kube-scheduler", nil},
	}
	for _, tt := range tests {
		cfg, err := clientcmd.BuildConfigFromFlags("", tt.path)
		if err != nil {
			t.Fatalf("%s: %v", tt.path, err)
		}
		if cfg.Host != "https://127.0.0.1:6443" {
			t.Errorf("%s: host %q", filepath.Base(tt.path), cfg.Host)
		}
		c, err := parseCert(cfg.CertData)
		if err != nil {
			t.Fatal(err)
		}
		if c.Subject.CommonName != tt.user || !slices.Equal(c.Subject.Organization, tt.orgs) {
			t.Errorf("%s: subject %v, want %s %v", filepath.Base(tt.path), c.Subject, tt.user, tt.orgs)
		}
	}
}

func TestEnsureKeepsAndRenews(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir)
	f, err := Ensure(opts)
	if err != nil {
		t.Fatal(err)
	}
	ca1, api1, enc1 := mustCert(t, f.CACert), mustCert(t, f.APIServerCert), readFile(t, f.EncryptionConfig)

	// Same options: nothing changes.
	if _, err := Ensure(opts); err != nil {
		t.Fatal(err)
	}
	if !mustCert(t, f.APIServerCert).Equal(api1) || readFile(t, f.EncryptionConfig) != enc1 {
		t.Fatal("restart with the same options re-issued certificates or keys")
	}

	// New node IP: serving certs re-issued by the same CA, CA kept.
	opts.NodeIP = net.ParseIP("192.168.7.99")
	if _, err := Ensure(opts); err != nil {
		t.Fatal(err)
	}
	api2 := mustCert(t, f.APIServerCert)
	if api2.Equal(api1) || !slices.ContainsFunc(api2.IPAddresses, opts.NodeIP.Equal) {
		t.Fatal("changed node IP did not re-issue the apiserver certificate")
	}
	if !mustCert(t, f.CACert).Equal(ca1) {
		t.Fatal("CA changed")
	}

	// A corrupted leaf is replaced, not fatal.
	os.WriteFile(f.ConsoleCert, []byte("garbage"), 0o644)
	if _, err := Ensure(opts); err != nil {
		t.Fatalf("corrupted leaf: %v", err)
	}
	mustCert(t, f.ConsoleCert)

	// A corrupted CA is an error that names the file (never silently replaced:
	// that would invalidate every client).
	os.WriteFile(f.CACert, []byte("garbage"), 0o644)
	if _, err := Ensure(opts); err == nil {
		t.Fatal("corrupted CA accepted")
	}
}

func readFile(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// With monitoring disabled its client certificate is neither issued nor kept.
func TestWithoutMonitoringRemovesItsCertificate(t *testing.T) {
	dir := t.TempDir()
	f, err := Ensure(testOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	cert, key := f.MonitorClientCert, f.MonitorClientKey
	if mustCert(t, cert).Subject.CommonName != "outpost-monitor" {
		t.Fatal("monitoring client certificate not issued")
	}
	opts := testOptions(dir)
	opts.WithoutMonitoring = true
	f, err = Ensure(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{cert, key} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s still exists: %v", p, err)
		}
	}
	if f.MonitorClientCert != "" || f.MonitorClientKey != "" {
		t.Errorf("paths still returned: %q %q", f.MonitorClientCert, f.MonitorClientKey)
	}
	if mustCert(t, f.APIServerCert).Subject.CommonName != "kube-apiserver" {
		t.Error("other certificates affected")
	}
}
