package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"sigs.k8s.io/yaml"

	"github.com/outpost-platform/outpost/appliance/registry"
)

// CreateOptions tune Create.
type CreateOptions struct {
	// Base is the path of a previous bundle: the new bundle leaves out the
	// image blobs the base carries or requires (a delta bundle).
	Base string
	// SigningKey, when set, signs the bundle as it is written.
	SigningKey ed25519.PrivateKey
	// Keychain provides registry credentials; the Docker config
	// (~/.docker/config.json, $DOCKER_CONFIG) by default.
	Keychain authn.Keychain
	// Transport is used for registry requests; http.DefaultTransport by
	// default.
	Transport http.RoundTripper
	// Now is the creation time; time.Now by default.
	Now func() time.Time
	// Progress, when set, receives the bytes written so far and the total.
	Progress func(done, total int64)
	// Log, when set, receives one line per step ("image nginx:1.27: ...").
	Log func(format string, args ...any)
}

// Create builds the bundle described by spec into the file out. The file
// appears only when complete: it is written next to out and renamed.
func Create(ctx context.Context, spec *Spec, out string, opts CreateOptions) (*Manifest, error) {
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("creating bundle: %w", err)
	}
	if opts.Keychain == nil {
		opts.Keychain = authn.DefaultKeychain
	}
	if opts.Transport == nil {
		opts.Transport = http.DefaultTransport
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	logf := opts.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	m := &Manifest{
		FormatVersion:     FormatVersion,
		Name:              spec.Name,
		Version:           spec.Version,
		Kind:              spec.Kind,
		Created:           opts.Now().UTC().Truncate(time.Second),
		MinOutpostVersion: spec.MinOutpostVersion,
		Description:       spec.Description,
		Images:            []Image{},
	}
	p := &planner{ctx: ctx, spec: spec, opts: opts, seen: map[digest.Digest]bool{}, archives: map[string]string{}}
	defer p.cleanup()
	imageSpecs, err := p.expandImages()
	if err != nil {
		return nil, fmt.Errorf("creating bundle: %w", err)
	}

	var base map[digest.Digest]bool
	if opts.Base != "" {
		bm, bd, err := readManifestFile(opts.Base)
		if err != nil {
			return nil, fmt.Errorf("creating delta bundle: reading base %s: %w", opts.Base, err)
		}
		if bm.Name != spec.Name {
			return nil, fmt.Errorf("creating delta bundle: base %s is bundle %q, not %q", opts.Base, bm.Name, spec.Name)
		}
		m.Base = &BaseRef{Name: bm.Name, Version: bm.Version, Digest: bd}
		base = map[digest.Digest]bool{}
		for _, b := range bm.imageBlobs() {
			base[b.Digest] = true
		}
		for _, b := range bm.Requires {
			base[b.Digest] = true
		}
		logf("delta against %s %s: %d blobs already at the site", bm.Name, bm.Version, len(base))
	}

	var index ocispec.Index
	index.SchemaVersion = 2
	index.MediaType = ocispec.MediaTypeImageIndex
	for _, is := range imageSpecs {
		img, err := p.addImage(is)
		if err != nil {
			return nil, fmt.Errorf("creating bundle: image %s: %w", is.Ref, err)
		}
		m.Images = append(m.Images, img)
		ref, _ := registry.ResolveRef(img.Ref)
		ann := map[string]string{"io.containerd.image.name": img.Ref}
		if ref.Tag != "" {
			ann[ocispec.AnnotationRefName] = ref.Tag
		}
		index.Manifests = append(index.Manifests, ocispec.Descriptor{
			MediaType: img.MediaType, Digest: img.Digest, Size: p.rootSize[img.Digest], Annotations: ann,
		})
		logf("image %s: %s, %s, %s", img.Ref, img.Digest, strings.Join(img.Platforms, ","), humanBytes(img.Size))
	}
	if err := p.addContent(m); err != nil {
		return nil, fmt.Errorf("creating bundle: %w", err)
	}

	// Archive order: manifests, configs, content files, then layers, so
	// that everything small comes first.
	var blobs []blobSource
	for _, group := range [][]blobSource{p.manifests, p.configs, p.content, p.layers} {
		for _, b := range group {
			if base != nil && base[b.Digest] && !p.isContent[b.Digest] {
				m.Requires = append(m.Requires, b.Descriptor)
				continue
			}
			blobs = append(blobs, b)
			m.Blobs = append(m.Blobs, b.Descriptor)
		}
	}
	if m.Blobs == nil {
		m.Blobs = []Descriptor{}
	}
	indexJSON, err := json.Marshal(index)
	if err != nil {
		return nil, fmt.Errorf("creating bundle: %w", err)
	}
	m.Index = Descriptor{Digest: digest.FromBytes(indexJSON), Size: int64(len(indexJSON))}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("creating bundle: %w", err)
	}
	rawManifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("creating bundle: %w", err)
	}
	var sigs []Signature
	if opts.SigningKey != nil {
		sigs = append(sigs, Sign(opts.SigningKey, digest.FromBytes(rawManifest)))
	}
	slot, err := encodeSignatureSlot(sigs)
	if err != nil {
		return nil, fmt.Errorf("creating bundle: %w", err)
	}

	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return nil, fmt.Errorf("creating bundle: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".partial-*")
	if err != nil {
		return nil, fmt.Errorf("creating bundle: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	aw := newArchiveWriter(f, m.Created)
	for _, e := range []struct {
		name string
		data []byte
	}{{magicEntry, []byte(magicContent)}, {manifestEntry, rawManifest}, {sigEntry, slot},
		{layoutEntry, []byte(layoutContent)}, {indexEntry, indexJSON}} {
		if err := aw.file(e.name, e.data); err != nil {
			return nil, fmt.Errorf("creating bundle: %w", err)
		}
	}
	total, done := m.ContainedSize(), int64(0)
	for _, b := range blobs {
		err := aw.blob(ctx, b, func(n int64) {
			done += n
			if opts.Progress != nil {
				opts.Progress(done, total)
			}
		})
		if err != nil {
			return nil, fmt.Errorf("creating bundle: %w", err)
		}
	}
	if err := aw.close(); err != nil {
		return nil, fmt.Errorf("creating bundle: %w", err)
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("creating bundle: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("creating bundle: %w", err)
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return nil, fmt.Errorf("creating bundle: %w", err)
	}
	if err := os.Rename(f.Name(), out); err != nil {
		return nil, fmt.Errorf("creating bundle: %w", err)
	}
	return m, nil
}

// readManifestFile reads only the header of the bundle at path.
func readManifestFile(path string) (*Manifest, digest.Digest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	br, err := NewReader(f)
	if err != nil {
		return nil, "", err
	}
	return br.Manifest, br.Digest, nil
}

// planner collects the blobs of a bundle, each once.
type planner struct {
	ctx  context.Context
	spec *Spec
	opts CreateOptions

	seen      map[digest.Digest]bool
	archives  map[string]string // oci-archive file → extracted layout dir
	isContent map[digest.Digest]bool
	rootSize  map[digest.Digest]int64
	manifests []blobSource
	configs   []blobSource
	layers    []blobSource
	content   []blobSource
}

func (p *planner) add(group *[]blobSource, b blobSource) {
	if p.seen[b.Digest] {
		return
	}
	p.seen[b.Digest] = true
	*group = append(*group, b)
}

func bytesSource(data []byte, what string) blobSource {
	return blobSource{
		Descriptor: Descriptor{Digest: digest.FromBytes(data), Size: int64(len(data))},
		what:       what,
		open: func(context.Context) (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(data)), nil
		},
	}
}

func (p *planner) cleanup() {
	for _, dir := range p.archives {
		os.RemoveAll(dir)
	}
}

// layoutDir returns the OCI layout directory of an "oci:" or "oci-archive:"
// source, extracting an archive once.
func (p *planner) layoutDir(from string) (string, error) {
	if dir, ok := strings.CutPrefix(from, "oci:"); ok {
		return p.spec.path(dir), nil
	}
	file := p.spec.path(strings.TrimPrefix(from, "oci-archive:"))
	if dir, ok := p.archives[file]; ok {
		return dir, nil
	}
	dir, err := os.MkdirTemp("", "outpost-oci-archive-")
	if err != nil {
		return "", err
	}
	p.archives[file] = dir
	if err := extractLayoutArchive(file, dir); err != nil {
		return "", fmt.Errorf("extracting OCI archive %s: %w", file, err)
	}
	return dir, nil
}

// extractLayoutArchive unpacks the regular files and directories of a tar
// archive of an OCI layout into dir, refusing links and paths that leave it.
func extractLayoutArchive(file, dir string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := path.Clean(strings.TrimPrefix(hdr.Name, "./"))
		if name == "." {
			continue
		}
		if ValidateContentPath(name) != nil {
			return fmt.Errorf("entry %q leaves the archive", hdr.Name)
		}
		target := filepath.Join(dir, filepath.FromSlash(name))
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			out, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
			if err != nil {
				return err
			}
			if _, err := io.Copy(out, tr); err != nil {
				out.Close()
				return err
			}
			if err := out.Close(); err != nil {
				return err
			}
		default:
			return fmt.Errorf("entry %q is not a regular file or directory", hdr.Name)
		}
	}
}

