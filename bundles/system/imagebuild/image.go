package imagebuild

import (
	"archive/tar"
	"bytes"
	"debug/buildinfo"
	"fmt"
	"io"
	"os"
	"path"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Options control how images are assembled. The zero value is ready to use.
type Options struct {
	// Platform of the images. Default linux/amd64. A Go binary built for
	// another platform is refused.
	Platform v1.Platform
	// Created is stamped on configs, history and every file. Default the
	// Unix epoch, so that the same inputs always give the same digests.
	Created time.Time
}

func (o Options) withDefaults() Options {
	if o.Platform.OS == "" {
		o.Platform.OS = "linux"
	}
	if o.Platform.Architecture == "" {
		o.Platform.Architecture = "amd64"
	}
	if o.Created.IsZero() {
		o.Created = time.Unix(0, 0)
	}
	o.Created = o.Created.UTC()
	return o
}

// Image is an assembled image and the reference it is to be imported under.
type Image struct {
	Spec  ImageSpec
	Image v1.Image
}

// Build assembles the image described by spec around binaryFile.
func Build(spec ImageSpec, binaryFile string, opts Options) (Image, error) {
	opts = opts.withDefaults()
	if err := spec.Validate(); err != nil {
		return Image{}, fmt.Errorf("building image %s: %w", spec.Name, err)
	}
	binary, err := os.ReadFile(binaryFile)
	if err != nil {
		return Image{}, fmt.Errorf("building image %s: reading binary: %w", spec.Name, err)
	}
	if err := checkBinary(spec, binaryFile, opts.Platform); err != nil {
		return Image{}, fmt.Errorf("building image %s: %w", spec.Name, err)
	}
	layerTar, err := rootFS(spec, binary, opts.Created)
	if err != nil {
		return Image{}, fmt.Errorf("building image %s: %w", spec.Name, err)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer), tarball.WithCompressedCaching)
	if err != nil {
		return Image{}, fmt.Errorf("building image %s: creating layer: %w", spec.Name, err)
	}

	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History: v1.History{
			Created:   v1.Time{Time: opts.Created},
			CreatedBy: "outpost imagebuild: " + spec.Binary + " as " + spec.Path,
		},
	})
	if err != nil {
		return Image{}, fmt.Errorf("building image %s: appending layer: %w", spec.Name, err)
	}
	config, err := img.ConfigFile()
	if err != nil {
		return Image{}, fmt.Errorf("building image %s: reading config: %w", spec.Name, err)
	}
	config = config.DeepCopy()
	if err := applySpec(config, spec, opts); err != nil {
		return Image{}, fmt.Errorf("building image %s: %w", spec.Name, err)
	}
	img, err = mutate.ConfigFile(img, config)
	if err != nil {
		return Image{}, fmt.Errorf("building image %s: setting config: %w", spec.Name, err)
	}
	return Image{Spec: spec, Image: img}, nil
}

// applySpec fills the runtime configuration of config from spec.
func applySpec(config *v1.ConfigFile, spec ImageSpec, opts Options) error {
	tag, err := spec.Tag()
	if err != nil {
		return err
	}
	config.Created = v1.Time{Time: opts.Created}
	config.OS = opts.Platform.OS
	config.Architecture = opts.Platform.Architecture
	config.Variant = opts.Platform.Variant
	config.Config.Entrypoint = spec.Entrypoint
	if len(config.Config.Entrypoint) == 0 {
		config.Config.Entrypoint = []string{spec.Path}
	}
	config.Config.Cmd = spec.Cmd
	config.Config.User = spec.User
	config.Config.WorkingDir = spec.WorkingDir
	if config.Config.WorkingDir == "" {
		config.Config.WorkingDir = "/"
	}
	// The conventional PATH, as base images carry it: runtimes and exec'd
	// tools expect one. The spec may set its own.
	config.Config.Env = slices.Clone(spec.Env)
	if !slices.ContainsFunc(spec.Env, func(env string) bool { return strings.HasPrefix(env, "PATH=") }) {
		config.Config.Env = append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, config.Config.Env...)
	}
	if len(spec.Ports) > 0 {
		config.Config.ExposedPorts = make(map[string]struct{}, len(spec.Ports))
		for _, port := range spec.Ports {
			normalized, err := parsePort(port)
			if err != nil {
				return err
			}
			config.Config.ExposedPorts[normalized] = struct{}{}
		}
	}
	config.Config.Labels = map[string]string{
		"org.opencontainers.image.title":   spec.Name,
		"org.opencontainers.image.version": tag.TagStr(),
		"org.opencontainers.image.vendor":  "Outpost",
	}
	return nil
}

