package server

import (
	"context"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/outpost-platform/outpost/appliance/config"
	"github.com/outpost-platform/outpost/appliance/pki"
)

// startServices starts the appliance services that run beside Kubernetes:
// local storage, registry, monitoring, console — each unless disabled.
func startServices(ctx context.Context, s *supervisor, cfg config.Config, certs *pki.Files, restCfg *rest.Config, client kubernetes.Interface) error {
	return nil
}