// expandImages replaces image specs without a ref (an OCI layout or
// archive "as a whole") with one spec per image it names in its
// annotations: how a system bundle takes every image of an archive.
func (p *planner) expandImages() ([]ImageSpec, error) {
	var out []ImageSpec
	for _, is := range p.spec.Images {
		if is.Ref != "" {
			out = append(out, is)
			continue
		}
		dir, err := p.layoutDir(is.From)
		if err != nil {
			return nil, err
		}
		idx, err := layout.ImageIndexFromPath(dir)
		if err != nil {
			return nil, fmt.Errorf("reading OCI layout %s: %w", is.From, err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, fmt.Errorf("reading OCI layout %s: %w", is.From, err)
		}
		for _, d := range im.Manifests {
			name := d.Annotations["io.containerd.image.name"]
			if name == "" {
				name = d.Annotations[ocispec.AnnotationRefName]
			}
			if _, err := registry.ResolveRef(name); err != nil || name == "" {
				return nil, fmt.Errorf("%s: image %s has no full reference in its io.containerd.image.name or ref.name annotation; list it in images with a ref", is.From, d.Digest)
			}
			out = append(out, ImageSpec{Ref: name, From: is.From, Platforms: is.Platforms})
		}
	}
	return out, nil
}

// platformMatcher selects platforms; nil matches all.
type platformMatcher []v1.Platform

func parsePlatform(s string) (v1.Platform, error) {
	if s == "all" {
		return v1.Platform{OS: "all"}, nil
	}
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return v1.Platform{}, fmt.Errorf("platform %q must be os/arch[/variant] such as linux/amd64, or all", s)
	}
	pl := v1.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		pl.Variant = parts[2]
	}
	return pl, nil
}

