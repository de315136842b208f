package cli

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/outpost-platform/outpost/appliance/bundle"
	"github.com/outpost-platform/outpost/appliance/trust"
)

func newBundleCmd() *cobra.Command {
	var site siteFlags
	cmd := &cobra.Command{
		Use:   "bundle",
		Short: "Create, sign, verify, inspect and import offline bundles",
		Long: `A bundle is one file carrying images, Helm charts, Kubernetes manifests and
plain files into an offline site, signed by its vendor (docs/bundle-format.md).
On a connected machine: outpost bundle create. At the site: outpost bundle
import, into the running server.`,
	}
	site.register(cmd)
	cmd.AddCommand(newBundleCreateCmd(), newBundleKeygenCmd(), newBundleSignCmd(), newBundleVerifyCmd(&site),
		newBundleInspectCmd(), newBundleImportCmd(&site), newBundleLsCmd(&site))
	return cmd
}

func newBundleCreateCmd() *cobra.Command {
	var specFile, out, base, keyFile string
	cmd := &cobra.Command{
		Use:   "create -f bundle.yaml -o app.bundle",
		Short: "Build a bundle from a bundle.yaml",
		Long: `Build a bundle from bundle.yaml: images from their registries (credentials
from the Docker config), from OCI layouts (from: oci:DIR) or docker save
tarballs (from: docker-archive:FILE), for linux/amd64 unless platforms says
otherwise; charts (.tgz), manifests and files. With --base, write a delta
bundle that leaves out every image blob the base bundle carries: a site that
imported the base gets the full result from the delta.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			spec, err := bundle.LoadSpec(specFile)
			if err != nil {
				return err
			}
			opts := bundle.CreateOptions{Base: base}
			if keyFile != "" {
				priv, err := readPrivateKey(keyFile)
				if err != nil {
					return err
				}
				opts.SigningKey = priv
			}
			errw := cmd.ErrOrStderr()
			opts.Log = func(format string, args ...any) { fmt.Fprintf(errw, format+"\n", args...) }
			bar := newProgressBar(errw, "writing "+filepath.Base(out))
			opts.Progress = func(done, total int64) { bar.update("writing", done, total) }
			m, err := bundle.Create(cmd.Context(), spec, out, opts)
			bar.finish()
			if err != nil {
				return err
			}
			fi, _ := os.Stat(out)
			kind := "bundle"
			if m.Base != nil {
				kind = fmt.Sprintf("delta bundle (base %s %s, %d blobs left out)", m.Base.Name, m.Base.Version, len(m.Requires))
			}
			signed := "unsigned"
			if keyFile != "" {
				signed = "signed"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %s %s, %s, %d images, %s, %s\n", out, m.Name, m.Version, kind, len(m.Images), humanSize(fi.Size()), signed)
			return nil
		},
	}
	cmd.Flags().StringVarP(&specFile, "file", "f", "bundle.yaml", "bundle description")
	cmd.Flags().StringVarP(&out, "output", "o", "", "bundle file to write")
	cmd.Flags().StringVar(&base, "base", "", "previous bundle: write a delta against it")
	cmd.Flags().StringVar(&keyFile, "key", "", "sign with this private key (from outpost bundle keygen)")
	cmd.MarkFlagRequired("output")
	return cmd
}

func readPrivateKey(path string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading signing key: %w", err)
	}
	priv, err := trust.ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	return priv, nil
}

func newBundleKeygenCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "keygen NAME",
		Short: "Create a signing key pair: NAME.key (keep secret) and NAME.pub (give to sites)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			privPEM, pubPEM, err := trust.GenerateKey()
			if err != nil {
				return err
			}
			keyPath := filepath.Join(dir, args[0]+".key")
			pubPath := filepath.Join(dir, args[0]+".pub")
			// O_EXCL: never overwrite a key that may already sign releases.
			f, err := os.OpenFile(keyPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return fmt.Errorf("writing private key: %w", err)
			}
			if _, err := f.Write(privPEM); err != nil {
				f.Close()
				return fmt.Errorf("writing private key: %w", err)
			}
			if err := f.Close(); err != nil {
				return fmt.Errorf("writing private key: %w", err)
			}
			if err := os.WriteFile(pubPath, pubPEM, 0o644); err != nil {
				return fmt.Errorf("writing public key: %w", err)
			}
			k, _ := trust.NewStaticKey(args[0], pubPEM)
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (private, keep it secret) and %s (public); key ID %s\nat each site: outpost trust add %s %s\n",
				keyPath, pubPath, k.ID, args[0], filepath.Base(pubPath))
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", ".", "directory to write the key files in")
	return cmd
}

func newBundleSignCmd() *cobra.Command {
	var keyFile string
	cmd := &cobra.Command{
		Use:   "sign --key NAME.key FILE",
		Short: "Sign a bundle in place (adds or replaces this key's signature)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			priv, err := readPrivateKey(keyFile)
			if err != nil {
				return err
			}
			sig, err := bundle.SignFile(args[0], priv)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "signed %s with key %s\n", args[0], sig.KeyID)
			return nil
		},
	}
	cmd.Flags().StringVar(&keyFile, "key", "", "private key (from outpost bundle keygen)")
	cmd.MarkFlagRequired("key")
	return cmd
}

func newBundleVerifyCmd(site *siteFlags) *cobra.Command {
	var keyFiles []string
	cmd := &cobra.Command{
		Use:   "verify [--key NAME.pub]... FILE",
		Short: "Check a bundle's signature and every byte of its content",
		Long: `Read the whole bundle and check every blob against its digest, and that it is
signed by one of the --key public keys, or, without --key, by a key this
appliance trusts (outpost trust ls). Nothing is written.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var keys trust.KeyRing
			if len(keyFiles) > 0 {
				var static trust.StaticKeys
				for _, f := range keyFiles {
					pem, err := os.ReadFile(f)
					if err != nil {
						return fmt.Errorf("reading public key: %w", err)
					}
					k, err := trust.NewStaticKey(strings.TrimSuffix(filepath.Base(f), ".pub"), pem)
					if err != nil {
						return fmt.Errorf("public key %s: %w", f, err)
					}
					static = append(static, k)
				}
				keys = static
			} else {
				db, _, err := site.openState(cmd)
				if err != nil {
					return fmt.Errorf("%w (or name the vendor's public key with --key)", err)
				}
				defer db.Close()
				store, err := trust.Open(cmd.Context(), db)
				if err != nil {
					return err
				}
				keys = store
			}
			bar := newProgressBar(cmd.ErrOrStderr(), "verifying "+filepath.Base(args[0]))
			rep, err := bundle.VerifyFile(cmd.Context(), args[0], keys, func(done, total int64) { bar.update("verifying", done, total) })
			bar.finish()
			if err != nil {
				return err
			}
			m := rep.Manifest
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s is intact (%d blobs, %s checked) and signed by %s (%s)\n",
				m.Name, m.Version, rep.Blobs, humanSize(rep.Bytes), rep.Signer.Name, rep.Signer.ID)
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&keyFiles, "key", nil, "trusted public key file (repeatable)")
	return cmd
}

func newBundleInspectCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "inspect FILE",
		Short: "Show what a bundle contains, its sizes, signers and base",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := bundle.InspectFile(args[0])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			m := rep.Manifest
			fmt.Fprintf(out, "Name:         %s\nVersion:      %s\nKind:         %s\nCreated:      %s\n", m.Name, m.Version, m.Kind, m.Created.Format(time.RFC3339))
			if m.Description != "" {
				fmt.Fprintf(out, "Description:  %s\n", m.Description)
			}
			if m.MinOutpostVersion != "" {
				fmt.Fprintf(out, "Needs:        Outpost %s or newer\n", m.MinOutpostVersion)
			}
			fmt.Fprintf(out, "Digest:       %s\n", rep.Digest)
			if len(rep.SignedBy) == 0 {
				fmt.Fprintf(out, "Signed by:    nobody (unsigned)\n")
			} else {
				fmt.Fprintf(out, "Signed by:    key %s\n", strings.Join(rep.SignedBy, ", key "))
			}
			if m.Base != nil {
				var req int64
				for _, b := range m.Requires {
					req += b.Size
				}
				fmt.Fprintf(out, "Base:         %s %s (%s); %d blobs (%s) must already be at the site\n", m.Base.Name, m.Base.Version, m.Base.Digest, len(m.Requires), humanSize(req))
			}
			fmt.Fprintf(out, "Content:      %d blobs, %s\n\n", len(m.Blobs), humanSize(m.ContainedSize()))
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "IMAGE\tDIGEST\tPLATFORMS\tSIZE")
			for _, img := range m.Images {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", img.Ref, shortDigest(img.Digest.String()), strings.Join(img.Platforms, ","), humanSize(img.Size))
			}
			tw.Flush()
			if len(m.Charts)+len(m.Manifests)+len(m.Files) > 0 {
				fmt.Fprintln(out)
				tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "FILE\tSIZE\tNOTE")
				for _, c := range m.Charts {
					fmt.Fprintf(tw, "%s\t%s\tchart %s %s\n", c.Path, humanSize(c.Size), c.Name, c.Version)
				}
				for _, f := range m.Manifests {
					fmt.Fprintf(tw, "%s\t%s\tmanifest\n", f.Path, humanSize(f.Size))
				}
				for _, f := range m.Files {
					fmt.Fprintf(tw, "%s\t%s\tfile\n", f.Path, humanSize(f.Size))
				}
				tw.Flush()
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newBundleImportCmd(site *siteFlags) *cobra.Command {
	var opts bundle.ImportOptions
	cmd := &cobra.Command{
		Use:   "import FILE|-",
		Short: "Import a bundle into the running server",
		Long: `Import a bundle into the running Outpost server's registry. Every blob is
verified against its digest while it streams; blobs already present are
skipped; images appear only when complete. If the import is interrupted,
run it again: it resumes. "-" reads the bundle from standard input.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, dir, err := site.client(cmd)
			if err != nil {
				return err
			}
			var body io.Reader
			if args[0] == "-" {
				body = cmd.InOrStdin()
			} else if _, err := os.Stat(args[0]); err != nil {
				return fmt.Errorf("importing bundle: %w", err)
			}
			bar := newProgressBar(cmd.ErrOrStderr(), "importing "+filepath.Base(args[0]))
			res, err := client.Import(cmd.Context(), args[0], body, opts, func(p bundle.Progress) {
				bar.update(p.Phase, p.Done, p.Total)
			})
			bar.finish()
			if err != nil {
				return serverError(err, dir)
			}
			out := cmd.OutOrStdout()
			signer := "unsigned"
			if res.Signer != "" {
				signer = "signed by " + res.Signer
			}
			rate := ""
			if s := res.Duration.Seconds(); s > 0 && res.BytesWritten > 0 {
				rate = fmt.Sprintf(", %s/s", humanSize(int64(float64(res.BytesWritten)/s)))
			}
			fmt.Fprintf(out, "imported %s %s (%s) in %s: %s written%s, %s already present\n", res.Name, res.Version, signer,
				res.Duration.Round(10*time.Millisecond), humanSize(res.BytesWritten), rate, humanSize(res.BytesSkipped))
			for _, img := range res.Images {
				fmt.Fprintf(out, "  %s\n", img.Ref)
			}
			if res.ContentDir != "" {
				fmt.Fprintf(out, "charts, manifests and files: %s\n", res.ContentDir)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&opts.AllowUnsigned, "allow-unsigned", false, "accept a bundle not signed by a trusted key")
	cmd.Flags().BoolVar(&opts.AllowDowngrade, "allow-downgrade", false, "accept a version older than the one installed")
	return cmd
}

func newBundleLsCmd(site *siteFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "ls",
		Short: "List imported bundles",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			client, dir, err := site.client(cmd)
			if err != nil {
				return err
			}
			hist, err := client.History(cmd.Context())
			if err != nil {
				return serverError(err, dir)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tVERSION\tKIND\tIMPORTED\tSIGNER\tIMAGES\tWRITTEN")
			for _, h := range hist {
				signer := h.Signer
				if signer == "" {
					signer = "(unsigned)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", h.Name, h.Version, h.Kind, h.ImportedAt.Local().Format("2006-01-02 15:04"),
					signer, len(h.Images), humanSize(h.BytesWritten))
			}
			return tw.Flush()
		},
	}
}

// progressBar draws a bar with bytes, rate and ETA on a terminal, and
// plain lines every 10% (and at phase changes) otherwise.
type progressBar struct {
	w        io.Writer
	tty      bool
	label    string
	start    time.Time
	lastDraw time.Time
	lastPct  int
	phase    string
	drawn    bool
}

func newProgressBar(w io.Writer, label string) *progressBar {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &progressBar{w: w, tty: tty, label: label, start: time.Now(), lastPct: -1}
}

func (b *progressBar) update(phase string, done, total int64) {
	now := time.Now()
	pct := 100
	if total > 0 {
		pct = int(done * 100 / total)
	}
	elapsed := now.Sub(b.start).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(done) / elapsed
	}
	eta := ""
	if rate > 0 && done < total {
		eta = " ETA " + time.Duration(float64(total-done)/rate*float64(time.Second)).Round(time.Second).String()
	}
	if b.tty {
		if now.Sub(b.lastDraw) < 100*time.Millisecond && phase == b.phase {
			return
		}
		b.lastDraw, b.phase, b.drawn = now, phase, true
		const width = 30
		filled := width * pct / 100
		bar := strings.Repeat("=", filled) + strings.Repeat(" ", width-filled)
		if filled > 0 && filled < width {
			bar = strings.Repeat("=", filled-1) + ">" + strings.Repeat(" ", width-filled)
		}
		fmt.Fprintf(b.w, "\r[%s] %3d%% %s / %s  %s/s%s  %s\x1b[K", bar, pct, humanSize(done), humanSize(total), humanSize(int64(rate)), eta, phase)
		return
	}
	if phase == b.phase && pct/10 == b.lastPct/10 {
		return
	}
	b.phase, b.lastPct = phase, pct
	fmt.Fprintf(b.w, "%s: %s %d%% (%s of %s, %s/s%s)\n", b.label, phase, pct, humanSize(done), humanSize(total), humanSize(int64(rate)), eta)
}

func (b *progressBar) finish() {
	if b.tty && b.drawn {
		fmt.Fprintln(b.w)
	}
}
