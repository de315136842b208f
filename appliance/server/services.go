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
	if err := svc.serveAdmin(ctx, s, cfg); err != nil {
		return err
	}
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