func newPlatformMatcher(specs []string) (platformMatcher, error) {
	if len(specs) == 0 {
		specs = []string{"linux/amd64"}
	}
	var pm platformMatcher
	for _, s := range specs {
		pl, err := parsePlatform(s)
		if err != nil {
			return nil, err
		}
		if pl.OS == "all" {
			return nil, nil
		}
		pm = append(pm, pl)
	}
	return pm, nil
}

func (pm platformMatcher) matches(p *v1.Platform) bool {
	if pm == nil {
		return true
	}
	if p == nil {
		return false
	}
	for _, want := range pm {
		if want.OS == p.OS && want.Architecture == p.Architecture && (want.Variant == "" || want.Variant == p.Variant) {
			return true
		}
	}
	return false
}

func (pm platformMatcher) String() string {
	var s []string
	for _, p := range pm {
		s = append(s, platformString(p))
	}
	return strings.Join(s, ", ")
}

func platformString(p v1.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// imageSource is an image or index from wherever the spec says.
type imageSource struct {
	image v1.Image
	index v1.ImageIndex
}

func (p *planner) resolve(is ImageSpec) (imageSource, error) {
	switch {
	case is.From == "":
		ref, err := name.ParseReference(is.Ref)
		if err != nil {
			return imageSource{}, err
		}
		desc, err := remote.Get(ref, remote.WithContext(p.ctx), remote.WithAuthFromKeychain(p.opts.Keychain), remote.WithTransport(p.opts.Transport))
		if err != nil {
			return imageSource{}, fmt.Errorf("fetching from its registry: %w", err)
		}
		if desc.MediaType.IsIndex() {
			idx, err := desc.ImageIndex()
			return imageSource{index: idx}, err
		}
		img, err := desc.Image()
		return imageSource{image: img}, err
	case strings.HasPrefix(is.From, "oci:") || strings.HasPrefix(is.From, "oci-archive:"):
		dir, err := p.layoutDir(is.From)
		if err != nil {
			return imageSource{}, err
		}
		idx, err := layout.ImageIndexFromPath(dir)
		if err != nil {
			return imageSource{}, fmt.Errorf("reading OCI layout %s: %w", dir, err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return imageSource{}, fmt.Errorf("reading OCI layout %s: %w", dir, err)
		}
		desc, err := selectLayoutEntry(im.Manifests, is.Ref)
		if err != nil {
			return imageSource{}, fmt.Errorf("OCI layout %s: %w", dir, err)
		}
		if desc.MediaType.IsIndex() {
			child, err := idx.ImageIndex(desc.Digest)
			return imageSource{index: child}, err
		}
		img, err := idx.Image(desc.Digest)
		return imageSource{image: img}, err
	default:
		file := p.spec.path(strings.TrimPrefix(is.From, "docker-archive:"))
		mf, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(file) })
		if err != nil {
			return imageSource{}, fmt.Errorf("reading docker archive %s: %w", file, err)
		}
		var tag *name.Tag
		if len(mf) > 1 {
			t, err := name.NewTag(is.Ref)
			if err != nil {
				return imageSource{}, fmt.Errorf("docker archive %s holds %d images; the ref must name one by tag: %w", file, len(mf), err)
			}
			tag = &t
		}
		img, err := tarball.ImageFromPath(file, tag)
		if err != nil {
			return imageSource{}, fmt.Errorf("reading docker archive %s: %w", file, err)
		}
		return imageSource{image: img}, nil
	}
}

