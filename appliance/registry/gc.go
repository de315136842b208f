package registry

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/opencontainers/go-digest"
)

// GCOptions tune one garbage collection.
type GCOptions struct {
	// RemoveUntagged also unlinks manifests no tag reaches (older than
	// the grace period) before collecting blobs. Off by default: images
	// pushed by digest are kept.
	RemoveUntagged bool `json:"removeUntagged,omitempty"`
	// DryRun reports what would be deleted and deletes nothing.
	DryRun bool `json:"dryRun,omitempty"`
}

// GCResult reports what a garbage collection did.
type GCResult struct {
	BlobsDeleted     int           `json:"blobsDeleted"`
	BytesFreed       int64         `json:"bytesFreed"`
	ManifestsRemoved int           `json:"manifestsRemoved"`
	BlobsInUse       int           `json:"blobsInUse"`
	BlobsProtected   int           `json:"blobsProtected"` // unreferenced but young, pinned or touched
	Duration         time.Duration `json:"duration"`
	DryRun           bool          `json:"dryRun,omitempty"`
}

// GC deletes blobs that no manifest references. It runs while the registry
// serves pushes and imports and never deletes a blob that is
//   - referenced by a manifest stored in any repository (mark phase),
//   - pinned by a running import,
//   - named by any request since this collection started (a client that
//     found a blob present will reference it without uploading it), or
//   - younger than the grace period (an upload whose manifest is not
//     pushed yet).
//
// Manifest pushes are parsed while a collection runs and their blobs count
// as named. Only one collection runs at a time.
func (reg *Registry) GC(ctx context.Context, opts GCOptions) (GCResult, error) {
	s := reg.store
	s.gcMu.Lock()
	defer s.gcMu.Unlock()
	start := time.Now()
	res := GCResult{DryRun: opts.DryRun}
	// Wait for manifest pushes in flight; from here on they report.
	reg.gcGate.Lock()
	s.mu.Lock()
	s.touched = map[digest.Digest]bool{}
	s.mu.Unlock()
	reg.gcGate.Unlock()
	defer func() {
		s.mu.Lock()
		s.touched = nil
		s.mu.Unlock()
	}()
	cutoff := start.Add(-reg.cfg.GCGracePeriod)

	marked, recentlyLinked, removed, err := reg.mark(ctx, opts, cutoff)
	if err != nil {
		reg.metrics.gcRuns.WithLabelValues("error").Inc()
		return res, err
	}
	res.ManifestsRemoved = removed
	res.BlobsInUse = len(marked)
	if reg.afterMark != nil {
		reg.afterMark()
	}

	blobsDir := filepath.Join(s.root, "blobs", "sha256")
	prefixes, err := os.ReadDir(blobsDir)
	if err != nil {
		reg.metrics.gcRuns.WithLabelValues("error").Inc()
		return res, fmt.Errorf("collecting garbage: %w", err)
	}
	for _, p := range prefixes {
		entries, err := os.ReadDir(filepath.Join(blobsDir, p.Name()))
		if err != nil {
			continue
		}
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				return res, fmt.Errorf("collecting garbage: %w", err)
			}
			d := digest.NewDigestFromEncoded(digest.SHA256, e.Name())
			if d.Validate() != nil || marked[d] {
				continue
			}
			fi, err := os.Stat(s.blobDataPath(d))
			if err != nil {
				continue // not a complete blob
			}
			// Young: written, or linked into a repository (a re-upload of
			// content already stored only adds a link), within the grace
			// period.
			if fi.ModTime().After(cutoff) || recentlyLinked[d] {
				res.BlobsProtected++
				continue
			}
			s.mu.Lock()
			if s.pins[d] > 0 || s.touched[d] {
				s.mu.Unlock()
				res.BlobsProtected++
				continue
			}
			if !opts.DryRun {
				err = os.RemoveAll(s.blobDir(d))
			}
			s.mu.Unlock()
			if errors.Is(err, syscall.ENOTEMPTY) {
				// Written again while being deleted: in use after all.
				res.BlobsProtected++
				continue
			}
			if err != nil {
				reg.metrics.gcRuns.WithLabelValues("error").Inc()
				return res, fmt.Errorf("collecting garbage: deleting blob %s: %w", d, err)
			}
			res.BlobsDeleted++
			res.BytesFreed += fi.Size()
		}
	}
	s.cleanStaging()
	res.Duration = time.Since(start)
	reg.metrics.gcRuns.WithLabelValues("ok").Inc()
	if !opts.DryRun {
		reg.metrics.gcDeletedBlobs.Add(float64(res.BlobsDeleted))
		reg.metrics.gcFreedBytes.Add(float64(res.BytesFreed))
	}
	reg.logger.Info("registry garbage collection finished", "deleted_blobs", res.BlobsDeleted,
		"freed_bytes", res.BytesFreed, "removed_manifests", res.ManifestsRemoved,
		"protected_blobs", res.BlobsProtected, "dry_run", opts.DryRun, "duration", res.Duration)
	return res, nil
}

