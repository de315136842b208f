package kube

import (
	"fmt"
	"net/netip"
	"path/filepath"

	"github.com/outpost-platform/outpost/appliance/pki"
)

// Config is the runtime configuration of the Kubernetes components: derived
// from the user's config.Config plus paths produced at start-up.
type Config struct {
	DataDir       string
	NodeName      string
	NodeIP        string
	ClusterCIDR   string
	ServiceCIDR   string
	ClusterDNS    string
	ClusterDomain string
	APIServerPort int
	PKI           *pki.Files
	// DatastoreEndpoint is the etcd-protocol endpoint (kine's unix socket).
	DatastoreEndpoint string
	// ContainerdSocket is containerd's gRPC socket path.
	ContainerdSocket string
	// LogLevel maps to klog verbosity (debug → 2, else 0).
	LogLevel string
	// Extra arguments from the user, applied last.
	APIServerArgs, ControllerManagerArgs, SchedulerArgs, KubeletArgs, KubeProxyArgs []string
}

func (c *Config) dir(parts ...string) string {
	return filepath.Join(append([]string{c.DataDir}, parts...)...)
}

func (c *Config) verbosity() string {
	if c.LogLevel == "debug" {
		return "2"
	}
	return "0"
}

// KubeletRootDir is where the kubelet keeps pods' volumes and state.
func (c *Config) KubeletRootDir() string { return c.dir("kubelet") }

// PodLogsDir is where container logs are written.
func (c *Config) PodLogsDir() string { return c.dir("pod-logs") }

// AuditLogPath is the apiserver's audit log.
func (c *Config) AuditLogPath() string { return c.dir("logs", "audit.log") }

// APIServiceIP is the first address of the service range (kubernetes.default).
func APIServiceIP(serviceCIDR string) (netip.Addr, error) {
	p, err := netip.ParsePrefix(serviceCIDR)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("parsing service CIDR %q: %w", serviceCIDR, err)
	}
	return p.Masked().Addr().Next(), nil
}