// selectLayoutEntry picks the image of an OCI layout that ref names: by
// its ref.name annotation (tag or full reference) or containerd's image
// name annotation; a layout with one entry needs no name.
func selectLayoutEntry(descs []v1.Descriptor, ref string) (v1.Descriptor, error) {
	want, _ := registry.ResolveRef(ref)
	for _, d := range descs {
		for _, key := range []string{ocispec.AnnotationRefName, "io.containerd.image.name"} {
			v := d.Annotations[key]
			if v == "" {
				continue
			}
			if v == ref || v == want.Original || (want.Tag != "" && v == want.Tag) {
				return d, nil
			}
			if r, err := registry.ResolveRef(v); err == nil && r.Original == want.Original {
				return d, nil
			}
		}
	}
	if len(descs) == 1 {
		return descs[0], nil
	}
	return v1.Descriptor{}, fmt.Errorf("no image named %s among its %d entries", ref, len(descs))
}

func (p *planner) addImage(is ImageSpec) (Image, error) {
	ref, err := registry.ResolveRef(is.Ref)
	if err != nil {
		return Image{}, err
	}
	platforms := is.Platforms
	if len(platforms) == 0 {
		platforms = p.spec.Platforms
	}
	pm, err := newPlatformMatcher(platforms)
	if err != nil {
		return Image{}, err
	}
	src, err := p.resolve(is)
	if err != nil {
		return Image{}, err
	}
	if p.rootSize == nil {
		p.rootSize = map[digest.Digest]int64{}
	}
	out := Image{Ref: ref.Original}
	var size int64
	if src.index != nil {
		raw, err := src.index.RawManifest()
		if err != nil {
			return Image{}, err
		}
		im, err := src.index.IndexManifest()
		if err != nil {
			return Image{}, err
		}
		root := bytesSource(raw, "index of "+ref.Original)
		p.add(&p.manifests, root)
		out.Digest, out.MediaType = root.Digest, string(im.MediaType)
		if out.MediaType == "" {
			out.MediaType = registry.MediaTypeOCIIndex
		}
		size += root.Size
		var available []string
		for _, child := range im.Manifests {
			if child.Platform == nil || child.Platform.OS == "unknown" || child.MediaType.IsIndex() {
				continue // attestations and nested indexes are not carried
			}
			available = append(available, platformString(*child.Platform))
			if !pm.matches(child.Platform) {
				continue
			}
			img, err := src.index.Image(child.Digest)
			if err != nil {
				return Image{}, err
			}
			n, err := p.addSingleImage(img, ref.Original)
			if err != nil {
				return Image{}, fmt.Errorf("platform %s: %w", platformString(*child.Platform), err)
			}
			size += n
			out.Platforms = append(out.Platforms, platformString(*child.Platform))
		}
		if len(out.Platforms) == 0 {
			return Image{}, fmt.Errorf("no platform matches %s (the image has %s)", pm, strings.Join(available, ", "))
		}
	} else {
		cf, err := src.image.ConfigFile()
		if err != nil {
			return Image{}, err
		}
		if cf.OS != "" && !pm.matches(cf.Platform()) {
			return Image{}, fmt.Errorf("the image is %s only; the bundle asks for %s", platformString(*cf.Platform()), pm)
		}
		raw, err := src.image.RawManifest()
		if err != nil {
			return Image{}, err
		}
		mt, err := src.image.MediaType()
		if err != nil {
			return Image{}, err
		}
		out.Digest, out.MediaType = digest.FromBytes(raw), string(mt)
		n, err := p.addSingleImage(src.image, ref.Original)
		if err != nil {
			return Image{}, err
		}
		size += n
		if cf.OS != "" {
			out.Platforms = []string{platformString(*cf.Platform())}
		}
	}
	if ref.Digest != "" && ref.Digest != out.Digest {
		return Image{}, fmt.Errorf("the reference pins %s but the source holds %s", ref.Digest, out.Digest)
	}
	out.Size = size
	for _, b := range p.manifests {
		if b.Digest == out.Digest {
			p.rootSize[out.Digest] = b.Size
		}
	}
	return out, nil
}

