package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/outpost-platform/outpost/appliance/bundle"
	"github.com/outpost-platform/outpost/appliance/config"
	"github.com/outpost-platform/outpost/appliance/console"
	"github.com/outpost-platform/outpost/appliance/console/adapt"
	"github.com/outpost-platform/outpost/appliance/monitor"
	"github.com/outpost-platform/outpost/appliance/pki"
	"github.com/outpost-platform/outpost/appliance/registry"
	"github.com/outpost-platform/outpost/appliance/state"
	"github.com/outpost-platform/outpost/appliance/storage"
	"github.com/outpost-platform/outpost/appliance/trust"
	"github.com/outpost-platform/outpost/appliance/version"
)

// services are the appliance services that run beside Kubernetes.
type services struct {
	db       *state.DB
	metrics  *prometheus.Registry
	registry *registry.Registry
	importer *bundle.Importer
	monitor  *monitor.Monitor
}

// AdminSocket is the root-only socket the CLI reaches the server on.
func AdminSocket(dataDir string) string { return filepath.Join(dataDir, "run", "outpost.sock") }

// openServices prepares the services that must exist before containerd
// pulls anything: the state database and the registry every upstream
// registry is mirrored to.
func openServices(ctx context.Context, s *supervisor, cfg config.Config, certs *pki.Files, certsDir string) (*services, error) {
	db, err := state.Open(filepath.Join(cfg.DataDir, "state", "outpost.db"))
	if err != nil {
		return nil, err
	}
	svc := &services{db: db, metrics: prometheus.NewRegistry()}
	if cfg.Disabled(config.ComponentRegistry) {
		return svc, nil
	}
	registry.BridgeLogrus(s.log)
	reg, err := registry.New(registry.Config{Dir: filepath.Join(cfg.DataDir, "registry"),
		Addr: fmt.Sprintf(":%d", cfg.RegistryPort), CertFile: certs.RegistryCert, KeyFile: certs.RegistryKey,
		GCInterval: time.Duration(cfg.RegistryGCInterval), Registerer: svc.metrics}, db, s.log)
	if err != nil {
		return nil, fmt.Errorf("starting registry: %w", err)
	}
	svc.registry = reg
	if err := registry.WriteContainerdHosts(certsDir, fmt.Sprintf("%s:%d", cfg.NodeIP, cfg.RegistryPort), certs.CACert); err != nil {
		return nil, fmt.Errorf("configuring containerd registry mirror: %w", err)
	}
	keys, err := trust.Open(ctx, db)
	if err != nil {
		return nil, err
	}
	im, err := bundle.NewImporter(reg, db, keys, bundle.WithContentDir(filepath.Join(cfg.DataDir, "bundles")),
		bundle.WithLogger(s.log), bundle.WithRegisterer(svc.metrics), bundle.WithOutpostVersion(version.Outpost))
	if err != nil {
		return nil, fmt.Errorf("starting bundle importer: %w", err)
	}
	svc.importer = im
	s.goRun("registry", func() error { return reg.Run(ctx) })
	return svc, nil
}

// start runs the services that need the cluster: local storage, the admin
// socket, monitoring and the console — each unless disabled.
func (svc *services) start(ctx context.Context, s *supervisor, cfg config.Config, certs *pki.Files, restCfg *rest.Config, client kubernetes.Interface) error {
	if !cfg.Disabled(config.ComponentLocalStorage) {
		s.goRun("local storage", func() error {
			return storage.Run(ctx, client, storage.Config{Dir: filepath.Join(cfg.DataDir, "storage"), NodeName: cfg.NodeName}, s.log)
		})
	}
	if !cfg.Disabled(config.ComponentMonitoring) {
		if err := svc.startMonitor(ctx, s, cfg, certs, restCfg); err != nil {
			return err
		}
	}
	if !cfg.Disabled(config.ComponentConsole) {
		if err := svc.startConsole(ctx, s, cfg, certs, restCfg); err != nil {
			return err
		}
	}
	if err := svc.serveAdmin(ctx, s, cfg); err != nil {
		return err
	}
	return nil
}

// startConsole serves the web console. It acts for each user by
// impersonation with the supervisor's credentials, so Kubernetes RBAC has the
// last word; monitoring and the registry are reached in process.
func (svc *services) startConsole(ctx context.Context, s *supervisor, cfg config.Config, certs *pki.Files, restCfg *rest.Config) error {
	ccfg := console.Config{Listen: fmt.Sprintf(":%d", cfg.ConsolePort), TLSCertFile: certs.ConsoleCert,
		TLSKeyFile: certs.ConsoleKey, DataDir: cfg.DataDir}
	deps := console.Deps{DB: svc.db, Kube: restCfg, Logger: s.log,
		Versions: map[string]string{"outpost": version.Outpost, "kubernetes": version.Kubernetes}}
	if svc.registry != nil {
		deps.Registry = adapt.Registry(svc.registry)
		deps.Bundles = adapt.Bundles(svc.importer)
	}
	if svc.monitor != nil {
		deps.Monitor = svc.monitor.Handler()
	}
	c, err := console.New(ccfg, deps)
	if err != nil {
		return fmt.Errorf("starting console: %w", err)
	}
	s.goRun("console", func() error { return c.Run(ctx) })
	return nil
}

// startMonitor runs the TSDB, scrapers, rules and notifier. It reaches the
// apiserver as user outpost-monitor (read-only, see the rbac add-on).
func (svc *services) startMonitor(ctx context.Context, s *supervisor, cfg config.Config, certs *pki.Files, restCfg *rest.Config) error {
	mcfg, err := monitor.ApplianceConfig(&cfg, cfg.NodeIP, certs)
	if err != nil {
		return err
	}
	monRest := rest.CopyConfig(restCfg)
	monRest.TLSClientConfig.CertData, monRest.TLSClientConfig.KeyData = nil, nil
	monRest.TLSClientConfig.CertFile, monRest.TLSClientConfig.KeyFile = certs.MonitorClientCert, certs.MonitorClientKey
	m, err := monitor.New(mcfg, monitor.Deps{Logger: s.log, KubeConfig: monRest, NodeName: cfg.NodeName, Gatherer: svc.metrics})
	if err != nil {
		return fmt.Errorf("starting monitoring: %w", err)
	}
	svc.monitor = m
	s.goRun("monitoring", func() error { return m.Run(ctx) })
	return nil
}

// serveAdmin serves the CLI's API (bundle import, images, GC) on a unix
// socket only root can open.
func (svc *services) serveAdmin(ctx context.Context, s *supervisor, cfg config.Config) error {
	mux := http.NewServeMux()
	if svc.importer != nil {
		h := bundle.AdminHandler(svc.importer, svc.registry)
		for _, p := range bundle.AdminPaths {
			mux.Handle(p, h)
		}
	}
	path := AdminSocket(cfg.DataDir)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("creating admin socket directory: %w", err)
	}
	os.Remove(path)
	l, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("listening on admin socket %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	s.goRun("admin socket", func() error {
		go func() { <-ctx.Done(); srv.Close() }()
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	return nil
}

func (svc *services) close() {
	if svc.registry != nil {
		svc.registry.Close()
	}
	svc.db.Close()
}
