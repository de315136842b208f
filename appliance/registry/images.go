package registry

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/outpost-platform/outpost/appliance/state"
)

// Sources records where each tag came from ("bundle shop 1.4.0", "push by
// alice"), so that images can be traced back to a delivery.
type Sources struct {
	db     *state.DB
	logger *slog.Logger
}

// NewSources opens the source records in db, creating tables if needed.
func NewSources(ctx context.Context, db *state.DB, logger *slog.Logger) (*Sources, error) {
	if err := Migrate(ctx, db); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Sources{db: db, logger: logger}, nil
}

// Record notes that repo:tag now points at d because of source. A failure
// is logged, not returned: provenance must never fail a push.
func (s *Sources) Record(ctx context.Context, repo, tag string, d digest.Digest, source string) {
	_, err := s.db.ExecContext(ctx, `INSERT INTO registry_image_sources(repository, tag, digest, source, recorded_at)
		VALUES(?, ?, ?, ?, ?) ON CONFLICT(repository, tag) DO UPDATE SET digest=excluded.digest,
		source=excluded.source, recorded_at=excluded.recorded_at`,
		repo, tag, d.String(), source, time.Now().UTC().Format(time.RFC3339))
	if err != nil {
		s.logger.Warn("recording image source failed", "repository", repo, "tag", tag, "error", err)
	}
}

// lookup returns the source of repo:tag if it was recorded for digest d.
func (s *Sources) lookup(ctx context.Context, repo, tag string, d digest.Digest) string {
	var src string
	err := s.db.QueryRowContext(ctx, `SELECT source FROM registry_image_sources WHERE repository=? AND tag=? AND digest=?`,
		repo, tag, d.String()).Scan(&src)
	if err != nil {
		return ""
	}
	return src
}

func (s *Sources) forget(ctx context.Context, repo, tag string) {
	s.db.ExecContext(ctx, `DELETE FROM registry_image_sources WHERE repository=? AND tag=?`, repo, tag)
}

// Image is one tag (or untagged manifest) of the registry.
type Image struct {
	Repository string        `json:"repository"`
	Tag        string        `json:"tag,omitempty"`
	Digest     digest.Digest `json:"digest"`
	MediaType  string        `json:"mediaType,omitempty"`
	// Size counts the stored manifests, configs and layers.
	Size      int64    `json:"size"`
	Platforms []string `json:"platforms,omitempty"`
	// Source says what brought the tag: "bundle <name> <version>" or
	// "push by <user>"; empty when unknown.
	Source string `json:"source,omitempty"`
}

// Images lists every tag of every repository, sorted by repository and tag.
func (reg *Registry) Images(ctx context.Context) ([]Image, error) {
	repos, err := reg.store.repositoryNames()
	if err != nil {
		return nil, err
	}
	var images []Image
	for _, repo := range repos {
		tags, err := reg.store.tags(repo)
		if err != nil {
			return nil, fmt.Errorf("listing tags of %s: %w", repo, err)
		}
		slices.Sort(tags)
		for _, tag := range tags {
			d, err := reg.store.TagDigest(repo, tag)
			if err != nil {
				continue // a tag being deleted
			}
			img := Image{Repository: repo, Tag: tag, Digest: d}
			if tree, err := reg.store.WalkImage(d); err == nil {
				img.MediaType = tree.Root.MediaType
				img.Size = tree.Size()
				img.Platforms = tree.Platforms()
			}
			if reg.sources != nil {
				img.Source = reg.sources.lookup(ctx, repo, tag, d)
			}
			images = append(images, img)
		}
	}
	return images, nil
}

// RemoveImage removes an image by reference: "repo:tag" removes the tag,
// "repo@digest" removes the manifest and every tag pointing at it. The
// reference may be an original upstream reference (nginx:1.27) or a local
// repository name (docker.io/library/nginx:1.27). Manifests no remaining tag
// reaches are unlinked, and blobs no remaining manifest uses are unlinked
// from the repository; garbage collection then frees their space.
func (reg *Registry) RemoveImage(ctx context.Context, ref string) ([]Image, error) {
	target, err := reg.resolveLocal(ref)
	if err != nil {
		return nil, err
	}
	reg.gcGate.Lock() // no GC and no manifest push while the repository changes
	defer reg.gcGate.Unlock()

	s := reg.store
	tags, err := s.tags(target.Repository)
	if err != nil {
		return nil, fmt.Errorf("removing %s: %w", ref, err)
	}
	var removed []Image
	var remainingRoots []digest.Digest
	for _, tag := range tags {
		d, err := s.TagDigest(target.Repository, tag)
		if err != nil {
			continue
		}
		match := (target.Tag != "" && tag == target.Tag) || (target.Tag == "" && d == target.Digest)
		if !match {
			remainingRoots = append(remainingRoots, d)
			continue
		}
		if err := os.RemoveAll(s.tagDir(target.Repository, tag)); err != nil {
			return removed, fmt.Errorf("removing %s:%s: %w", target.Repository, tag, err)
		}
		if reg.sources != nil {
			reg.sources.forget(ctx, target.Repository, tag)
		}
		removed = append(removed, Image{Repository: target.Repository, Tag: tag, Digest: d})
	}
	if target.Tag != "" && len(removed) == 0 {
		return nil, fmt.Errorf("image %s: %w", ref, ErrNotFound)
	}
	if target.Tag == "" {
		if !s.HasManifest(target.Repository, target.Digest) && len(removed) == 0 {
			return nil, fmt.Errorf("image %s: %w", ref, ErrNotFound)
		}
		if len(removed) == 0 {
			removed = append(removed, Image{Repository: target.Repository, Digest: target.Digest})
		}
	}
	if err := reg.pruneRepository(target.Repository, remainingRoots, removed); err != nil {
		return removed, fmt.Errorf("removing %s: %w", ref, err)
	}
	return removed, nil
}

