package cli

import (
	"errors"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/outpost-platform/outpost/appliance/trust"
)

func newTrustCmd() *cobra.Command {
	var site siteFlags
	cmd := &cobra.Command{
		Use:   "trust",
		Short: "Manage the keys bundles must be signed with",
		Long: `Bundles are imported only when signed by a trusted key (or with
--allow-unsigned). Vendors create keys with outpost bundle keygen and give
sites the public half (NAME.pub).`,
	}
	site.register(cmd)
	add := &cobra.Command{
		Use:   "add NAME FILE.pub",
		Short: "Trust a public key under a name",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			pem, err := os.ReadFile(args[1])
			if err != nil {
				return fmt.Errorf("reading public key: %w", err)
			}
			db, _, err := site.openState(cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			store, err := trust.Open(cmd.Context(), db)
			if err != nil {
				return err
			}
			k, err := store.Add(cmd.Context(), args[0], pem)
			if err != nil {
				return fmt.Errorf("trusting %s: %w", args[1], err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "trusted key %s as %s\n", k.ID, k.Name)
			return nil
		},
	}
	rm := &cobra.Command{
		Use:   "rm NAME|ID",
		Short: "Stop trusting a key",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, _, err := site.openState(cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			store, err := trust.Open(cmd.Context(), db)
			if err != nil {
				return err
			}
			if err := store.Remove(cmd.Context(), args[0]); err != nil {
				if errors.Is(err, trust.ErrNotFound) {
					return fmt.Errorf("no trusted key is named or has the ID %q (see outpost trust ls)", args[0])
				}
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "key %s is no longer trusted\n", args[0])
			return nil
		},
	}
	ls := &cobra.Command{
		Use:   "ls",
		Short: "List trusted keys",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, _, err := site.openState(cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			store, err := trust.Open(cmd.Context(), db)
			if err != nil {
				return err
			}
			keys, err := store.List(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tKEY ID\tADDED")
			for _, k := range keys {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", k.Name, k.ID, k.AddedAt.Local().Format("2006-01-02 15:04"))
			}
			return tw.Flush()
		},
	}
	cmd.AddCommand(add, rm, ls)
	return cmd
}
