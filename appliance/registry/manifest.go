package registry

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Media types of the manifests and indexes the registry understands.
const (
	MediaTypeOCIManifest    = ocispec.MediaTypeImageManifest
	MediaTypeOCIIndex       = ocispec.MediaTypeImageIndex
	MediaTypeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
)

// IsIndexMediaType reports whether mt names a multi-platform index.
func IsIndexMediaType(mt string) bool { return mt == MediaTypeOCIIndex || mt == MediaTypeDockerList }

// IsManifestMediaType reports whether mt names a manifest or an index.
func IsManifestMediaType(mt string) bool {
	return IsIndexMediaType(mt) || mt == MediaTypeOCIManifest || mt == MediaTypeDockerManifest
}

// Manifest is the part of an image manifest or index that names other
// content. Docker schema 2 and OCI share this shape.
type Manifest struct {
	SchemaVersion int                  `json:"schemaVersion"`
	MediaType     string               `json:"mediaType,omitempty"`
	Config        *ocispec.Descriptor  `json:"config,omitempty"`
	Layers        []ocispec.Descriptor `json:"layers,omitempty"`
	Manifests     []ocispec.Descriptor `json:"manifests,omitempty"`
	Blobs         []ocispec.Descriptor `json:"blobs,omitempty"` // OCI artifact manifests (withdrawn draft)
}

// ParseManifest decodes a manifest or index. Schema 1 manifests are refused.
func ParseManifest(data []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("parsing manifest: %w", err)
	}
	if m.SchemaVersion != 2 {
		return nil, fmt.Errorf("parsing manifest: schema version %d is not supported (only 2)", m.SchemaVersion)
	}
	return &m, nil
}

// IsIndex reports whether m lists other manifests.
func (m *Manifest) IsIndex() bool {
	return IsIndexMediaType(m.MediaType) || (m.MediaType == "" && m.Config == nil && m.Manifests != nil)
}

// References lists every descriptor m points to: config, layers, blobs and
// child manifests.
func (m *Manifest) References() []ocispec.Descriptor {
	var refs []ocispec.Descriptor
	if m.Config != nil {
		refs = append(refs, *m.Config)
	}
	refs = append(refs, m.Layers...)
	refs = append(refs, m.Blobs...)
	refs = append(refs, m.Manifests...)
	return refs
}

// ImageTree is an image as found in the store: its manifests (the root
// first) and the blobs they reference.
type ImageTree struct {
	Root      ocispec.Descriptor
	Manifests []ocispec.Descriptor // root first, then stored children
	Blobs     []ocispec.Descriptor // configs and layers, each once
	// Missing lists configs and layers that stored manifests reference but
	// the store lacks (or holds with another size).
	Missing []ocispec.Descriptor
	// AbsentChildren lists index entries that are not stored: an index
	// kept for some platforms only is "sparse" on purpose.
	AbsentChildren []ocispec.Descriptor
}

// Size is the number of stored bytes of the image.
func (t *ImageTree) Size() int64 {
	var n int64
	for _, d := range t.Manifests {
		n += d.Size
	}
	for _, d := range t.Blobs {
		n += d.Size
	}
	return n
}

// Digests lists every stored digest of the image.
func (t *ImageTree) Digests() []digest.Digest {
	var ds []digest.Digest
	for _, d := range t.Manifests {
		ds = append(ds, d.Digest)
	}
	for _, d := range t.Blobs {
		ds = append(ds, d.Digest)
	}
	return ds
}

// Platforms lists the os/arch[/variant] of the stored child manifests of
// an index; empty for a single-platform image.
func (t *ImageTree) Platforms() []string {
	var ps []string
	for _, d := range t.Manifests[1:] {
		if d.Platform != nil && d.Platform.OS != "unknown" {
			ps = append(ps, PlatformString(d.Platform))
		}
	}
	return ps
}

