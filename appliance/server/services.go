package server

import (
	"context"
	"path/filepath"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/outpost-platform/outpost/appliance/config"
	"github.com/outpost-platform/outpost/appliance/pki"
	"github.com/outpost-platform/outpost/appliance/storage"
)

// startServices starts the appliance services that run beside Kubernetes:
// local storage, registry, monitoring, console — each unless disabled.
func startServices(ctx context.Context, s *supervisor, cfg config.Config, certs *pki.Files, restCfg *rest.Config, client kubernetes.Interface) error {
	if !cfg.Disabled(config.ComponentLocalStorage) {
		s.goRun("local storage", func() error {
			return storage.Run(ctx, client, storage.Config{Dir: filepath.Join(cfg.DataDir, "storage"), NodeName: cfg.NodeName}, s.log)
		})
	}
	return nil
}
