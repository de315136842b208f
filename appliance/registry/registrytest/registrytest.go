// Package registrytest starts a real Outpost registry over TLS for tests:
// a fresh state database, storage in a temporary directory, a CA and serving
// certificate made on the spot, and one push account.
package registrytest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/crane"

	"github.com/outpost-platform/outpost/appliance/registry"
	"github.com/outpost-platform/outpost/appliance/state"
)

// User and Password are the push account every Env has.
const (
	User     = "alice"
	Password = "correct-horse-battery"
)

// Env is a running registry.
type Env struct {
	Registry *registry.Registry
	DB       *state.DB
	// Host is "127.0.0.1:<port>".
	Host string
	// DataDir holds state/, registry/ and pki/ like an appliance's.
	DataDir string
	// CAFile is the PEM CA certificate that signed the serving certificate.
	CAFile string
	// Transport trusts CAFile.
	Transport *http.Transport
}

// Options adjust Start.
type Options struct {
	// GCGracePeriod overrides the registry's default.
	GCGracePeriod time.Duration
	// DataDir reuses an existing data directory (restart tests).
	DataDir string
}

// Start runs a registry until the test ends.
func Start(t testing.TB, opts Options) *Env {
	t.Helper()
	dataDir := opts.DataDir
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	pki := filepath.Join(dataDir, "pki")
	caFile, certFile, keyFile := WritePKI(t, pki)
	db, err := state.Open(filepath.Join(dataDir, "state", "outpost.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// Distribution logs every request through logrus's global logger.
	registry.BridgeLogrus(slog.New(slog.DiscardHandler))
	reg, err := registry.New(registry.Config{
		Dir:           filepath.Join(dataDir, "registry"),
		Addr:          ln.Addr().String(),
		CertFile:      certFile,
		KeyFile:       keyFile,
		GCGracePeriod: opts.GCGracePeriod,
	}, db, logger)
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Users().Set(context.Background(), User, Password); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- reg.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("registry stopped: %v", err)
		}
	})
	pool := x509.NewCertPool()
	caPEM, _ := os.ReadFile(caFile)
	pool.AppendCertsFromPEM(caPEM)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	t.Cleanup(tr.CloseIdleConnections)
	return &Env{Registry: reg, DB: db, Host: ln.Addr().String(), DataDir: dataDir, CAFile: caFile, Transport: tr}
}

// Crane returns crane options for this registry; with push credentials
// when auth is true, anonymous otherwise.
func (e *Env) Crane(auth bool) []crane.Option {
	opts := []crane.Option{crane.WithTransport(e.Transport)}
	if auth {
		opts = append(opts, crane.WithAuth(&authn.Basic{Username: User, Password: Password}))
	} else {
		opts = append(opts, crane.WithAuth(authn.Anonymous))
	}
	return opts
}

// Client is an HTTPS client trusting the registry's CA.
func (e *Env) Client() *http.Client { return &http.Client{Transport: e.Transport} }

// URL returns https://<host><path>.
func (e *Env) URL(path string) string { return "https://" + e.Host + path }

// WritePKI writes ca.crt, registry.crt and registry.key (for 127.0.0.1 and
// localhost) into dir, keeping existing files.
func WritePKI(t testing.TB, dir string) (caFile, certFile, keyFile string) {
	t.Helper()
	caFile, certFile, keyFile = filepath.Join(dir, "ca.crt"), filepath.Join(dir, "registry.crt"), filepath.Join(dir, "registry.key")
	if _, err := os.Stat(keyFile); err == nil {
		return
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "outpost test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "outpost registry"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	write := func(path, typ string, b []byte, mode os.FileMode) {
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), mode); err != nil {
			t.Fatal(err)
		}
	}
	write(caFile, "CERTIFICATE", caDER, 0o644)
	write(certFile, "CERTIFICATE", der, 0o644)
	write(keyFile, "EC PRIVATE KEY", keyDER, 0o600)
	return
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
