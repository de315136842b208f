package adapt

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/outpost-platform/outpost/appliance/bundle"
	"github.com/outpost-platform/outpost/appliance/console"
	"github.com/outpost-platform/outpost/appliance/console/problem"
	"github.com/outpost-platform/outpost/appliance/registry"
)

// Registry adapts the local registry.
func Registry(reg *registry.Registry) console.Registry { return registryAdapter{reg} }

type registryAdapter struct{ reg *registry.Registry }

func (a registryAdapter) Images(ctx context.Context) ([]console.Image, error) {
	imgs, err := a.reg.Images(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]console.Image, 0, len(imgs))
	for _, im := range imgs {
		out = append(out, console.Image{Repository: im.Repository, Tag: im.Tag, Digest: im.Digest.String(), Size: im.Size,
			Platforms: im.Platforms, Source: im.Source})
	}
	return out, nil
}

func (a registryAdapter) RemoveImage(ctx context.Context, ref string) error {
	_, err := a.reg.RemoveImage(ctx, ref)
	if errors.Is(err, registry.ErrNotFound) {
		return problem.NotFound("image")
	}
	return err
}

func (a registryAdapter) GarbageCollect(ctx context.Context) (console.GCResult, error) {
	res, err := a.reg.GC(ctx, registry.GCOptions{})
	if err != nil {
		return console.GCResult{}, err
	}
	return console.GCResult{BlobsDeleted: res.BlobsDeleted, BytesFreed: res.BytesFreed, ManifestsRemoved: res.ManifestsRemoved}, nil
}

// Bundles adapts the bundle importer.
func Bundles(im *bundle.Importer) console.BundleImporter { return bundleAdapter{im} }

type bundleAdapter struct{ im *bundle.Importer }

func (a bundleAdapter) Import(ctx context.Context, r io.ReaderAt, size int64, opts console.ImportOptions,
	progress func(console.ImportProgress)) (console.ImportResult, error) {
	res, err := a.im.Import(ctx, io.NewSectionReader(r, 0, size), bundle.ImportOptions{AllowUnsigned: opts.AllowUnsigned},
		func(p bundle.Progress) {
			progress(console.ImportProgress{Phase: p.Phase, Done: p.Done, Total: p.Total, Item: p.Blob})
		})
	if err != nil {
		// The importer's errors name what is wrong (a digest, a signature);
		// they are the user's answer, not an internal failure.
		return console.ImportResult{}, &problem.Error{Kind: problem.KindInvalid, Code: "bundle_rejected",
			Message: fmt.Sprintf("The bundle was not imported: %v", err)}
	}
	out := console.ImportResult{Name: res.Name, Version: res.Version, Charts: res.Charts, Images: []string{}}
	for _, im := range res.Images {
		out.Images = append(out.Images, im.Ref)
	}
	return out, nil
}
