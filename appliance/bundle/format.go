package bundle

import (
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/opencontainers/go-digest"

	"github.com/outpost-platform/outpost/appliance/registry"
)

// Archive entry names and fixed contents (docs/bundle-format.md).
const (
	// FormatVersion is the version of the format this package writes and
	// the highest it reads.
	FormatVersion = 1

	magicEntry    = "outpost-bundle"
	magicContent  = "outpost-bundle 1\n"
	manifestEntry = "bundle.json"
	sigEntry      = "bundle.sig"
	layoutEntry   = "oci-layout"
	indexEntry    = "index.json"
	blobPrefix    = "blobs/sha256/"

	// SignatureSlotSize is the fixed size of bundle.sig, so that signing
	// rewrites those bytes in place instead of copying the bundle.
	SignatureSlotSize = 4096

	// maxManifestSize bounds bundle.json; anything larger is refused before
	// it is read.
	maxManifestSize = 64 << 20
	maxIndexSize    = 16 << 20

	layoutContent = `{"imageLayoutVersion":"1.0.0"}`
)

// Kind says what a bundle is for.
type Kind string

// Bundle kinds.
const (
	KindApp     Kind = "app"     // application images, charts and manifests
	KindSystem  Kind = "system"  // Outpost's own system images
	KindUpgrade Kind = "upgrade" // a new Outpost version with its images
)

// Descriptor names one blob.
type Descriptor struct {
	Digest digest.Digest `json:"digest"`
	Size   int64         `json:"size"`
}

// Manifest is bundle.json: what the bundle is and every byte it contains.
// It is the only thing a signature covers; everything after it in the
// archive is verified against the digests it lists.
type Manifest struct {
	FormatVersion     int       `json:"formatVersion"`
	Name              string    `json:"name"`
	Version           string    `json:"version"`
	Kind              Kind      `json:"kind"`
	Created           time.Time `json:"created"`
	MinOutpostVersion string    `json:"minOutpostVersion,omitempty"`
	Description       string    `json:"description,omitempty"`
	// Base is set on delta bundles: the bundle whose content this one
	// leaves out.
	Base      *BaseRef `json:"base,omitempty"`
	Images    []Image  `json:"images"`
	Charts    []Chart  `json:"charts,omitempty"`
	Manifests []File   `json:"manifests,omitempty"`
	Files     []File   `json:"files,omitempty"`
	// Index is the OCI layout's index.json.
	Index Descriptor `json:"index"`
	// Blobs lists every blob in the archive, in archive order.
	Blobs []Descriptor `json:"blobs"`
	// Requires lists image blobs the bundle needs but does not contain
	// (delta bundles): they must already be in the registry.
	Requires []Descriptor `json:"requires,omitempty"`
}

// BaseRef identifies the bundle a delta was made against.
type BaseRef struct {
	Name    string        `json:"name"`
	Version string        `json:"version"`
	Digest  digest.Digest `json:"digest"` // the base's bundle.json digest
}

// Image is one image as the workloads name it.
type Image struct {
	// Ref is the fully qualified original reference, e.g.
	// docker.io/library/nginx:1.27. Import stores it where containerd's
	// mirror requests for that reference look.
	Ref string `json:"ref"`
	// Digest and MediaType identify the manifest or index the reference
	// resolves to. An index keeps its original digest even when only some
	// platforms are carried.
	Digest    digest.Digest `json:"digest"`
	MediaType string        `json:"mediaType"`
	// Platforms lists the platforms carried (os/arch[/variant]).
	Platforms []string `json:"platforms,omitempty"`
	// Size is the total of the image's manifests, configs and layers.
	Size int64 `json:"size"`
}

// Chart is a Helm chart archive (.tgz).
type Chart struct {
	Name       string        `json:"name"`
	Version    string        `json:"version"`
	AppVersion string        `json:"appVersion,omitempty"`
	Path       string        `json:"path"` // charts/<name>-<version>.tgz
	Digest     digest.Digest `json:"digest"`
	Size       int64         `json:"size"`
}

// File is a Kubernetes manifest or a plain file, stored as a blob and
// extracted at Path under the bundle's content directory on import.
type File struct {
	Path   string        `json:"path"`
	Digest digest.Digest `json:"digest"`
	Size   int64         `json:"size"`
	Mode   uint32        `json:"mode,omitempty"` // permission bits; 0644 when 0
}

var namePattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// ParseVersion parses a bundle version (semantic versioning, optional "v").
func ParseVersion(v string) (*semver.Version, error) {
	sv, err := semver.StrictNewVersion(strings.TrimPrefix(v, "v"))
	if err != nil {
		return nil, fmt.Errorf("version %q is not a semantic version such as 1.4.0", v)
	}
	return sv, nil
}

// ValidateName checks a bundle name: a DNS label.
func ValidateName(name string) error {
	if !namePattern.MatchString(name) {
		return fmt.Errorf("bundle name %q must be lower-case letters, digits and '-', at most 63 characters", name)
	}
	return nil
}

