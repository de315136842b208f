package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/outpost-platform/outpost/appliance/registry"
)

func newImagesCmd() *cobra.Command {
	var site siteFlags
	cmd := &cobra.Command{
		Use:   "images",
		Short: "List and remove images of the local registry",
	}
	site.register(cmd)
	var asJSON bool
	ls := &cobra.Command{
		Use:   "ls",
		Short: "List images: repository, tag, digest, size and what brought them",
		Long: `List every tag of the local registry. Images of upstream registries are kept
under their host (docker.io/library/nginx), which is where containerd's
mirror requests for "nginx:1.27" look. SOURCE names the bundle that brought
the image, or the account that pushed it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			client, dir, err := site.client(cmd)
			if err != nil {
				return err
			}
			images, err := client.Images(cmd.Context())
			if err != nil {
				return serverError(err, dir)
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(images)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "REPOSITORY\tTAG\tDIGEST\tSIZE\tPLATFORMS\tSOURCE")
			for _, img := range images {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", img.Repository, img.Tag, shortDigest(img.Digest.String()),
					humanSize(img.Size), strings.Join(img.Platforms, ","), img.Source)
			}
			return tw.Flush()
		},
	}
	ls.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	rm := &cobra.Command{
		Use:   "rm REF...",
		Short: "Remove images by repo:tag or repo@digest",
		Long: `Remove tags ("nginx:1.27", "docker.io/library/nginx:1.27", "team/app:2") or
manifests with all their tags ("team/app@sha256:..."). Space is freed by the
next garbage collection (outpost registry gc).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, dir, err := site.client(cmd)
			if err != nil {
				return err
			}
			for _, ref := range args {
				removed, err := client.RemoveImage(cmd.Context(), ref)
				if errors.Is(err, registry.ErrNotFound) {
					return fmt.Errorf("image %s is not in the registry (see outpost images ls)", ref)
				}
				if err != nil {
					return serverError(err, dir)
				}
				for _, img := range removed {
					name := img.Repository + "@" + shortDigest(img.Digest.String())
					if img.Tag != "" {
						name = img.Repository + ":" + img.Tag
					}
					fmt.Fprintf(cmd.OutOrStdout(), "removed %s\n", name)
				}
			}
			return nil
		},
	}
	cmd.AddCommand(ls, rm)
	return cmd
}

func shortDigest(d string) string {
	if len(d) > len("sha256:")+12 {
		return d[:len("sha256:")+12]
	}
	return d
}
