package hostclean

import (
	"github.com/outpost-platform/outpost/appliance/fsutil"

	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// readMounts returns the mount points of this mount namespace in mount
// order, from /proc/self/mountinfo; one point appears once per stacked mount.
func readMounts() ([]string, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("reading mounts: %w", err)
	}
	return fsutil.ParseMountPoints(string(data)), nil
}

// unmountOrder picks the mount points strictly below any root and orders
// them deepest first; among equals, the later-mounted (upper) one first.
func unmountOrder(points []string, roots ...string) []string {
	type entry struct {
		point string
		index int
	}
	var picked []entry
	for i, p := range points {
		for _, r := range roots {
			if below(p, r) {
				picked = append(picked, entry{p, i})
				break
			}
		}
	}
	sort.SliceStable(picked, func(a, b int) bool {
		da, db := strings.Count(picked[a].point, "/"), strings.Count(picked[b].point, "/")
		if da != db {
			return da > db
		}
		return picked[a].index > picked[b].index
	})
	out := make([]string, len(picked))
	for i, e := range picked {
		out[i] = e.point
	}
	return out
}

// maxUnmountRounds bounds the rescans for mounts revealed by unmounting the
// ones stacked over them.
const maxUnmountRounds = 32

// unmountAll unmounts everything below the data and run dirs (the kubelet's
// pod volumes, containerd's task rootfs and sandbox shm mounts), deepest
// first. The dirs themselves stay mounted: they may be the operator's disks.
func (c *cleaner) unmountAll() error {
	for round := 0; round < maxUnmountRounds; round++ {
		points, err := readMounts()
		if err != nil {
			return err
		}
		todo := unmountOrder(points, c.dataDir, c.runDir)
		if len(todo) == 0 {
			return nil
		}
		progress := false
		var errs []error
		for _, p := range todo {
			err := unix.Unmount(p, 0)
			if errors.Is(err, unix.EBUSY) {
				// Something still uses it (an open file of a process we
				// could not stop): detach it so the tree can go.
				err = unix.Unmount(p, unix.MNT_DETACH)
			}
			switch {
			case err == nil:
				c.rep.add("unmounted", "%s", p)
				progress = true
			case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOENT):
				// Gone with a parent detached before it.
			default:
				errs = append(errs, fmt.Errorf("unmounting %s: %w", p, err))
			}
		}
		if !progress {
			return errors.Join(append(errs, fmt.Errorf("mounts remain: %s", strings.Join(todo, ", ")))...)
		}
	}
	return fmt.Errorf("mounts below %s keep reappearing after %d rounds", c.dataDir, maxUnmountRounds)
}