// Validate checks everything in m that does not need the archive: names,
// versions, digests, paths and sizes. Errors say which field is wrong.
func (m *Manifest) Validate() error {
	if m.FormatVersion != FormatVersion {
		if m.FormatVersion > FormatVersion {
			return fmt.Errorf("bundle format %d is newer than this Outpost reads (%d); upgrade Outpost first", m.FormatVersion, FormatVersion)
		}
		return fmt.Errorf("bundle format %d is not supported", m.FormatVersion)
	}
	if err := ValidateName(m.Name); err != nil {
		return err
	}
	if _, err := ParseVersion(m.Version); err != nil {
		return fmt.Errorf("bundle %s: %w", m.Name, err)
	}
	switch m.Kind {
	case KindApp, KindSystem, KindUpgrade:
	default:
		return fmt.Errorf("bundle %s: kind %q must be app, system or upgrade", m.Name, m.Kind)
	}
	if m.MinOutpostVersion != "" {
		if _, err := ParseVersion(m.MinOutpostVersion); err != nil {
			return fmt.Errorf("bundle %s: minOutpostVersion: %w", m.Name, err)
		}
	}
	if m.Base != nil {
		if err := ValidateName(m.Base.Name); err != nil {
			return fmt.Errorf("bundle %s: base: %w", m.Name, err)
		}
		if err := validDigest(m.Base.Digest); err != nil {
			return fmt.Errorf("bundle %s: base digest: %w", m.Name, err)
		}
	} else if len(m.Requires) > 0 {
		return fmt.Errorf("bundle %s requires blobs but names no base bundle", m.Name)
	}
	if err := m.Index.validate(); err != nil {
		return fmt.Errorf("bundle %s: index: %w", m.Name, err)
	}
	contained := map[digest.Digest]int64{}
	for _, b := range m.Blobs {
		if err := b.validate(); err != nil {
			return fmt.Errorf("bundle %s: blob: %w", m.Name, err)
		}
		if _, dup := contained[b.Digest]; dup {
			return fmt.Errorf("bundle %s lists blob %s twice", m.Name, b.Digest)
		}
		contained[b.Digest] = b.Size
	}
	for _, b := range m.Requires {
		if err := b.validate(); err != nil {
			return fmt.Errorf("bundle %s: required blob: %w", m.Name, err)
		}
		if _, dup := contained[b.Digest]; dup {
			return fmt.Errorf("bundle %s both contains and requires blob %s", m.Name, b.Digest)
		}
	}
	refs := map[string]bool{}
	for _, img := range m.Images {
		if _, err := registry.ResolveRef(img.Ref); err != nil {
			return fmt.Errorf("bundle %s: %w", m.Name, err)
		}
		if refs[img.Ref] {
			return fmt.Errorf("bundle %s lists image %s twice", m.Name, img.Ref)
		}
		refs[img.Ref] = true
		if err := validDigest(img.Digest); err != nil {
			return fmt.Errorf("bundle %s: image %s: %w", m.Name, img.Ref, err)
		}
		if !registry.IsManifestMediaType(img.MediaType) {
			return fmt.Errorf("bundle %s: image %s: media type %q is not an image manifest or index", m.Name, img.Ref, img.MediaType)
		}
	}
	paths := map[string]bool{}
	checkFile := func(section, p string, d digest.Digest, size int64) error {
		if err := ValidateContentPath(p); err != nil {
			return fmt.Errorf("bundle %s: %s: %w", m.Name, section, err)
		}
		if paths[p] {
			return fmt.Errorf("bundle %s: path %s is listed twice", m.Name, p)
		}
		paths[p] = true
		if n, ok := contained[d]; !ok || n != size {
			return fmt.Errorf("bundle %s: %s %s: blob %s is not in the bundle", m.Name, section, p, d)
		}
		return nil
	}
	for _, c := range m.Charts {
		if err := checkFile("chart", c.Path, c.Digest, c.Size); err != nil {
			return err
		}
	}
	for _, f := range m.Manifests {
		if err := checkFile("manifest", f.Path, f.Digest, f.Size); err != nil {
			return err
		}
	}
	for _, f := range m.Files {
		if err := checkFile("file", f.Path, f.Digest, f.Size); err != nil {
			return err
		}
		if f.Mode&^0o777 != 0 {
			return fmt.Errorf("bundle %s: file %s: mode %o has bits beyond permissions", m.Name, f.Path, f.Mode)
		}
	}
	return nil
}

// ValidateContentPath checks a relative path of extracted content: slash
// separated, no "..", no absolute path, no empty or dot components.
func ValidateContentPath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "\\") || path.Clean(p) != p {
		return fmt.Errorf("path %q must be a clean relative path", p)
	}
	for _, c := range strings.Split(p, "/") {
		if c == ".." || c == "." || c == "" {
			return fmt.Errorf("path %q must not contain %q", p, c)
		}
	}
	return nil
}

func (d Descriptor) validate() error {
	if err := validDigest(d.Digest); err != nil {
		return err
	}
	if d.Size < 0 {
		return fmt.Errorf("%s has negative size %d", d.Digest, d.Size)
	}
	return nil
}

func validDigest(d digest.Digest) error {
	if d.Algorithm() != digest.SHA256 {
		return fmt.Errorf("digest %q is not sha256", d)
	}
	return d.Validate()
}

// ContainedSize is the total size of the blobs in the archive.
func (m *Manifest) ContainedSize() int64 {
	var n int64
	for _, b := range m.Blobs {
		n += b.Size
	}
	return n
}

// contentDigests lists the blobs that are charts, manifests or files
// rather than image content.
func (m *Manifest) contentDigests() map[digest.Digest]bool {
	ds := map[digest.Digest]bool{}
	for _, c := range m.Charts {
		ds[c.Digest] = true
	}
	for _, f := range m.Manifests {
		ds[f.Digest] = true
	}
	for _, f := range m.Files {
		ds[f.Digest] = true
	}
	return ds
}

// imageBlobs lists the contained blobs that belong to images.
func (m *Manifest) imageBlobs() []Descriptor {
	content := m.contentDigests()
	var out []Descriptor
	for _, b := range m.Blobs {
		if !content[b.Digest] {
			out = append(out, b)
		}
	}
	return out
}