// rootFS returns the uncompressed layer: the parent directories of the
// binary, the binary itself (root-owned, 0755, with file capabilities if
// asked for) and /tmp with mode 1777, all stamped with created.
func rootFS(spec ImageSpec, binary []byte, created time.Time) ([]byte, error) {
	capabilities, err := encodeFileCapabilities(spec.Capabilities)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dir := func(name string, mode int64) error {
		return tw.WriteHeader(&tar.Header{
			Typeflag: tar.TypeDir,
			Name:     name + "/",
			Mode:     mode,
			ModTime:  created,
			Format:   tar.FormatPAX,
		})
	}
	if err := dir("tmp", 0o1777); err != nil {
		return nil, fmt.Errorf("writing /tmp to layer: %w", err)
	}
	inImage := strings.TrimPrefix(spec.Path, "/")
	var parents []string
	for parent := path.Dir(inImage); parent != "."; parent = path.Dir(parent) {
		parents = append([]string{parent}, parents...)
	}
	for _, parent := range parents {
		if err := dir(parent, 0o755); err != nil {
			return nil, fmt.Errorf("writing directory /%s to layer: %w", parent, err)
		}
	}
	header := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     inImage,
		Mode:     0o755,
		Size:     int64(len(binary)),
		ModTime:  created,
		Format:   tar.FormatPAX,
	}
	if capabilities != nil {
		header.PAXRecords = map[string]string{fileCapabilityXattr: string(capabilities)}
	}
	if err := tw.WriteHeader(header); err != nil {
		return nil, fmt.Errorf("writing %s header to layer: %w", spec.Path, err)
	}
	if _, err := tw.Write(binary); err != nil {
		return nil, fmt.Errorf("writing %s to layer: %w", spec.Path, err)
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("closing layer: %w", err)
	}
	return buf.Bytes(), nil
}

// checkBinary compares the Go build information of binaryFile, when it has
// any, with the platform and the spec's module version.
func checkBinary(spec ImageSpec, binaryFile string, platform v1.Platform) error {
	info, err := buildinfo.ReadFile(binaryFile)
	if err != nil {
		if spec.Module != "" {
			return fmt.Errorf("reading Go build information of %s to check module %s: %w", binaryFile, spec.Module, err)
		}
		return nil // not a Go binary: nothing to check
	}
	if goos, goarch := buildSetting(info, "GOOS"), buildSetting(info, "GOARCH"); (goos != "" && goos != platform.OS) || (goarch != "" && goarch != platform.Architecture) {
		return fmt.Errorf("%s is built for %s/%s, image platform is %s/%s", binaryFile, goos, goarch, platform.OS, platform.Architecture)
	}
	if spec.Module == "" {
		return nil
	}
	version, ok := moduleVersion(info, spec.Module)
	if !ok {
		return fmt.Errorf("%s does not contain module %s", binaryFile, spec.Module)
	}
	tag, err := spec.Tag()
	if err != nil {
		return err
	}
	if strings.TrimPrefix(version, "v") != strings.TrimPrefix(tag.TagStr(), "v") {
		return fmt.Errorf("tag %q does not match %s %s built into %s", tag.TagStr(), spec.Module, version, binaryFile)
	}
	return nil
}

// moduleVersion returns the version of module in info, whether it is the
// main module or a dependency (replacements win, as they are what was
// compiled).
func moduleVersion(info *debug.BuildInfo, module string) (string, bool) {
	modules := append([]*debug.Module{&info.Main}, info.Deps...)
	for _, m := range modules {
		if m == nil || m.Path != module {
			continue
		}
		if m.Replace != nil {
			return m.Replace.Version, true
		}
		return m.Version, true
	}
	return "", false
}

func buildSetting(info *debug.BuildInfo, key string) string {
	for _, setting := range info.Settings {
		if setting.Key == key {
			return setting.Value
		}
	}
	return ""
}
