package cli

import (
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	kubectlcmd "k8s.io/kubectl/pkg/cmd"

	"github.com/outpost-platform/outpost/appliance/config"
)

// newKubectlCmd embeds the upstream kubectl. Unless KUBECONFIG or
// --kubeconfig says otherwise it uses the server's admin kubeconfig from the
// data dir in /etc/outpost/config.yaml (or the default data dir).
func newKubectlCmd() *cobra.Command {
	return &cobra.Command{
		Use:                "kubectl",
		Short:              "Run kubectl against this Outpost server",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if os.Getenv("KUBECONFIG") == "" {
				dataDir := config.Default().DataDir
				if cfg, err := config.Load(config.DefaultFile, false); err == nil {
					dataDir = cfg.DataDir
				}
				if d := os.Getenv("OUTPOST_DATA_DIR"); d != "" {
					dataDir = d
				}
				os.Setenv("KUBECONFIG", filepath.Join(dataDir, "kubeconfig"))
			}
			kubectl := kubectlcmd.NewDefaultKubectlCommandWithArgs(kubectlcmd.KubectlOptions{
				PluginHandler: kubectlcmd.NewDefaultPluginHandler([]string{"kubectl"}),
				Arguments:     append([]string{"kubectl"}, args...),
				ConfigFlags:   genericclioptions.NewConfigFlags(true).WithDeprecatedPasswordFlag().WithDiscoveryBurst(300).WithDiscoveryQPS(50.0),
				IOStreams:     genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr},
			})
			kubectl.SetArgs(args)
			return kubectl.ExecuteContext(cmd.Context())
		},
	}
}
