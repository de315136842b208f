package node

import (
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/outpost-platform/outpost/appliance/fsutil"
)

// CNIConfig renders the node's CNI network: a Linux bridge (cni0) with
// host-local addresses from the node's pod CIDR, masquerade for traffic
// leaving the pod network, hairpin so a pod reaches itself through its
// Service, and portmap for hostPort.
func CNIConfig(podCIDR, ipamDir string) ([]byte, error) {
	conf := map[string]any{
		"cniVersion": "1.0.0",
		"name":       "outpost",
		"plugins": []any{
			map[string]any{
				"type":        "bridge",
				"bridge":      "cni0",
				"isGateway":   true,
				"ipMasq":      true,
				"hairpinMode": true,
				"ipam": map[string]any{
					"type":    "host-local",
					"ranges":  [][]map[string]string{{{"subnet": podCIDR}}},
					"routes":  []map[string]string{{"dst": "0.0.0.0/0"}},
					"dataDir": ipamDir,
				},
			},
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}, "snat": true},
		},
	}
	return json.MarshalIndent(conf, "", "  ")
}

// WriteCNIConfig writes the network configuration containerd's CRI plugin
// loads from CNIConfDir.
func WriteCNIConfig(cfg ContainerdConfig, podCIDR string) error {
	data, err := CNIConfig(podCIDR, filepath.Join(cfg.DataDir, "agent", "cni-ipam"))
	if err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(filepath.Join(cfg.CNIConfDir(), "10-outpost.conflist"), data, 0o644); err != nil {
		return fmt.Errorf("writing CNI configuration: %w", err)
	}
	return nil
}