// PlatformString formats p as os/arch[/variant].
func PlatformString(p *ocispec.Platform) string {
	if p == nil {
		return ""
	}
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// WalkImage reads the image rooted at the stored manifest root.
func (s *Store) WalkImage(root digest.Digest) (*ImageTree, error) {
	size, ok := s.BlobSize(root)
	if !ok {
		return nil, fmt.Errorf("manifest %s is not stored", root)
	}
	tree := &ImageTree{}
	seen := map[digest.Digest]bool{}
	var walk func(desc ocispec.Descriptor, depth int) error
	walk = func(desc ocispec.Descriptor, depth int) error {
		if depth > 4 {
			return fmt.Errorf("manifest %s: indexes nested too deep", desc.Digest)
		}
		data, err := s.ReadManifest(desc.Digest)
		if err != nil {
			return err
		}
		m, err := ParseManifest(data)
		if err != nil {
			return fmt.Errorf("manifest %s: %w", desc.Digest, err)
		}
		if desc.MediaType == "" {
			desc.MediaType = m.MediaType
		}
		tree.Manifests = append(tree.Manifests, desc)
		for _, child := range m.Manifests {
			if seen[child.Digest] {
				continue
			}
			seen[child.Digest] = true
			if !s.HasBlob(child.Digest, child.Size) {
				tree.AbsentChildren = append(tree.AbsentChildren, child)
				continue
			}
			if err := walk(child, depth+1); err != nil {
				return err
			}
		}
		var blobs []ocispec.Descriptor
		if m.Config != nil {
			blobs = append(blobs, *m.Config)
		}
		blobs = append(blobs, m.Layers...)
		blobs = append(blobs, m.Blobs...)
		for _, b := range blobs {
			if seen[b.Digest] {
				continue
			}
			seen[b.Digest] = true
			if len(b.URLs) > 0 && !s.HasBlob(b.Digest, b.Size) {
				continue // foreign layer: fetched from its URL, never stored
			}
			if !s.HasBlob(b.Digest, b.Size) {
				tree.Missing = append(tree.Missing, b)
				continue
			}
			tree.Blobs = append(tree.Blobs, b)
		}
		return nil
	}
	seen[root] = true
	if err := walk(ocispec.Descriptor{Digest: root, Size: size}, 0); err != nil {
		return nil, err
	}
	tree.Root = tree.Manifests[0]
	return tree, nil
}

// LinkImage makes the image tree visible in repo, and under tag when tag is
// not empty. Blob and manifest links come first, the tag last, so a reader
// that sees the tag finds everything it names. The tree must have no
// missing blobs and its blobs must be durable (see Sync).
func (s *Store) LinkImage(repo, tag string, tree *ImageTree) error {
	if err := ValidateRepository(repo); err != nil {
		return err
	}
	if len(tree.Missing) > 0 {
		return fmt.Errorf("linking %s: blob %s is missing", repo, tree.Missing[0].Digest)
	}
	for _, b := range tree.Blobs {
		if err := writeLink(s.layerLinkPath(repo, b.Digest), b.Digest); err != nil {
			return fmt.Errorf("linking blob %s into %s: %w", b.Digest, repo, err)
		}
	}
	// Children before the root, so the root never names a manifest the
	// repository does not have.
	for _, m := range slices.Backward(tree.Manifests) {
		if err := writeLink(s.revisionLinkPath(repo, m.Digest), m.Digest); err != nil {
			return fmt.Errorf("linking manifest %s into %s: %w", m.Digest, repo, err)
		}
	}
	if tag == "" {
		return nil
	}
	return s.Tag(repo, tag, tree.Root.Digest)
}

// Tag points repo:tag at the manifest d, which repo must already link.
func (s *Store) Tag(repo, tag string, d digest.Digest) error {
	if err := ValidateRepository(repo); err != nil {
		return err
	}
	if err := ValidateTag(tag); err != nil {
		return err
	}
	if !s.HasManifest(repo, d) {
		return fmt.Errorf("tagging %s:%s: manifest %s is not linked in %s", repo, tag, d, repo)
	}
	if err := writeLink(s.tagIndexPath(repo, tag, d), d); err != nil {
		return fmt.Errorf("tagging %s:%s: %w", repo, tag, err)
	}
	if err := writeLink(s.tagCurrentPath(repo, tag), d); err != nil {
		return fmt.Errorf("tagging %s:%s: %w", repo, tag, err)
	}
	return nil
}

// TagDigest returns the digest repo:tag points at.
func (s *Store) TagDigest(repo, tag string) (digest.Digest, error) {
	d, err := readLink(s.tagCurrentPath(repo, tag))
	if isNotExist(err) {
		return "", fmt.Errorf("%s:%s: %w", repo, tag, ErrNotFound)
	}
	return d, err
}

// HasManifest reports whether repo links the manifest d.
func (s *Store) HasManifest(repo string, d digest.Digest) bool {
	_, err := os.Stat(s.revisionLinkPath(repo, d))
	return err == nil && s.hasBlobAnySize(d)
}

func (s *Store) hasBlobAnySize(d digest.Digest) bool {
	_, ok := s.BlobSize(d)
	return ok
}

// repositoryNames lists every repository in the store.
func (s *Store) repositoryNames() ([]string, error) {
	base := filepath.Join(s.root, "repositories")
	var repos []string
	err := filepath.WalkDir(base, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			if isNotExist(err) {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			return nil
		}
		// A repository is a directory with any of distribution's
		// per-repository directories: one that has only uploaded blobs
		// (no manifest yet) counts too, since GC must see its links.
		switch d.Name() {
		case "_manifests", "_layers", "_uploads":
			rel, _ := filepath.Rel(base, filepath.Dir(path))
			if r := filepath.ToSlash(rel); len(repos) == 0 || repos[len(repos)-1] != r {
				repos = append(repos, r)
			}
			return filepath.SkipDir
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing repositories: %w", err)
	}
	slices.Sort(repos)
	return repos, nil
}

// tags lists the tags of repo.
func (s *Store) tags(repo string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(s.repoDir(repo), "_manifests", "tags"))
	if isNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var tags []string
	for _, e := range entries {
		if e.IsDir() {
			tags = append(tags, e.Name())
		}
	}
	return tags, nil
}

// revisions lists the manifests linked in repo.
func (s *Store) revisions(repo string) ([]digest.Digest, error) {
	return listDigestDirs(filepath.Join(s.repoDir(repo), "_manifests", "revisions"))
}

// layers lists the blobs linked in repo.
func (s *Store) layers(repo string) ([]digest.Digest, error) {
	return listDigestDirs(filepath.Join(s.repoDir(repo), "_layers"))
}

// listDigestDirs lists <dir>/<algorithm>/<hex> entries as digests.
func listDigestDirs(dir string) ([]digest.Digest, error) {
	algs, err := os.ReadDir(dir)
	if isNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ds []digest.Digest
	for _, alg := range algs {
		if !alg.IsDir() {
			continue
		}
		entries, err := os.ReadDir(filepath.Join(dir, alg.Name()))
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			d := digest.NewDigestFromEncoded(digest.Algorithm(alg.Name()), e.Name())
			if e.IsDir() && d.Validate() == nil {
				ds = append(ds, d)
			}
		}
	}
	return ds, nil
}
