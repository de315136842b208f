package main

import (
	"fmt"
	"os"
	"slices"

	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	// The plugins of a Kubernetes cluster DNS; each registers itself in
	// init. Keep this list and clusterDNSPlugins in step.
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/hosts"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/metrics"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
	_ "github.com/coredns/coredns/plugin/rewrite"
)

// clusterDNSPlugins returns the Corefile directive names of the imported
// plugins ("prometheus" is the directive of plugin/metrics).
func clusterDNSPlugins() []string {
	return []string{
		"cache", "errors", "forward", "health", "hosts", "kubernetes",
		"loadbalance", "log", "loop", "prometheus", "ready", "reload", "rewrite",
	}
}

func main() {
	directives, err := selectDirectives(dnsserver.Directives, clusterDNSPlugins())
	if err != nil {
		fmt.Fprintln(os.Stderr, "coredns:", err)
		os.Exit(1)
	}
	// Must happen before the server starts: CoreDNS chains plugins in the
	// order of this list, so it is upstream's canonical list filtered, never
	// a hand-ordered one.
	if err := dnsserver.SetDirectives(directives); err != nil {
		fmt.Fprintln(os.Stderr, "coredns: setting directives:", err)
		os.Exit(1)
	}
	coremain.Run()
}

// selectDirectives keeps the entries of canonical that are in wanted, in
// canonical order. A wanted name missing from canonical means the pinned
// CoreDNS renamed or dropped a plugin, which must fail the start rather than
// silently disable it.
func selectDirectives(canonical, wanted []string) ([]string, error) {
	selected := make([]string, 0, len(wanted))
	for _, name := range canonical {
		if slices.Contains(wanted, name) {
			selected = append(selected, name)
		}
	}
	for _, name := range wanted {
		if !slices.Contains(canonical, name) {
			return nil, fmt.Errorf("plugin %q is not a directive of this CoreDNS version", name)
		}
	}
	return selected, nil
}
