package registry

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/outpost-platform/outpost/appliance/state"
)

// Config is the registry's runtime configuration.
type Config struct {
	// Dir holds the registry's storage: <data-dir>/registry.
	Dir string
	// Addr is the TLS listen address, ":5000" by default.
	Addr string
	// CertFile and KeyFile are the serving certificate and key, signed by
	// the appliance CA. They are re-read when they change on disk.
	CertFile, KeyFile string
	// GCInterval is the time between scheduled garbage collections; 0
	// turns scheduled collection off.
	GCInterval time.Duration
	// GCGracePeriod protects blobs younger than this from collection:
	// uploads whose manifest is not pushed yet. One hour by default.
	GCGracePeriod time.Duration
	// Registerer receives the registry's metrics; nil means none.
	Registerer prometheus.Registerer
}

// DefaultGCGracePeriod is the grace period when Config leaves it zero.
const DefaultGCGracePeriod = time.Hour

// Registry is the local OCI registry: the distribution server over Store,
// with Outpost's authentication, mirror mapping and garbage collection.
type Registry struct {
	cfg      Config
	logger   *slog.Logger
	store    *Store
	users    *Users
	sources  *Sources
	metrics  *metrics
	handler  http.Handler
	closeApp func() error

	// gcGate orders manifest pushes (readers) against the start of a
	// garbage collection and image removal (writers).
	gcGate sync.RWMutex
	// afterMark, when set by tests, runs between GC's mark and sweep.
	afterMark func()
}

// New prepares the registry stored in cfg.Dir, with its accounts and
// provenance records in db. It does not listen; see Run and Handler.
func New(cfg Config, db *state.DB, logger *slog.Logger) (*Registry, error) {
	if cfg.Dir == "" {
		return nil, errors.New("creating registry: no storage directory configured")
	}
	if db == nil {
		return nil, errors.New("creating registry: no state database")
	}
	if cfg.Addr == "" {
		cfg.Addr = ":5000"
	}
	if cfg.GCGracePeriod == 0 {
		cfg.GCGracePeriod = DefaultGCGracePeriod
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	store, err := OpenStore(cfg.Dir)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	users, err := NewUsers(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("creating registry: %w", err)
	}
	sources, err := NewSources(ctx, db, logger)
	if err != nil {
		return nil, fmt.Errorf("creating registry: %w", err)
	}
	secret, err := httpSecret(cfg.Dir)
	if err != nil {
		return nil, err
	}
	reg := &Registry{cfg: cfg, logger: logger, store: store, users: users, sources: sources}
	reg.metrics = newMetrics(cfg.Registerer)
	app, closeApp, err := newDistributionApp(cfg.Dir, secret, logger)
	if err != nil {
		return nil, err
	}
	reg.closeApp = closeApp
	reg.handler = reg.metrics.instrument(authHandler(users, mirrorHandler(reg.guardHandler(app))))
	return reg, nil
}

// Handler serves the distribution API (/v2/...) without TLS; tests and
// embedders that terminate TLS themselves use it.
func (reg *Registry) Handler() http.Handler { return reg.handler }

// Store returns the registry's storage, used by bundle imports.
func (reg *Registry) Store() *Store { return reg.store }

// Users returns the registry's account store.
func (reg *Registry) Users() *Users { return reg.users }

// Sources returns the provenance records of tags.
func (reg *Registry) Sources() *Sources { return reg.sources }

// Close stops the embedded distribution app's background work.
func (reg *Registry) Close() error { return reg.closeApp() }

// Run serves the registry over TLS on cfg.Addr and runs scheduled garbage
// collection until ctx is done.
func (reg *Registry) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", reg.cfg.Addr)
	if err != nil {
		return fmt.Errorf("running registry: listening on %s: %w", reg.cfg.Addr, err)
	}
	return reg.Serve(ctx, ln)
}

// Serve is Run on a listener the caller opened. It closes ln.
func (reg *Registry) Serve(ctx context.Context, ln net.Listener) error {
	if reg.cfg.CertFile == "" || reg.cfg.KeyFile == "" {
		ln.Close()
		return errors.New("running registry: no TLS certificate configured (registry.crt/registry.key from the appliance CA)")
	}
	certs, err := newCertReloader(reg.cfg.CertFile, reg.cfg.KeyFile)
	if err != nil {
		ln.Close()
		return fmt.Errorf("running registry: %w", err)
	}
	srv := &http.Server{
		Handler:           reg.handler,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: certs.get},
		ErrorLog:          slog.NewLogLogger(reg.logger.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	reg.logger.Info("registry listening", "addr", ln.Addr().String(), "dir", reg.cfg.Dir)

	var tick <-chan time.Time
	if reg.cfg.GCInterval > 0 {
		t := time.NewTicker(reg.cfg.GCInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case err := <-errc:
			return fmt.Errorf("registry server stopped: %w", err)
		case <-tick:
			if _, err := reg.GC(ctx, GCOptions{}); err != nil && ctx.Err() == nil {
				reg.logger.Error("scheduled registry garbage collection failed", "error", err)
			}
		case <-ctx.Done():
			shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := srv.Shutdown(shutdownCtx)
			if err != nil {
				srv.Close()
			}
			reg.Close()
			return nil
		}
	}
}

// httpSecret returns the key distribution signs upload state with. It is
// kept on disk so that uploads survive a restart.
func httpSecret(dir string) (string, error) {
	path := filepath.Join(dir, "http-secret")
	if b, err := os.ReadFile(path); err == nil && len(b) >= 32 {
		return string(b), nil
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("creating registry upload secret: %w", err)
	}
	secret := hex.EncodeToString(b[:])
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(secret), 0o600); err != nil {
		return "", fmt.Errorf("creating registry upload secret: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("creating registry upload secret: %w", err)
	}
	return secret, nil
}

// certReloader serves the certificate on disk, re-reading it when its
// modification time changes (the appliance CA rotates it).
type certReloader struct {
	certFile, keyFile string
	mu                sync.Mutex
	cert              *tls.Certificate
	mod               time.Time
}

func newCertReloader(certFile, keyFile string) (*certReloader, error) {
	c := &certReloader{certFile: certFile, keyFile: keyFile}
	if _, err := c.get(nil); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	fi, err := os.Stat(c.certFile)
	if err != nil {
		return nil, fmt.Errorf("loading registry certificate: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cert != nil && fi.ModTime().Equal(c.mod) {
		return c.cert, nil
	}
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		if c.cert != nil {
			return c.cert, nil // keep serving the last good pair mid-rotation
		}
		return nil, fmt.Errorf("loading registry certificate %s: %w", c.certFile, err)
	}
	c.cert, c.mod = &cert, fi.ModTime()
	return c.cert, nil
}
