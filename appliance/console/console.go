package console

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"k8s.io/client-go/rest"

	"github.com/outpost-platform/outpost/appliance/config"
	"github.com/outpost-platform/outpost/appliance/console/audit"
	"github.com/outpost-platform/outpost/appliance/console/identity"
	"github.com/outpost-platform/outpost/appliance/console/kube"
	"github.com/outpost-platform/outpost/appliance/console/session"
	"github.com/outpost-platform/outpost/appliance/console/store"
	"github.com/outpost-platform/outpost/appliance/console/tenancy"
	"github.com/outpost-platform/outpost/appliance/console/throttle"
	"github.com/outpost-platform/outpost/appliance/state"
)

// Config is the user-settable console configuration; its json tags are the
// configuration keys. Secrets (the OIDC client secret) are not serialized.
type Config struct {
	// Listen is the HTTPS address; default ":8443" (config key console-port).
	Listen string `json:"listen"`
	// TLSCertFile and TLSKeyFile are the console's certificate, issued by the
	// appliance CA (<data-dir>/pki/console.crt and .key).
	TLSCertFile string `json:"tls-cert-file"`
	TLSKeyFile  string `json:"tls-key-file"`
	// DataDir is the appliance data directory; the console keeps
	// <data-dir>/console/admin-password and bundle uploads under it.
	DataDir string `json:"data-dir"`
	// SessionIdleTimeout ends a session unused this long; default 30m.
	SessionIdleTimeout config.Duration `json:"session-idle-timeout"`
	// SessionAbsoluteTimeout ends a session this long after login; default 12h.
	SessionAbsoluteTimeout config.Duration `json:"session-absolute-timeout"`
	// LoginThrottle sets the login limits.
	LoginThrottle ThrottleConfig `json:"login-throttle"`
	// OIDC enables single sign-on when set.
	OIDC *identity.OIDCConfig `json:"oidc,omitempty"`
	// MonitoringURL is the base URL of the Prometheus-compatible query API;
	// default http://127.0.0.1:9190, "" when monitoring is disabled.
	MonitoringURL string `json:"monitoring-url"`
	// UIDir serves the front end from a directory instead of the embedded
	// build (front-end development).
	UIDir string `json:"ui-dir,omitempty"`
	// MaxBundleSize caps an uploaded bundle; default 64 GiB.
	MaxBundleSize int64 `json:"max-bundle-size"`
}

// ThrottleConfig is the serializable part of throttle.Config; see there.
type ThrottleConfig struct {
	FreeFailures    int             `json:"free-failures"`
	BaseDelay       config.Duration `json:"base-delay"`
	MaxDelay        config.Duration `json:"max-delay"`
	IPFailures      int             `json:"ip-failures"`
	AccountFailures int             `json:"account-failures"`
	Window          config.Duration `json:"window"`
}

// DefaultConfig returns the configuration used when nothing is set.
func DefaultConfig(dataDir string) Config {
	return Config{
		Listen:        ":8443",
		TLSCertFile:   filepath.Join(dataDir, "pki", "console.crt"),
		TLSKeyFile:    filepath.Join(dataDir, "pki", "console.key"),
		DataDir:       dataDir,
		MonitoringURL: "http://127.0.0.1:9190",
		MaxBundleSize: 64 << 30,
	}
}

// Deps are the running parts the console uses. Only DB is required; a nil
// dependency turns the pages that need it into "not available" answers.
type Deps struct {
	// DB is the appliance database; the console migrates its own tables.
	DB *state.DB
	// Kube reaches the apiserver with credentials allowed to impersonate
	// (the admin kubeconfig). The console impersonates "outpost:<user>".
	Kube *rest.Config
	// Registry lists and deletes images of the local registry.
	Registry Registry
	// Bundles imports offline bundles.
	Bundles BundleImporter
	// Monitor is the monitoring HTTP API in process (monitor.Handler():
	// Prometheus /api/v1, Alertmanager v2 subset, /api/outpost/v1). When set
	// it is used instead of Config.MonitoringURL, without a network hop.
	Monitor http.Handler
	// Alerting overrides the alerting built on the monitoring API.
	Alerting Alerting
	// HTTPClient reaches the monitoring API and the OIDC provider; default
	// a client with a 30s timeout.
	HTTPClient *http.Client
	// Logger receives the console's logs; default slog.Default().
	Logger *slog.Logger
	// Now is the clock; default time.Now. Tests move it to expire sessions.
	Now func() time.Time
	// PasswordHash overrides the argon2id cost (tests use a cheap one).
	PasswordHash identity.HashParams
	// Versions are shown on the overview page (e.g. "outpost": "v0.1.0").
	Versions map[string]string
}