// addSingleImage adds a platform image's manifest, config and layers and
// returns their total size.
func (p *planner) addSingleImage(img v1.Image, ref string) (int64, error) {
	raw, err := img.RawManifest()
	if err != nil {
		return 0, err
	}
	if !registry.IsManifestMediaType(mediaTypeOf(raw)) {
		return 0, fmt.Errorf("manifest media type %q is not supported", mediaTypeOf(raw))
	}
	m, err := img.Manifest()
	if err != nil {
		return 0, err
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		return 0, err
	}
	mb := bytesSource(raw, "manifest of "+ref)
	cb := bytesSource(cfg, "config of "+ref)
	if cb.Digest.String() != m.Config.Digest.String() {
		return 0, fmt.Errorf("config digest %s does not match the manifest's %s", cb.Digest, m.Config.Digest)
	}
	p.add(&p.manifests, mb)
	p.add(&p.configs, cb)
	total := mb.Size + cb.Size
	for _, l := range m.Layers {
		if len(l.URLs) > 0 {
			continue // foreign layer: fetched from its URL, never carried
		}
		layer, err := img.LayerByDigest(l.Digest)
		if err != nil {
			return 0, err
		}
		p.add(&p.layers, blobSource{
			Descriptor: Descriptor{Digest: digest.Digest(l.Digest.String()), Size: l.Size},
			what:       "layer of " + ref,
			open: func(context.Context) (io.ReadCloser, error) {
				return layer.Compressed()
			},
		})
		total += l.Size
	}
	return total, nil
}

func mediaTypeOf(raw []byte) string {
	var v struct {
		MediaType string `json:"mediaType"`
	}
	json.Unmarshal(raw, &v)
	if v.MediaType == "" {
		return registry.MediaTypeOCIManifest
	}
	return v.MediaType
}

