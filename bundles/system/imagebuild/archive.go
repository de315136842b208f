package imagebuild

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// Annotations on each manifest descriptor of index.json that name the image.
// containerd's importer (ctr images import and the Go client's Import) takes
// the name from AnnotationImageName; other tools read the OCI ref name. Both
// hold the full reference.
const (
	AnnotationImageName = "io.containerd.image.name"
	AnnotationRefName   = "org.opencontainers.image.ref.name"
)

// Index returns the image index listing images in order, each descriptor
// carrying its platform and name annotations.
func Index(images []Image, opts Options) (v1.ImageIndex, error) {
	opts = opts.withDefaults()
	adds := make([]mutate.IndexAddendum, 0, len(images))
	for _, image := range images {
		tag, err := image.Spec.Tag()
		if err != nil {
			return nil, err
		}
		platform := opts.Platform
		ref := tag.String()
		adds = append(adds, mutate.IndexAddendum{
			Add: image.Image,
			Descriptor: v1.Descriptor{
				Platform: &platform,
				Annotations: map[string]string{
					AnnotationImageName: ref,
					AnnotationRefName:   ref,
				},
			},
		})
	}
	return mutate.AppendManifests(empty.Index, adds...), nil
}

// WriteLayout writes images as an OCI image layout in dir, which must be
// empty or absent.
func WriteLayout(dir string, images []Image, opts Options) error {
	index, err := Index(images, opts)
	if err != nil {
		return fmt.Errorf("writing image layout %s: %w", dir, err)
	}
	if _, err := layout.Write(dir, index); err != nil {
		return fmt.Errorf("writing image layout %s: %w", dir, err)
	}
	return nil
}

// WriteArchive writes images to w as a tar of an OCI image layout
// (oci-layout, index.json, blobs/sha256/…). Entries are sorted and carry
// fixed owners, modes and times, so the archive is byte-for-byte
// reproducible.
func WriteArchive(w io.Writer, images []Image, opts Options) error {
	opts = opts.withDefaults()
	staging, err := os.MkdirTemp("", "imagebuild-layout-")
	if err != nil {
		return fmt.Errorf("writing image archive: %w", err)
	}
	defer os.RemoveAll(staging)
	dir := filepath.Join(staging, "layout")
	if err := WriteLayout(dir, images, opts); err != nil {
		return fmt.Errorf("writing image archive: %w", err)
	}
	if err := tarDirectory(w, dir, opts.Created); err != nil {
		return fmt.Errorf("writing image archive: %w", err)
	}
	return nil
}

// tarDirectory writes the tree under dir to w in lexical order, with paths
// relative to dir and no owner, time or permission information from the
// host.
func tarDirectory(w io.Writer, dir string, modTime time.Time) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(dir, func(file string, entry fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, file)
		if err != nil || rel == "." {
			return err
		}
		header := &tar.Header{Name: filepath.ToSlash(rel), ModTime: modTime, Format: tar.FormatPAX}
		switch {
		case entry.IsDir():
			header.Typeflag, header.Name, header.Mode = tar.TypeDir, header.Name+"/", 0o755
			return tw.WriteHeader(header)
		case entry.Type().IsRegular():
			info, err := entry.Info()
			if err != nil {
				return err
			}
			header.Typeflag, header.Mode, header.Size = tar.TypeReg, 0o644, info.Size()
			if err := tw.WriteHeader(header); err != nil {
				return err
			}
			return copyFile(tw, file)
		default:
			return fmt.Errorf("unexpected file type %s at %s", entry.Type(), file)
		}
	})
	if err != nil {
		return fmt.Errorf("archiving %s: %w", dir, err)
	}
	return tw.Close()
}

func copyFile(w io.Writer, file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}
