package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/outpost-platform/outpost/appliance/config"
	"github.com/outpost-platform/outpost/appliance/preflight"
)

// Ports of the embedded components that Outpost does not make configurable;
// they are the upstream defaults, which tools and dashboards expect.
const (
	kubeletPort               = 10250
	kubeProxyHealthPort       = 10256
	kubeProxyMetricsPort      = 10249
	kubeSchedulerPort         = 10259
	kubeControllerManagerPort = 10257
)

// preflightPorts lists the TCP ports a server with cfg will listen on, for
// preflight to find free; disabled components' ports are left out.
func preflightPorts(cfg config.Config) []preflight.Port {
	ports := []preflight.Port{
		{Number: cfg.APIServerPort, Component: "kube-apiserver", Setting: "https-listen-port"},
		{Number: kubeletPort, Component: "kubelet"},
		{Number: kubeProxyHealthPort, Component: "kube-proxy health"},
		{Number: kubeProxyMetricsPort, Component: "kube-proxy metrics"},
		{Number: kubeSchedulerPort, Component: "kube-scheduler"},
		{Number: kubeControllerManagerPort, Component: "kube-controller-manager"},
	}
	optional := []struct {
		component string
		port      preflight.Port
	}{
		{config.ComponentRegistry, preflight.Port{Number: cfg.RegistryPort, Component: "registry", Setting: "registry-port"}},
		{config.ComponentConsole, preflight.Port{Number: cfg.ConsolePort, Component: "console", Setting: "console-port"}},
		{config.ComponentMonitoring, preflight.Port{Number: cfg.MonitoringPort, Component: "monitoring", Setting: "monitoring-port"}},
	}
	for _, o := range optional {
		if !cfg.Disabled(o.component) {
			ports = append(ports, o.port)
		}
	}
	return ports
}

// hostCommandFlags are the flags shared by the commands that look at the
// host rather than at a running server (check, reset): the config file and
// a data-dir override.
type hostCommandFlags struct {
	configPath string
	dataDir    string
}

func (f *hostCommandFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.configPath, "config", config.DefaultFile, "YAML configuration file of the server")
	cmd.Flags().StringVar(&f.dataDir, "data-dir", config.Default().DataDir, "data directory of the server (overrides the config file)")
}

// load reads the config file (which must exist only when --config was
// given) and applies --data-dir when it was set.
func (f *hostCommandFlags) load(cmd *cobra.Command) (config.Config, error) {
	cfg, err := config.Load(f.configPath, cmd.Flags().Changed("config"))
	if err != nil {
		return cfg, err
	}
	if cmd.Flags().Changed("data-dir") {
		cfg.DataDir = f.dataDir
	}
	return cfg, nil
}

func newCheckCmd() *cobra.Command {
	var flags hostCommandFlags
	var fix bool
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Check whether this host can run an Outpost server",
		Long: `Check the kernel, cgroups, overlayfs, bridge netfilter, IP forwarding,
iptables/nftables, swap, the data directory and the ports a server needs,
printing one PASS/WARN/FAIL line each. It exits with status 1 when a check
fails; a server refuses to start on such a host.

With --fix (the default) it also turns on net.ipv4.ip_forward and
bridge-nf-call-iptables and loads overlay and br_netfilter when it can; these
changes last until reboot. It never creates the data directory.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := flags.load(cmd)
			if err != nil {
				return err
			}
			var configResult []preflight.Result
			if err := cfg.Validate(); err != nil {
				configResult = []preflight.Result{{Name: "config", Status: preflight.Fail, Detail: err.Error(),
					Fix: "correct " + flags.configPath}}
			}
			rep := preflight.Run(cmd.Context(), preflight.Options{
				DataDir:    cfg.DataDir,
				Ports:      preflightPorts(cfg),
				ApplyFixes: fix,
			})
			rep.Results = append(configResult, rep.Results...)
			if err := rep.WriteText(cmd.OutOrStdout()); err != nil {
				return err
			}
			if rep.Failed() {
				failed := 0
				for _, r := range rep.Results {
					if r.Status == preflight.Fail {
						failed++
					}
				}
				return fmt.Errorf("%d of %d checks failed", failed, len(rep.Results))
			}
			return nil
		},
	}
	flags.register(cmd)
	cmd.Flags().BoolVar(&fix, "fix", true, "turn on ip_forward/bridge-nf-call-iptables and load modules when possible (--fix=false only reports)")
	return cmd
}
