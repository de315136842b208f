package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/outpost-platform/outpost/appliance/fsutil"
)

// Options says what names the certificates must carry.
type Options struct {
	// Dir is where files are written (<data-dir>/pki).
	Dir string
	// NodeName and NodeIP identify this node (kubelet serving, node client).
	NodeName string
	NodeIP   net.IP
	// APIServiceIP is the first address of the service CIDR (kubernetes.default).
	APIServiceIP  net.IP
	ClusterDomain string
	// APIServerPort is used for the server URL in kubeconfigs.
	APIServerPort int
	// WithoutMonitoring leaves out the monitoring client certificate (and
	// removes one issued before): monitoring is disabled.
	WithoutMonitoring bool
}

// Files are the paths of everything Ensure keeps.
type Files struct {
	Dir                        string
	CACert, CAKey              string
	FrontProxyCACert           string
	FrontProxyCAKey            string
	FrontProxyClientCert       string
	FrontProxyClientKey        string
	ServiceAccountKey          string
	ServiceAccountPub          string
	APIServerCert              string
	APIServerKey               string
	APIServerKubeletClientCert string
	APIServerKubeletClientKey  string
	KubeletServingCert         string
	KubeletServingKey          string
	RegistryCert, RegistryKey  string
	ConsoleCert, ConsoleKey    string
	MonitorClientCert          string
	MonitorClientKey           string
	EncryptionConfig           string
	// Kubeconfigs, all pointing at https://127.0.0.1:<port>.
	AdminKubeconfig             string
	ControllerManagerKubeconfig string
	SchedulerKubeconfig         string
	KubeletKubeconfig           string
	KubeProxyKubeconfig         string
	SupervisorKubeconfig        string
}

const (
	caValidity   = 10 * 365 * 24 * time.Hour
	leafValidity = 365 * 24 * time.Hour
	// renewBefore re-issues leaf certificates this long before they expire,
	// so a yearly restart keeps the appliance valid.
	renewBefore = 90 * 24 * time.Hour
)

