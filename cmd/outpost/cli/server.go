package cli

import (
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/outpost-platform/outpost/appliance/server"
)

func newServerCmd() *cobra.Command {
	var cf *configFlags
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the Outpost server: Kubernetes, registry, monitoring and console on this machine",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := cf.load(cmd.Flags())
			if err != nil {
				return err
			}
			log := newLogger(cfg.LogLevel)
			// The whole control plane shares this heap; collecting at 50 %
			// growth instead of Go's 100 % keeps ≈ 80 MB less resident on
			// an idle node for little CPU (BENCHMARKS.md). GOGC overrides.
			if os.Getenv("GOGC") == "" {
				debug.SetGCPercent(50)
			}
			if fi, err := os.Stat(cf.path); err == nil && fi.Mode().Perm()&0o077 != 0 && cfg.HoldsSecrets() {
				log.Warn("the config file holds notification or remote-write credentials and other users can read it; run chmod 600 on it",
					"file", cf.path, "mode", fi.Mode().Perm().String())
			}
			return server.Run(cmd.Context(), server.Options{Config: cfg, Ports: preflightPorts(cfg), Log: log})
		},
	}
	cf = addConfigFlags(cmd)
	return cmd
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}
