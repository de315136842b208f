package bundle

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"
)

// Spec is bundle.yaml, the description `outpost bundle create` builds a
// bundle from. Paths are relative to the file's directory.
//
//	name: shop
//	version: 1.4.0
//	kind: app
//	platforms: [linux/amd64]
//	images:
//	  - nginx:1.27                          # pulled from its registry
//	  - ref: ghcr.io/acme/api:1.4.0
//	    from: oci:./build/api               # an OCI image layout directory
//	  - ref: registry.example.com/acme/worker:1.4.0
//	    from: docker-archive:./worker.tar   # `docker save` output
//	    platforms: [linux/amd64, linux/arm64]
//	charts: [./charts/shop-1.4.0.tgz]
//	manifests: [./deploy/*.yaml]
//	files:
//	  - path: ./docs/RELEASE.md
//	    as: RELEASE.md
type Spec struct {
	Name              string `json:"name"`
	Version           string `json:"version"`
	Kind              Kind   `json:"kind"`
	Description       string `json:"description,omitempty"`
	MinOutpostVersion string `json:"minOutpostVersion,omitempty"`
	// Platforms selects the platforms of multi-platform images; linux/amd64
	// when empty. "all" keeps every platform.
	Platforms []string    `json:"platforms,omitempty"`
	Images    []ImageSpec `json:"images"`
	Charts    []FileSpec  `json:"charts,omitempty"`
	Manifests []FileSpec  `json:"manifests,omitempty"`
	Files     []FileSpec  `json:"files,omitempty"`

	dir string // directory relative paths start from
}

// ImageSpec is one image: a reference as workloads name it, and optionally
// where to take it from instead of its registry.
type ImageSpec struct {
	Ref string `json:"ref"`
	// From is "oci:DIR" (an OCI image layout), "oci-archive:FILE" (a tar
	// of one) or "docker-archive:FILE" (a `docker save` tarball); empty
	// means the registry of Ref, with credentials from the Docker config
	// (~/.docker/config.json). With an oci: or oci-archive: source, an
	// empty Ref takes every image the layout names in its
	// io.containerd.image.name or org.opencontainers.image.ref.name
	// annotations (how a system bundle packs a system image archive).
	From string `json:"from,omitempty"`
	// Platforms overrides the bundle's platforms for this image.
	Platforms []string `json:"platforms,omitempty"`
}

// UnmarshalJSON accepts a plain reference string as well as an object.
func (s *ImageSpec) UnmarshalJSON(b []byte) error {
	var ref string
	if json.Unmarshal(b, &ref) == nil {
		*s = ImageSpec{Ref: ref}
		return nil
	}
	type plain ImageSpec
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	return dec.Decode((*plain)(s))
}

// FileSpec is a chart, manifest or plain file to carry. Path may be a glob
// for manifests and files; As renames a single file inside the bundle.
type FileSpec struct {
	Path string `json:"path"`
	As   string `json:"as,omitempty"`
}

// UnmarshalJSON accepts a plain path string as well as an object.
func (f *FileSpec) UnmarshalJSON(b []byte) error {
	var p string
	if json.Unmarshal(b, &p) == nil {
		*f = FileSpec{Path: p}
		return nil
	}
	type plain FileSpec
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	return dec.Decode((*plain)(f))
}

// LoadSpec reads bundle.yaml. Unknown keys are errors naming the key.
func LoadSpec(path string) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading bundle spec: %w", err)
	}
	var s Spec
	if err := yaml.UnmarshalStrict(data, &s); err != nil {
		return nil, fmt.Errorf("bundle spec %s: %s", path, strings.TrimPrefix(err.Error(), "error unmarshaling JSON: while decoding JSON: "))
	}
	abs, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("bundle spec %s: %w", path, err)
	}
	s.dir = abs
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("bundle spec %s: %w", path, err)
	}
	return &s, nil
}

// SetDir sets the directory relative paths are resolved against.
func (s *Spec) SetDir(dir string) { s.dir = dir }

// Validate checks the spec's fields.
func (s *Spec) Validate() error {
	if err := ValidateName(s.Name); err != nil {
		return fmt.Errorf("name: %w", err)
	}
	if _, err := ParseVersion(s.Version); err != nil {
		return fmt.Errorf("version: %w", err)
	}
	if s.Kind == "" {
		s.Kind = KindApp
	}
	switch s.Kind {
	case KindApp, KindSystem, KindUpgrade:
	default:
		return fmt.Errorf("kind %q must be app, system or upgrade", s.Kind)
	}
	if s.MinOutpostVersion != "" {
		if _, err := ParseVersion(s.MinOutpostVersion); err != nil {
			return fmt.Errorf("minOutpostVersion: %w", err)
		}
	}
	for _, p := range s.Platforms {
		if _, err := parsePlatform(p); err != nil {
			return err
		}
	}
	for _, img := range s.Images {
		if img.Ref == "" && !strings.HasPrefix(img.From, "oci:") && !strings.HasPrefix(img.From, "oci-archive:") {
			return fmt.Errorf("an image has no ref (only an oci: or oci-archive: source may omit it, to take all its named images)")
		}
		for _, p := range img.Platforms {
			if _, err := parsePlatform(p); err != nil {
				return fmt.Errorf("image %s: %w", img.Ref, err)
			}
		}
		if img.From != "" && !strings.HasPrefix(img.From, "oci:") && !strings.HasPrefix(img.From, "oci-archive:") && !strings.HasPrefix(img.From, "docker-archive:") {
			return fmt.Errorf("image %s: from %q must start with oci:, oci-archive: or docker-archive:", img.Ref, img.From)
		}
	}
	return nil
}

func (s *Spec) path(p string) string {
	if filepath.IsAbs(p) || s.dir == "" {
		return p
	}
	return filepath.Join(s.dir, p)
}
