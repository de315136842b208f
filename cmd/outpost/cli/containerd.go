package cli

import (
	"github.com/spf13/cobra"

	"github.com/outpost-platform/outpost/appliance/node"
)

// newContainerdCmd is the entry point of the containerd child process that
// `outpost server` supervises; users do not run it directly.
func newContainerdCmd() *cobra.Command {
	return &cobra.Command{
		Use:                "containerd",
		Short:              "Run the embedded containerd (started by outpost server)",
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return node.ContainerdMain(cmd.Context(), args)
		},
	}
}
