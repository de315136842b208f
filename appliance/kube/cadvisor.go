package kube

import (
	"flag"
	"fmt"

	// The kubelet imports it too; imported here so the flag below exists
	// whichever package initializes first.
	_ "github.com/google/cadvisor/lib/container/containerd"
)

// SetCAdvisorContainerdSocket tells the kubelet's embedded cAdvisor where
// containerd listens. cAdvisor reads it from a process-wide flag (default
// /run/containerd/containerd.sock) that the kubelet's command line does not
// expose. Without it cAdvisor knows containers only as cgroups and cannot
// find their network namespaces, so the per-pod container_network_* series
// (the console's workload network charts) are missing. Call it before the
// kubelet starts.
func SetCAdvisorContainerdSocket(socket string) error {
	if err := flag.CommandLine.Set("containerd", socket); err != nil {
		return fmt.Errorf("pointing cAdvisor at containerd: %w", err)
	}
	return nil
}