// Ensure creates whatever is missing or stale under opts.Dir and returns the
// paths. It is safe to call on every start.
func Ensure(opts Options) (*Files, error) {
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating PKI directory: %w", err)
	}
	p := func(name string) string { return filepath.Join(opts.Dir, name) }
	f := &Files{
		Dir:    opts.Dir,
		CACert: p("ca.crt"), CAKey: p("ca.key"),
		FrontProxyCACert: p("front-proxy-ca.crt"), FrontProxyCAKey: p("front-proxy-ca.key"),
		FrontProxyClientCert: p("front-proxy-client.crt"), FrontProxyClientKey: p("front-proxy-client.key"),
		ServiceAccountKey: p("service-account.key"), ServiceAccountPub: p("service-account.pub"),
		APIServerCert: p("apiserver.crt"), APIServerKey: p("apiserver.key"),
		APIServerKubeletClientCert: p("apiserver-kubelet-client.crt"), APIServerKubeletClientKey: p("apiserver-kubelet-client.key"),
		KubeletServingCert: p("kubelet.crt"), KubeletServingKey: p("kubelet.key"),
		RegistryCert: p("registry.crt"), RegistryKey: p("registry.key"),
		ConsoleCert: p("console.crt"), ConsoleKey: p("console.key"),
		MonitorClientCert: p("monitor-client.crt"), MonitorClientKey: p("monitor-client.key"),
		EncryptionConfig:            p("encryption-config.yaml"),
		AdminKubeconfig:             p("admin.kubeconfig"),
		ControllerManagerKubeconfig: p("controller-manager.kubeconfig"),
		SchedulerKubeconfig:         p("scheduler.kubeconfig"),
		KubeletKubeconfig:           p("kubelet.kubeconfig"),
		KubeProxyKubeconfig:         p("kube-proxy.kubeconfig"),
		SupervisorKubeconfig:        p("supervisor.kubeconfig"),
	}
	ca, err := ensureCA(f.CACert, f.CAKey, "outpost-ca")
	if err != nil {
		return nil, err
	}
	// The front proxy gets its own CA: the apiserver trusts any client cert
	// from it to assert a user identity via request headers.
	fpca, err := ensureCA(f.FrontProxyCACert, f.FrontProxyCAKey, "outpost-front-proxy-ca")
	if err != nil {
		return nil, err
	}
	if err := ensureServiceAccountKey(f.ServiceAccountKey, f.ServiceAccountPub); err != nil {
		return nil, err
	}
	if err := ensureEncryptionConfig(f.EncryptionConfig); err != nil {
		return nil, err
	}

	local := []net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback}
	nodeIPs := append(slices.Clone(local), opts.NodeIP)
	apiDNS := []string{"localhost", opts.NodeName, "kubernetes", "kubernetes.default", "kubernetes.default.svc",
		"kubernetes.default.svc." + opts.ClusterDomain}
	leaves := []struct {
		cert, key string
		ca        *authority
		spec      leafSpec
	}{
		{f.APIServerCert, f.APIServerKey, ca, leafSpec{cn: "kube-apiserver", server: true, dns: apiDNS, ips: append(slices.Clone(nodeIPs), opts.APIServiceIP)}},
		{f.APIServerKubeletClientCert, f.APIServerKubeletClientKey, ca, leafSpec{cn: "kube-apiserver-kubelet-client", orgs: []string{"system:masters"}}},
		{f.FrontProxyClientCert, f.FrontProxyClientKey, fpca, leafSpec{cn: "front-proxy-client"}},
		{f.KubeletServingCert, f.KubeletServingKey, ca, leafSpec{cn: opts.NodeName, server: true, dns: []string{"localhost", opts.NodeName}, ips: nodeIPs}},
		{f.RegistryCert, f.RegistryKey, ca, leafSpec{cn: "outpost-registry", server: true, dns: []string{"localhost", opts.NodeName, "registry.outpost.local"}, ips: nodeIPs}},
		{f.ConsoleCert, f.ConsoleKey, ca, leafSpec{cn: "outpost-console", server: true, dns: []string{"localhost", opts.NodeName}, ips: nodeIPs}},
		{f.MonitorClientCert, f.MonitorClientKey, ca, leafSpec{cn: "outpost-monitor", orgs: []string{"outpost:monitoring"}}},
	}
	for _, l := range leaves {
		if opts.WithoutMonitoring && l.cert == f.MonitorClientCert {
			for _, p := range []string{l.cert, l.key} {
				if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
					return nil, fmt.Errorf("removing the monitoring client certificate: %w", err)
				}
			}
			continue
		}
		if err := ensureLeaf(l.cert, l.key, l.ca, l.spec); err != nil {
			return nil, err
		}
	}

	server := fmt.Sprintf("https://127.0.0.1:%d", opts.APIServerPort)
	kubeconfigs := []struct {
		path string
		spec leafSpec
	}{
		{f.AdminKubeconfig, leafSpec{cn: "outpost-admin", orgs: []string{"system:masters"}}},
		{f.ControllerManagerKubeconfig, leafSpec{cn: "system:kube-controller-manager"}},
		{f.SchedulerKubeconfig, leafSpec{cn: "system:kube-scheduler"}},
		{f.KubeletKubeconfig, leafSpec{cn: "system:node:" + opts.NodeName, orgs: []string{"system:nodes"}}},
		{f.KubeProxyKubeconfig, leafSpec{cn: "system:kube-proxy"}},
		// The supervisor is Outpost itself: it applies add-ons and runs
		// in-process controllers (local storage).
		{f.SupervisorKubeconfig, leafSpec{cn: "outpost-supervisor", orgs: []string{"system:masters"}}},
	}
	if opts.WithoutMonitoring {
		f.MonitorClientCert, f.MonitorClientKey = "", ""
	}
	for _, k := range kubeconfigs {
		if err := ensureKubeconfig(k.path, server, ca, k.spec); err != nil {
			return nil, err
		}
	}
	return f, nil
}

type authority struct {
	cert    *x509.Certificate
	certPEM []byte
	key     crypto.Signer
}

type leafSpec struct {
	cn     string
	orgs   []string
	server bool
	dns    []string
	ips    []net.IP
}