// Console is the web console server.
type Console struct {
	cfg      Config
	deps     Deps
	log      *slog.Logger
	now      func() time.Time
	users    *identity.Store
	sessions *session.Store
	tenancy  *tenancy.Store
	audit    *audit.Log
	limiter  *throttle.Limiter
	oidc     *identity.OIDC
	cluster  *kube.Cluster
	uploads  *uploads
	echo     *echo.Echo
	events   *hub
	monitor  *monitorClient
	auth     *authCache
}

// AdminPasswordFile is where the first-start password is written, relative
// to the data directory.
const AdminPasswordFile = "console/admin-password"

// New prepares the console: it migrates the database, creates the first
// admin account if there is none (logging its one-time password and writing
// it 0600 to <data-dir>/console/admin-password) and builds the router.
func New(cfg Config, deps Deps) (*Console, error) {
	if deps.DB == nil {
		return nil, errors.New("console: a database is required")
	}
	if cfg.Listen == "" {
		cfg.Listen = ":8443"
	}
	if cfg.MaxBundleSize <= 0 {
		cfg.MaxBundleSize = 64 << 30
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.HTTPClient == nil {
		deps.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	ctx := context.Background()
	if err := store.Migrate(ctx, deps.DB); err != nil {
		return nil, err
	}
	users, err := identity.NewStore(deps.DB.DB, identity.Options{Hash: deps.PasswordHash, Now: deps.Now})
	if err != nil {
		return nil, fmt.Errorf("starting console accounts: %w", err)
	}
	c := &Console{
		cfg:   cfg,
		deps:  deps,
		log:   deps.Logger.With("component", "console"),
		now:   deps.Now,
		users: users,
		sessions: session.NewStore(deps.DB.DB, session.Config{IdleTimeout: time.Duration(cfg.SessionIdleTimeout),
			AbsoluteTimeout: time.Duration(cfg.SessionAbsoluteTimeout)}, deps.Now),
		tenancy: tenancy.NewStore(deps.DB.DB, deps.Now),
		audit:   audit.New(deps.DB.DB, deps.Now),
		limiter: throttle.New(throttle.Config{FreeFailures: cfg.LoginThrottle.FreeFailures, BaseDelay: time.Duration(cfg.LoginThrottle.BaseDelay),
			MaxDelay: time.Duration(cfg.LoginThrottle.MaxDelay), IPFailures: cfg.LoginThrottle.IPFailures,
			AccountFailures: cfg.LoginThrottle.AccountFailures, Window: time.Duration(cfg.LoginThrottle.Window), Now: deps.Now}),
		events: newHub(),
		auth:   newAuthCache(deps.Now),
	}
	if cfg.OIDC != nil {
		oc := *cfg.OIDC
		if oc.ClientSecret == "" {
			file := oc.ClientSecretFile
			if file == "" {
				file = filepath.Join(cfg.DataDir, "console", "oidc-client-secret")
			}
			secret, err := os.ReadFile(file)
			if err != nil {
				return nil, fmt.Errorf("console single sign-on: reading the client secret: %w", err)
			}
			oc.ClientSecret = strings.TrimSpace(string(secret))
		}
		if c.oidc, err = identity.NewOIDC(oc, deps.HTTPClient, deps.Now); err != nil {
			return nil, fmt.Errorf("console single sign-on: %w", err)
		}
	}
	if err := c.ensureFirstAdmin(ctx); err != nil {
		return nil, err
	}
	if deps.Kube != nil {
		if c.cluster, err = newKubeCluster(deps.Kube, c.log, c.events); err != nil {
			return nil, fmt.Errorf("console cluster access: %w", err)
		}
	}
	c.monitor = newMonitorClient(cfg.MonitoringURL, deps.Monitor, deps.HTTPClient)
	if c.deps.Alerting == nil && c.monitor != nil {
		c.deps.Alerting = &monitorAlerting{m: c.monitor, now: deps.Now}
	}
	if c.uploads, err = newUploads(cfg, deps.DB.DB, deps.Now); err != nil {
		return nil, err
	}
	c.echo = c.newRouter()
	return c, nil
}

// ensureFirstAdmin creates "admin" with a random one-time password when the
// console has no account yet.
func (c *Console) ensureFirstAdmin(ctx context.Context) error {
	n, err := c.users.Count(ctx)
	if err != nil || n > 0 {
		return err
	}
	password, err := identity.GeneratePassword()
	if err != nil {
		return err
	}
	created, err := c.users.EnsureAdmin(ctx, password)
	if err != nil || !created {
		return err
	}
	path := ""
	if c.cfg.DataDir != "" {
		path = filepath.Join(c.cfg.DataDir, AdminPasswordFile)
		if err := writeSecretFile(path, password+"\n"); err != nil {
			return err
		}
	}
	// Printed once, at creation; it must be changed at first login.
	c.log.Warn("console admin account created; log in as \"admin\" with this one-time password and change it",
		"password", password, "file", path)
	return nil
}

func writeSecretFile(path, content string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(path), err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// Handler returns the console's HTTP handler (API and UI), for tests and
// for embedding behind another listener.
func (c *Console) Handler() http.Handler { return c.echo }

// Run starts the cluster caches and serves HTTPS on cfg.Listen until ctx
// ends. A cluster that is not reachable yet does not stop the console: its
// pages answer "not available" until the caches sync.
func (c *Console) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if c.cluster != nil {
		go c.cluster.Run(ctx)
		go c.syncProjectsWhenReady(ctx)
	}
	go c.sweep(ctx)
	go c.uploads.run(ctx, c)

	cert, err := tls.LoadX509KeyPair(c.cfg.TLSCertFile, c.cfg.TLSKeyFile)
	if err != nil {
		return fmt.Errorf("loading console certificate %s: %w", c.cfg.TLSCertFile, err)
	}
	srv := &http.Server{
		Addr:              c.cfg.Listen,
		Handler:           c.echo,
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}},
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(c.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	ln, err := net.Listen("tcp", c.cfg.Listen)
	if err != nil {
		return fmt.Errorf("console listening on %s: %w", c.cfg.Listen, err)
	}
	c.log.Info("console listening", "address", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	select {
	case err := <-errc:
		return fmt.Errorf("console server: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, done := context.WithTimeout(context.Background(), 10*time.Second)
	defer done()
	c.events.close()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("stopping console server: %w", err)
	}
	return nil
}

// sweep removes expired sessions every few minutes.
func (c *Console) sweep(ctx context.Context) {
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := c.sessions.Sweep(ctx); err != nil {
				c.log.Warn("sweeping sessions", "err", err)
			}
		}
	}
}

// ResetAdminPassword sets a new password for the account "admin" (creating
// it if needed), requires a change at next login and ends admin's sessions.
// An empty password generates one. The password is written 0600 to
// <data-dir>/console/admin-password and returned. It is what
// `outpost console admin-password` runs, also while the server is running.
func ResetAdminPassword(ctx context.Context, db *state.DB, dataDir, password string) (string, error) {
	if err := store.Migrate(ctx, db); err != nil {
		return "", err
	}
	users, err := identity.NewStore(db.DB, identity.Options{})
	if err != nil {
		return "", err
	}
	if password == "" {
		if password, err = identity.GeneratePassword(); err != nil {
			return "", err
		}
	}
	if err := users.ResetAdminPassword(ctx, password); err != nil {
		return "", err
	}
	u, err := users.GetByName(ctx, "admin")
	if err != nil {
		return "", err
	}
	if err := session.NewStore(db.DB, session.Config{}, nil).DeleteUserSessions(ctx, u.ID, ""); err != nil {
		return "", err
	}
	if dataDir != "" {
		if err := writeSecretFile(filepath.Join(dataDir, AdminPasswordFile), password+"\n"); err != nil {
			return "", err
		}
	}
	return password, nil
}
