package cli

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/outpost-platform/outpost/appliance/console"
	"github.com/outpost-platform/outpost/appliance/state"
)

func newConsoleCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "console",
		Short: "Administer the web console",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newConsoleAdminPasswordCmd())
	return cmd
}

func newConsoleAdminPasswordCmd() *cobra.Command {
	var flags hostCommandFlags
	var fromStdin bool
	cmd := &cobra.Command{
		Use:   "admin-password",
		Short: "Set a new one-time password for the console account \"admin\"",
		Long: `Set a new password for the console account "admin", creating the account
as platform administrator if it is missing and enabling it if it was
disabled. The password must be changed at the next login, and every session
of "admin" ends. It may be run before the first server start to choose the
first password. Without --password-stdin a random password is generated.
The password is printed and written (mode 0600) to
<data-dir>/console/admin-password. It works while the server runs.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := flags.load(cmd)
			if err != nil {
				return err
			}
			password := ""
			if fromStdin {
				line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				if err != nil && line == "" {
					return fmt.Errorf("reading the password from standard input: %w", err)
				}
				password = strings.TrimRight(line, "\r\n")
			}
			// Before the first server start the database may not exist yet;
			// the data directory must, so that a mistyped --data-dir is caught.
			if _, err := os.Stat(cfg.DataDir); err != nil {
				return fmt.Errorf("data directory %s: %w; is --data-dir right?", cfg.DataDir, err)
			}
			dbPath := filepath.Join(cfg.DataDir, "state", "outpost.db")
			db, err := state.Open(dbPath)
			if err != nil {
				return err
			}
			defer db.Close()
			password, err = console.ResetAdminPassword(cmd.Context(), db, cfg.DataDir, password)
			if err != nil {
				return fmt.Errorf("setting the admin password: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "console user: admin\none-time password: %s\n(also in %s; it must be changed at the next login)\n",
				password, filepath.Join(cfg.DataDir, console.AdminPasswordFile))
			return nil
		},
	}
	flags.register(cmd)
	cmd.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of standard input instead of generating one")
	return cmd
}