// mark returns every blob that stored manifests reference (manifests
// included) and the blobs linked into a repository after cutoff. With
// RemoveUntagged it first unlinks old untagged manifests.
func (reg *Registry) mark(ctx context.Context, opts GCOptions, cutoff time.Time) (marked, recentlyLinked map[digest.Digest]bool, removed int, err error) {
	s := reg.store
	marked = map[digest.Digest]bool{}
	recentlyLinked = map[digest.Digest]bool{}
	repos, err := s.repositoryNames()
	if err != nil {
		return nil, nil, 0, fmt.Errorf("collecting garbage: %w", err)
	}
	markTree := func(repo string, root digest.Digest) error {
		if _, ok := s.BlobSize(root); !ok {
			return nil // a dangling link: nothing to keep
		}
		tree, err := s.WalkImage(root)
		if err != nil {
			// Without its references known, no blob can be proven
			// unused: stop rather than guess.
			return fmt.Errorf("collecting garbage: manifest %s in %s cannot be read (%v); remove it with outpost images rm %s@%s and run gc again", root, repo, err, repo, root)
		}
		for _, d := range tree.Digests() {
			marked[d] = true
		}
		for _, d := range tree.Missing {
			marked[d.Digest] = true
		}
		return nil
	}
	for _, repo := range repos {
		if err := ctx.Err(); err != nil {
			return nil, nil, 0, err
		}
		tags, err := s.tags(repo)
		if err != nil {
			return nil, nil, 0, fmt.Errorf("collecting garbage: %w", err)
		}
		revs, err := s.revisions(repo)
		if err != nil {
			return nil, nil, 0, fmt.Errorf("collecting garbage: %w", err)
		}
		layers, err := s.layers(repo)
		if err != nil {
			return nil, nil, 0, fmt.Errorf("collecting garbage: %w", err)
		}
		for _, d := range layers {
			if fi, err := os.Stat(s.layerLinkPath(repo, d)); err == nil && fi.ModTime().After(cutoff) {
				recentlyLinked[d] = true
			}
		}
		// Roots: every tag, and every manifest that is not removable.
		var roots []digest.Digest
		for _, tag := range tags {
			if d, err := s.TagDigest(repo, tag); err == nil {
				roots = append(roots, d)
			}
		}
		for _, d := range revs {
			if !opts.RemoveUntagged || !reg.removableRevision(repo, d, cutoff) {
				roots = append(roots, d)
			}
		}
		reached := map[digest.Digest]bool{}
		for _, root := range roots {
			if err := markTree(repo, root); err != nil {
				return nil, nil, 0, err
			}
			reached[root] = true
			if tree, err := s.WalkImage(root); err == nil {
				for _, m := range tree.Manifests {
					reached[m.Digest] = true
				}
			}
		}
		for _, d := range revs {
			if reached[d] {
				continue
			}
			// Only RemoveUntagged leaves revisions unreached.
			s.mu.Lock()
			inUse := s.touched[d] || s.pins[d] > 0
			if !inUse {
				if !opts.DryRun {
					err = os.RemoveAll(filepath.Dir(s.revisionLinkPath(repo, d)))
				}
				removed++
			}
			s.mu.Unlock()
			if inUse {
				if err := markTree(repo, d); err != nil {
					return nil, nil, 0, err
				}
			}
			if err != nil {
				return nil, nil, 0, fmt.Errorf("collecting garbage: unlinking manifest %s from %s: %w", d, repo, err)
			}
		}
	}
	return marked, recentlyLinked, removed, nil
}

// removableRevision reports whether an untagged manifest is old enough to
// unlink: it was linked before the grace period and no request named it.
func (reg *Registry) removableRevision(repo string, d digest.Digest, cutoff time.Time) bool {
	fi, err := os.Stat(reg.store.revisionLinkPath(repo, d))
	if err != nil || fi.ModTime().After(cutoff) {
		return false
	}
	reg.store.mu.Lock()
	defer reg.store.mu.Unlock()
	return !reg.store.touched[d] && reg.store.pins[d] == 0
}
