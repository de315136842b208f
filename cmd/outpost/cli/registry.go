package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/outpost-platform/outpost/appliance/bundle"
	"github.com/outpost-platform/outpost/appliance/config"
	"github.com/outpost-platform/outpost/appliance/registry"
	"github.com/outpost-platform/outpost/appliance/state"
)

// siteFlags locate the appliance a command acts on: the server's config
// file and a data-dir override. Group commands (registry, bundle, images,
// trust) register them for all their subcommands.
type siteFlags struct {
	configPath string
	dataDir    string
}

func (f *siteFlags) register(cmd *cobra.Command) {
	cmd.PersistentFlags().StringVar(&f.configPath, "config", config.DefaultFile, "YAML configuration file of the server")
	cmd.PersistentFlags().StringVar(&f.dataDir, "data-dir", config.Default().DataDir, "data directory of the server (overrides the config file)")
}

// dataDirectory returns the data directory from --data-dir or the config.
func (f *siteFlags) dataDirectory(cmd *cobra.Command) (string, error) {
	if cmd.Flags().Changed("data-dir") {
		return f.dataDir, nil
	}
	cfg, err := config.Load(f.configPath, cmd.Flags().Changed("config"))
	if err != nil {
		return "", err
	}
	return cfg.DataDir, nil
}

// openState opens the appliance's state database, which must exist.
func (f *siteFlags) openState(cmd *cobra.Command) (*state.DB, string, error) {
	dir, err := f.dataDirectory(cmd)
	if err != nil {
		return nil, "", err
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, "", fmt.Errorf("data directory %s does not exist; run this on the Outpost server or pass --data-dir", dir)
	}
	db, err := state.Open(filepath.Join(dir, "state", "outpost.db"))
	if err != nil {
		return nil, "", err
	}
	return db, dir, nil
}

// client returns an admin client for the server of the data directory.
func (f *siteFlags) client(cmd *cobra.Command) (*bundle.Client, string, error) {
	dir, err := f.dataDirectory(cmd)
	if err != nil {
		return nil, "", err
	}
	return bundle.NewClient(filepath.Join(dir, "run", "outpost.sock")), dir, nil
}

// serverError turns "no server" into the sentence the user needs.
func serverError(err error, dataDir string) error {
	if errors.Is(err, bundle.ErrNoServer) {
		return fmt.Errorf("no outpost server is running on data dir %s; start it with outpost server", dataDir)
	}
	if errors.Is(err, os.ErrPermission) {
		return fmt.Errorf("cannot reach the outpost server on data dir %s: permission denied (run as root)", dataDir)
	}
	return err
}

func newRegistryCmd() *cobra.Command {
	var site siteFlags
	cmd := &cobra.Command{
		Use:   "registry",
		Short: "Manage the local OCI registry: accounts and garbage collection",
		Long: `The local registry serves every image of the appliance over TLS. Cluster
nodes and anyone on the network pull anonymously; pushing, deleting and
listing the catalog need a registry account.`,
	}
	site.register(cmd)
	cmd.AddCommand(newRegistryUserCmd(&site), newRegistryGCCmd(&site))
	return cmd
}

func newRegistryUserCmd(site *siteFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage registry accounts (push and management)"}
	var passwordStdin bool
	add := &cobra.Command{
		Use:   "add NAME",
		Short: "Create an account or change its password",
		Long: `Create a registry account, or set a new password for an existing one.
The password is asked for on a terminal; with --password-stdin (or when
standard input is not a terminal) it is read as one line from standard input.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, _, err := site.openState(cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			password, err := readPassword(cmd, passwordStdin)
			if err != nil {
				return err
			}
			users, err := registry.NewUsers(cmd.Context(), db)
			if err != nil {
				return err
			}
			if err := users.Set(cmd.Context(), args[0], password); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "registry user %s saved\n", args[0])
			return nil
		},
	}
	add.Flags().BoolVar(&passwordStdin, "password-stdin", false, "read the password from standard input")
	rm := &cobra.Command{
		Use:   "rm NAME",
		Short: "Delete an account",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, _, err := site.openState(cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			users, err := registry.NewUsers(cmd.Context(), db)
			if err != nil {
				return err
			}
			if err := users.Remove(cmd.Context(), args[0]); err != nil {
				if errors.Is(err, registry.ErrNotFound) {
					return fmt.Errorf("there is no registry user %q (see outpost registry user ls)", args[0])
				}
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "registry user %s removed\n", args[0])
			return nil
		},
	}
	ls := &cobra.Command{
		Use:   "ls",
		Short: "List accounts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, _, err := site.openState(cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			users, err := registry.NewUsers(cmd.Context(), db)
			if err != nil {
				return err
			}
			list, err := users.List(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tCREATED\tPASSWORD CHANGED")
			for _, u := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", u.Name, u.CreatedAt.Local().Format("2006-01-02 15:04"), u.UpdatedAt.Local().Format("2006-01-02 15:04"))
			}
			return tw.Flush()
		},
	}
	cmd.AddCommand(add, rm, ls)
	return cmd
}

func readPassword(cmd *cobra.Command, fromStdin bool) (string, error) {
	in := cmd.InOrStdin()
	f, isFile := in.(*os.File)
	if !fromStdin && isFile && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(cmd.ErrOrStderr(), "Password: ")
		p1, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(cmd.ErrOrStderr())
		if err != nil {
			return "", fmt.Errorf("reading password: %w", err)
		}
		fmt.Fprint(cmd.ErrOrStderr(), "Repeat password: ")
		p2, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(cmd.ErrOrStderr())
		if err != nil {
			return "", fmt.Errorf("reading password: %w", err)
		}
		if string(p1) != string(p2) {
			return "", errors.New("the passwords do not match")
		}
		return string(p1), nil
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("reading password from standard input: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func newRegistryGCCmd(site *siteFlags) *cobra.Command {
	var opts registry.GCOptions
	cmd := &cobra.Command{
		Use:   "gc",
		Short: "Delete blobs no image uses",
		Long: `Delete registry blobs that no manifest references. It runs inside the
server, alongside pushes and imports: blobs being uploaded, blobs a running
import relies on and blobs younger than the grace period (one hour) are kept.
The server also collects on its own every registry-gc-interval.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			client, dir, err := site.client(cmd)
			if err != nil {
				return err
			}
			res, err := client.GC(cmd.Context(), opts)
			if err != nil {
				return serverError(err, dir)
			}
			verb := "deleted"
			if opts.DryRun {
				verb = "would delete"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %d blobs (%s), %d manifests unlinked; %d blobs in use, %d protected (young or in use by an upload or import)\n",
				verb, res.BlobsDeleted, humanSize(res.BytesFreed), res.ManifestsRemoved, res.BlobsInUse, res.BlobsProtected)
			return nil
		},
	}
	cmd.Flags().BoolVar(&opts.RemoveUntagged, "remove-untagged", false, "also remove manifests no tag points to")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "report what would be deleted, delete nothing")
	return cmd
}

// humanSize formats bytes with decimal units (1.5 GB).
func humanSize(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for x := n / unit; x >= unit; x /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}
