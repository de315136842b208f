package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/outpost-platform/outpost/bundles/system/imagebuild"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mkimages:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	flags := flag.NewFlagSet("mkimages", flag.ContinueOnError)
	specFile := flags.String("spec", "images.yaml", "image spec file")
	binDir := flags.String("bin-dir", "", "directory holding the binaries named in the spec")
	out := flags.String("out", "", "path of the OCI image-layout tar archive to write")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *binDir == "" || *out == "" || flags.NArg() > 0 {
		flags.Usage()
		return fmt.Errorf("-bin-dir and -out are required, and nothing else")
	}
	opts, err := optionsFromEnvironment()
	if err != nil {
		return err
	}

	spec, err := imagebuild.LoadSpec(*specFile)
	if err != nil {
		return err
	}
	images := make([]imagebuild.Image, 0, len(spec.Images))
	for _, imageSpec := range spec.Images {
		image, err := imagebuild.Build(imageSpec, filepath.Join(*binDir, imageSpec.Binary), opts)
		if err != nil {
			return err
		}
		images = append(images, image)
	}
	if err := writeArchive(*out, images, opts); err != nil {
		return err
	}
	for _, image := range images {
		digest, err := image.Image.Digest()
		if err != nil {
			return fmt.Errorf("reading digest of %s: %w", image.Spec.Ref, err)
		}
		fmt.Printf("%s@%s\n", image.Spec.Ref, digest)
	}
	return nil
}

// optionsFromEnvironment honours SOURCE_DATE_EPOCH, the reproducible-builds
// convention, for the image creation time; unset, the Unix epoch is used.
func optionsFromEnvironment() (imagebuild.Options, error) {
	var opts imagebuild.Options
	if epoch := os.Getenv("SOURCE_DATE_EPOCH"); epoch != "" {
		seconds, err := strconv.ParseInt(epoch, 10, 64)
		if err != nil {
			return opts, fmt.Errorf("parsing SOURCE_DATE_EPOCH %q: %w", epoch, err)
		}
		opts.Created = time.Unix(seconds, 0)
	}
	return opts, nil
}

func writeArchive(out string, images []imagebuild.Image, opts imagebuild.Options) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return fmt.Errorf("creating directory for %s: %w", out, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*")
	if err != nil {
		return fmt.Errorf("creating %s: %w", out, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := imagebuild.WriteArchive(tmp, images, opts); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", out, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", out, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", out, err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fmt.Errorf("writing %s: %w", out, err)
	}
	return nil
}