// addContent adds charts, manifests and files.
func (p *planner) addContent(m *Manifest) error {
	p.isContent = map[digest.Digest]bool{}
	for _, fs := range p.spec.Charts {
		file := p.spec.path(fs.Path)
		data, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("chart %s: %w", fs.Path, err)
		}
		meta, err := chartMetadata(data)
		if err != nil {
			return fmt.Errorf("chart %s: %w", fs.Path, err)
		}
		name := fs.As
		if name == "" {
			name = meta.Name + "-" + meta.Version + ".tgz"
		}
		b := bytesSource(data, "chart "+fs.Path)
		m.Charts = append(m.Charts, Chart{Name: meta.Name, Version: meta.Version, AppVersion: meta.AppVersion,
			Path: "charts/" + name, Digest: b.Digest, Size: b.Size})
		p.addContentBlob(b)
	}
	for _, section := range []struct {
		dir   string
		specs []FileSpec
		out   *[]File
	}{{"manifests", p.spec.Manifests, &m.Manifests}, {"files", p.spec.Files, &m.Files}} {
		for _, fs := range section.specs {
			matches, err := filepath.Glob(p.spec.path(fs.Path))
			if err != nil || len(matches) == 0 {
				return fmt.Errorf("%s: %s matches no file", section.dir, fs.Path)
			}
			sort.Strings(matches)
			if fs.As != "" && len(matches) > 1 {
				return fmt.Errorf("%s: %s matches %d files; \"as\" needs exactly one", section.dir, fs.Path, len(matches))
			}
			for _, file := range matches {
				fi, err := os.Stat(file)
				if err != nil {
					return fmt.Errorf("%s: %w", section.dir, err)
				}
				if !fi.Mode().IsRegular() {
					return fmt.Errorf("%s: %s is not a regular file", section.dir, file)
				}
				data, err := os.ReadFile(file)
				if err != nil {
					return fmt.Errorf("%s: %w", section.dir, err)
				}
				rel := fs.As
				if rel == "" {
					rel = filepath.Base(file)
				}
				b := bytesSource(data, section.dir+" "+file)
				f := File{Path: path.Join(section.dir, filepath.ToSlash(rel)), Digest: b.Digest, Size: b.Size}
				if section.dir == "files" {
					f.Mode = uint32(fi.Mode().Perm())
				}
				*section.out = append(*section.out, f)
				p.addContentBlob(b)
			}
		}
	}
	return nil
}

func (p *planner) addContentBlob(b blobSource) {
	p.isContent[b.Digest] = true
	if p.seen[b.Digest] {
		// Already carried as image content: move it to the content group
		// so a delta never leaves it out.
		for i, x := range p.layers {
			if x.Digest == b.Digest {
				p.layers = slices.Delete(p.layers, i, i+1)
				p.content = append(p.content, x)
			}
		}
		return
	}
	p.add(&p.content, b)
}

type chartMeta struct {
	Name       string `json:"name"`
	Version    string `json:"version"`
	AppVersion string `json:"appVersion"`
}

// chartMetadata reads <chart>/Chart.yaml from a chart archive.
func chartMetadata(tgz []byte) (chartMeta, error) {
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		return chartMeta{}, fmt.Errorf("not a chart archive (.tgz): %w", err)
	}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return chartMeta{}, errors.New("not a chart archive: no Chart.yaml")
		}
		if err != nil {
			return chartMeta{}, fmt.Errorf("not a chart archive: %w", err)
		}
		parts := strings.Split(strings.TrimPrefix(hdr.Name, "./"), "/")
		if len(parts) != 2 || parts[1] != "Chart.yaml" {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(tr, 1<<20))
		if err != nil {
			return chartMeta{}, err
		}
		var meta chartMeta
		if err := yaml.Unmarshal(data, &meta); err != nil {
			return chartMeta{}, fmt.Errorf("Chart.yaml: %w", err)
		}
		if meta.Name == "" || meta.Version == "" {
			return chartMeta{}, errors.New("Chart.yaml lacks name or version")
		}
		if ValidateContentPath(meta.Name) != nil || strings.Contains(meta.Name, "/") {
			return chartMeta{}, fmt.Errorf("chart name %q is not a valid file name", meta.Name)
		}
		return meta, nil
	}
}

// humanBytes formats n as 1.5 GB style (decimal units).
func humanBytes(n int64) string {
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
