package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/outpost-platform/outpost/appliance/hostclean"
)

func newResetCmd() *cobra.Command {
	var flags hostCommandFlags
	var purge, force bool
	cmd := &cobra.Command{
		Use:   "reset",
		Short: "Stop everything an Outpost server started and remove what it left on the host",
		Long: `Stop Outpost's containerd, its shims and every container; unmount what is
mounted under the data directory and /run/outpost; delete the pod network
namespaces, the cni0 bridge and its veths; delete the KUBE-/CNI- iptables
chains and kube-proxy's nftables tables; remove the kubepods cgroups and
/run/outpost. With --purge it also deletes the data directory (the cluster,
registry, metrics and console data) and /var/log/pods.

It refuses while a server is running on the data directory, unless --force,
which stops that server too. Running it again finds nothing to do.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := flags.load(cmd)
			if err != nil {
				return err
			}
			opts := hostclean.DefaultOptions(cfg.DataDir)
			opts.Purge, opts.Force = purge, force
			rep, err := hostclean.Reset(cmd.Context(), opts)
			out := cmd.OutOrStdout()
			for _, a := range rep.Actions {
				fmt.Fprintln(out, a)
			}
			if err != nil && len(rep.Actions) > 0 {
				return fmt.Errorf("reset incomplete: %w", err)
			}
			if err != nil {
				return err
			}
			if len(rep.Actions) == 0 {
				fmt.Fprintln(out, "nothing to remove")
			}
			return nil
		},
	}
	flags.register(cmd)
	cmd.Flags().BoolVar(&purge, "purge", false, "also delete the data directory and /var/log/pods (all cluster data)")
	cmd.Flags().BoolVar(&force, "force", false, "run even while a server uses the data directory, stopping it")
	return cmd
}