func ensureCA(certPath, keyPath, cn string) (*authority, error) {
	if certPEM, key, err := readPair(certPath, keyPath); err == nil {
		cert, err := parseCert(certPEM)
		if err != nil {
			return nil, fmt.Errorf("reading CA %s: %w", certPath, err)
		}
		return &authority{cert: cert, certPEM: certPEM, key: key}, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading CA %s: %w", certPath, err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating CA key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: fmt.Sprintf("%s@%d", cn, now.Unix())},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("creating CA certificate: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := writePair(certPath, certPEM, keyPath, key); err != nil {
		return nil, err
	}
	cert, _ := x509.ParseCertificate(der)
	return &authority{cert: cert, certPEM: certPEM, key: key}, nil
}

// ensureLeaf keeps an existing certificate when it was signed by ca, carries
// every wanted name and is not close to expiry; otherwise it issues a new one.
func ensureLeaf(certPath, keyPath string, ca *authority, spec leafSpec) error {
	if certPEM, _, err := readPair(certPath, keyPath); err == nil {
		if cert, err := parseCert(certPEM); err == nil && leafStillGood(cert, ca, spec) {
			return nil
		}
	}
	certPEM, key, err := issue(ca, spec)
	if err != nil {
		return fmt.Errorf("issuing certificate %s: %w", filepath.Base(certPath), err)
	}
	return writePair(certPath, certPEM, keyPath, key)
}

func leafStillGood(cert *x509.Certificate, ca *authority, spec leafSpec) bool {
	if cert.CheckSignatureFrom(ca.cert) != nil || time.Until(cert.NotAfter) < renewBefore {
		return false
	}
	if cert.Subject.CommonName != spec.cn || !slices.Equal(cert.Subject.Organization, spec.orgs) {
		return false
	}
	for _, d := range spec.dns {
		if !slices.Contains(cert.DNSNames, d) {
			return false
		}
	}
	for _, ip := range spec.ips {
		if !slices.ContainsFunc(cert.IPAddresses, ip.Equal) {
			return false
		}
	}
	return true
}

func issue(ca *authority, spec leafSpec) ([]byte, crypto.Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: spec.cn, Organization: spec.orgs},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(leafValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		DNSNames:     spec.dns,
		IPAddresses:  spec.ips,
	}
	if spec.server {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), key, nil
}

func ensureKubeconfig(path, server string, ca *authority, spec leafSpec) error {
	if data, err := os.ReadFile(path); err == nil {
		if certPEM := extractClientCert(data); certPEM != nil {
			if cert, err := parseCert(certPEM); err == nil && leafStillGood(cert, ca, spec) && bytes.Contains(data, []byte("server: "+server+"\n")) {
				return nil
			}
		}
	}
	certPEM, key, err := issue(ca, spec)
	if err != nil {
		return fmt.Errorf("issuing client certificate for %s: %w", filepath.Base(path), err)
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return err
	}
	b64 := base64.StdEncoding.EncodeToString
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: outpost
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: %s
  user:
    client-certificate-data: %s
    client-key-data: %s
contexts:
- name: outpost
  context:
    cluster: outpost
    user: %s
current-context: outpost
`, server, b64(ca.certPEM), spec.cn, b64(certPEM), b64(keyPEM), spec.cn)
	return fsutil.WriteFileAtomic(path, []byte(kc), 0o600)
}

func extractClientCert(kubeconfig []byte) []byte {
	const marker = "client-certificate-data: "
	i := bytes.Index(kubeconfig, []byte(marker))
	if i < 0 {
		return nil
	}
	rest := kubeconfig[i+len(marker):]
	if j := bytes.IndexByte(rest, '\n'); j >= 0 {
		rest = rest[:j]
	}
	out, err := base64.StdEncoding.DecodeString(string(rest))
	if err != nil {
		return nil
	}
	return out
}

func ensureServiceAccountKey(keyPath, pubPath string) error {
	if _, err := os.Stat(keyPath); err == nil {
		if _, err := os.Stat(pubPath); err == nil {
			return nil
		}
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("generating service-account key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := fsutil.WriteFileAtomic(keyPath, keyPEM, 0o600); err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644)
}

// ensureEncryptionConfig writes the apiserver's EncryptionConfiguration with
// a random secretbox key, so Secrets are encrypted at rest in the
// datastore. The key never changes once written; losing it loses Secrets.
func ensureEncryptionConfig(path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return err
	}
	cfg := fmt.Sprintf(`apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
- resources: ["secrets"]
  providers:
  - secretbox:
      keys:
      - name: key1
        secret: %s
  - identity: {}
`, base64.StdEncoding.EncodeToString(secret))
	return fsutil.WriteFileAtomic(path, []byte(cfg), 0o600)
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}

func parseCert(certPEM []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(certPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate found")
	}
	return x509.ParseCertificate(block.Bytes)
}

func readPair(certPath, keyPath string) ([]byte, crypto.Signer, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, nil, err
	}
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, nil, fmt.Errorf("%s holds no PEM key", keyPath)
	}
	key, err := x509.ParseECPrivateKey(block.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("parsing %s: %w", keyPath, err)
	}
	return certPEM, key, nil
}

func encodeKey(key crypto.Signer) ([]byte, error) {
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok {
		return nil, errors.New("unexpected key type")
	}
	der, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
}

func writePair(certPath string, certPEM []byte, keyPath string, key crypto.Signer) error {
	keyPEM, err := encodeKey(key)
	if err != nil {
		return err
	}
	// Key first: a crash between the two writes leaves a key without a
	// matching cert, which the next start detects and re-issues.
	if err := fsutil.WriteFileAtomic(keyPath, keyPEM, 0o600); err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(certPath, certPEM, 0o644)
}
