package hostclean

import (
	"github.com/outpost-platform/outpost/appliance/fsutil"

	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// cgroupMounts returns the mount points of every cgroup hierarchy: each v1
// controller (and named hierarchies such as name=systemd) and the v2
// unified one.
func cgroupMounts() ([]string, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("reading mounts: %w", err)
	}
	seen := map[string]bool{}
	var points []string
	for _, line := range strings.Split(string(data), "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 5 || len(g) < 1 || (g[0] != "cgroup" && g[0] != "cgroup2") {
			continue
		}
		if p := fsutil.UnescapeOctal(f[4]); !seen[p] {
			seen[p] = true
			points = append(points, p)
		}
	}
	return points, nil
}

// cgroupTree is one cgroup named by Options.CgroupNames and every cgroup
// inside it, deepest first: a cgroup can only be removed once its children are.
type cgroupTree struct {
	top  string
	dirs []string
}

// ourCgroups finds the cgroup trees below root whose top is named by names;
// trees nested in another tree belong to it.
func ourCgroups(root string, names []string) ([]cgroupTree, error) {
	var trees []cgroupTree
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed while walking
			}
			return err
		}
		if !d.IsDir() || path == root {
			return nil
		}
		for _, n := range names {
			if !cgroupNameMatches(d.Name(), n) {
				continue
			}
			tree := cgroupTree{top: path}
			err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
				if err == nil && d.IsDir() {
					tree.dirs = append(tree.dirs, p)
				}
				return nil
			})
			if err != nil {
				return err
			}
			sort.SliceStable(tree.dirs, func(i, j int) bool {
				return strings.Count(tree.dirs[i], "/") > strings.Count(tree.dirs[j], "/")
			})
			trees = append(trees, tree)
			return fs.SkipDir
		}
		return nil
	})
	return trees, err
}

// removeCgroups removes Outpost's cgroups (kubepods...) in every hierarchy.
// Their processes were stopped first; a cgroup still holding one fails with
// EBUSY and is reported.
func (c *cleaner) removeCgroups() error {
	if len(c.opts.CgroupNames) == 0 {
		return nil
	}
	roots, err := cgroupMounts()
	if err != nil {
		return err
	}
	var errs []error
	for _, root := range roots {
		trees, err := ourCgroups(root, c.opts.CgroupNames)
		if err != nil {
			errs = append(errs, fmt.Errorf("listing cgroups in %s: %w", root, err))
			continue
		}
		for _, t := range trees {
			failed := false
			for _, d := range t.dirs {
				// rmdir, not RemoveAll: a cgroup's files cannot be deleted,
				// only the empty cgroup as a whole.
				if err := unix.Rmdir(d); err != nil && !errors.Is(err, unix.ENOENT) {
					errs = append(errs, fmt.Errorf("removing cgroup %s: %w", d, err))
					failed = true
					break
				}
			}
			if !failed {
				c.rep.add("removed cgroup", "%s (%d in all)", t.top, len(t.dirs))
			}
		}
	}
	return errors.Join(errs...)
}
