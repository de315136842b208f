package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/outpost-platform/outpost/appliance/version"
)

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the versions of Outpost and what it embeds",
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "outpost %s\nkubernetes %s\n", version.Outpost, version.Kubernetes)
			return nil
		},
	}
}
