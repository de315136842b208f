package node

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/errdefs"
	"github.com/containerd/platforms"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// SystemImagesPath is the embedded OCI layout archive of the system images.
const SystemImagesPath = "images/system-images.tar"

// criNamespace is the containerd namespace the kubelet's CRI uses.
const criNamespace = "k8s.io"

// criManagedLabel marks an image as one the CRI plugin manages. Without it
// the CRI plugin adopts the image itself, and a later pull of the same image
// under another name (a mirror pull of an upstream reference) drops the
// system image's name from the kubelet's view.
const criManagedLabel = "io.cri-containerd.image"

// criLabels are set on system images: managed, and pinned so the kubelet's
// image garbage collection never removes them.
var criLabels = map[string]string{criManagedLabel: "managed", "io.cri-containerd.pinned": "pinned"}

// SystemImage is one image of the embedded system archive.
type SystemImage struct {
	Ref    string
	Digest string
}

// ListSystemImages reads the names and digests in the embedded archive's
// index.json without reading the blobs.
func ListSystemImages(assets fs.FS) ([]SystemImage, error) {
	f, err := assets.Open(SystemImagesPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoAssets
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("reading system images: archive has no index.json")
		}
		if err != nil {
			return nil, fmt.Errorf("reading system images: %w", err)
		}
		if h.Name != "index.json" && h.Name != "./index.json" {
			continue
		}
		var idx ocispec.Index
		if err := json.NewDecoder(tr).Decode(&idx); err != nil {
			return nil, fmt.Errorf("reading system images index: %w", err)
		}
		var out []SystemImage
		for _, m := range idx.Manifests {
			ref := m.Annotations[images.AnnotationImageName]
			if ref == "" {
				ref = m.Annotations[ocispec.AnnotationRefName]
			}
			if ref != "" {
				out = append(out, SystemImage{Ref: ref, Digest: m.Digest.String()})
			}
		}
		return out, nil
	}
}

// ImportSystemImages makes the embedded system images available to the
// kubelet. Images already present with the same digest are skipped, so a
// restart costs one index read; otherwise the archive is imported in one
// pass and each image unpacked into the overlayfs snapshotter so the first
// pod start does not pay for it.
func ImportSystemImages(ctx context.Context, log *slog.Logger, socket string, assets fs.FS) error {
	want, err := ListSystemImages(assets)
	if err != nil {
		return err
	}
	c, err := containerd.New(socket, containerd.WithDefaultNamespace(criNamespace))
	if err != nil {
		return fmt.Errorf("connecting to containerd: %w", err)
	}
	defer c.Close()
	ctx = namespaces.WithNamespace(ctx, criNamespace)

	missing := false
	for _, img := range want {
		got, err := c.ImageService().Get(ctx, img.Ref)
		if err != nil || got.Target.Digest.String() != img.Digest || got.Labels[criManagedLabel] != "managed" {
			missing = true
			break
		}
		if ok, _ := containerd.NewImage(c, got).IsUnpacked(ctx, "overlayfs"); !ok {
			missing = true
			break
		}
	}
	if !missing {
		log.Info("system images present", "count", len(want))
		return nil
	}
	start := time.Now()
	f, err := assets.Open(SystemImagesPath)
	if err != nil {
		return err
	}
	defer f.Close()
	imported, err := c.Import(ctx, f, containerd.WithImportPlatform(platforms.Default()),
		containerd.WithImageLabels(criLabels))
	if err != nil {
		return fmt.Errorf("importing system images: %w", err)
	}
	for _, img := range imported {
		if err := containerd.NewImage(c, img).Unpack(ctx, "overlayfs"); err != nil && !errdefs.IsAlreadyExists(err) {
			return fmt.Errorf("unpacking system image %s: %w", img.Name, err)
		}
	}
	log.Info("imported system images", "count", len(imported), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// SystemImageRef returns the reference of the system image whose repository
// ends with name (e.g. "coredns").
func SystemImageRef(imgs []SystemImage, name string) (string, error) {
	for _, i := range imgs {
		repo := i.Ref
		if at := lastIndexByte(repo, ':'); at > lastIndexByte(repo, '/') {
			repo = repo[:at]
		}
		if repo == name || len(repo) > len(name) && repo[len(repo)-len(name)-1:] == "/"+name {
			return i.Ref, nil
		}
	}
	return "", fmt.Errorf("system image %q is not in this build", name)
}

func lastIndexByte(s string, b byte) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == b {
			return i
		}
	}
	return -1
}