// pruneRepository unlinks the manifests of removed images that no remaining
// tag reaches, then the blobs no remaining manifest of the repository uses,
// and drops the repository when nothing is left in it.
func (reg *Registry) pruneRepository(repo string, remainingRoots []digest.Digest, removed []Image) error {
	s := reg.store
	keepManifests := map[digest.Digest]bool{}
	keepBlobs := map[digest.Digest]bool{}
	keepTree := func(root digest.Digest) {
		if tree, err := s.WalkImage(root); err == nil {
			for _, m := range tree.Manifests {
				keepManifests[m.Digest] = true
			}
			for _, b := range tree.Blobs {
				keepBlobs[b.Digest] = true
			}
		} else {
			keepManifests[root] = true
		}
	}
	for _, d := range remainingRoots {
		keepTree(d)
	}
	// Drop the manifests of the removed images, then keep every other
	// manifest the repository still links (pushed by digest, untagged).
	drop := map[digest.Digest]bool{}
	for _, img := range removed {
		if tree, err := s.WalkImage(img.Digest); err == nil {
			for _, m := range tree.Manifests {
				drop[m.Digest] = true
			}
		} else {
			drop[img.Digest] = true
		}
	}
	revs, err := s.revisions(repo)
	if err != nil {
		return err
	}
	for _, d := range revs {
		if drop[d] && !keepManifests[d] {
			if err := os.RemoveAll(filepath.Dir(s.revisionLinkPath(repo, d))); err != nil {
				return err
			}
			continue
		}
		if !keepManifests[d] {
			keepTree(d)
		}
	}
	layers, err := s.layers(repo)
	if err != nil {
		return err
	}
	for _, d := range layers {
		if !keepBlobs[d] {
			if err := os.RemoveAll(filepath.Dir(s.layerLinkPath(repo, d))); err != nil {
				return err
			}
		}
	}
	if len(keepManifests) == 0 {
		tags, _ := s.tags(repo)
		if len(tags) == 0 {
			return removeRepositoryDir(filepath.Join(s.root, "repositories"), s.repoDir(repo))
		}
	}
	return nil
}

// removeRepositoryDir removes dir and then each parent up to base that
// became empty (another repository may share a prefix).
func removeRepositoryDir(base, dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	for p := filepath.Dir(dir); strings.HasPrefix(p, base+string(filepath.Separator)); p = filepath.Dir(p) {
		if os.Remove(p) != nil {
			break // not empty
		}
	}
	return nil
}

// resolveLocal turns a user's image reference into a local repository and
// tag or digest. A reference whose repository exists locally as written is
// taken as local (docker.io/library/nginx:1.27 or a pushed "team/app:1");
// otherwise it is resolved as an upstream reference (nginx:1.27).
func (reg *Registry) resolveLocal(ref string) (ImageRef, error) {
	name, tag, dgst := splitLocalRef(ref)
	if name != "" && ValidateRepository(name) == nil {
		if _, err := os.Stat(filepath.Join(reg.store.repoDir(name), "_manifests")); err == nil {
			out := ImageRef{Original: ref, Repository: name, Tag: tag}
			if dgst != "" {
				out.Digest = digest.Digest(dgst)
				if err := out.Digest.Validate(); err != nil {
					return ImageRef{}, fmt.Errorf("image reference %q: %w", ref, err)
				}
				out.Tag = ""
			} else if tag == "" {
				out.Tag = "latest"
			}
			return out, nil
		}
	}
	r, err := ResolveRef(ref)
	if err != nil {
		return ImageRef{}, err
	}
	if r.Digest != "" {
		r.Tag = ""
	}
	return r, nil
}

// splitLocalRef splits "name[:tag][@digest]" without normalizing the name.
func splitLocalRef(ref string) (name, tag, dgst string) {
	name = ref
	if i := strings.Index(name, "@"); i >= 0 {
		name, dgst = name[:i], name[i+1:]
	}
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		name, tag = name[:i], name[i+1:]
	}
	return name, tag, dgst
}
