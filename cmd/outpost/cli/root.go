package cli

import (
	"github.com/spf13/cobra"
)

// NewRoot builds the command tree. Each domain adds its commands in a file of
// its own (server.go, bundle.go, registry.go, ...).
func NewRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "outpost",
		Short:         "Outpost turns one offline Linux server into a private container platform",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newVersionCmd(),
		newServerCmd(),
		newContainerdCmd(),
		newKubectlCmd(),
		newCheckCmd(),
		newResetCmd(),
		newRegistryCmd(), newImagesCmd(), newBundleCmd(), newTrustCmd(),
		newConsoleCmd(),
		newAlertsCmd(),
	)
	return root
}
