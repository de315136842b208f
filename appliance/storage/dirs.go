package storage

import (
	"github.com/outpost-platform/outpost/appliance/fsutil"

	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// createVolumeDir creates a volume's directory, or accepts an existing one
// from an earlier attempt, and makes it writable by everyone: pods that run
// as a non-root user must be able to write their volume, as with rancher's
// local-path-provisioner. Its parent must exist.
func createVolumeDir(path string) error {
	err := os.Mkdir(path, 0o777)
	if errors.Is(err, fs.ErrExist) {
		info, statErr := os.Lstat(path)
		if statErr != nil {
			return fmt.Errorf("checking volume dir: %w", statErr)
		}
		if !info.IsDir() {
			return fmt.Errorf("creating volume dir %s: exists and is not a directory (%s)", path, info.Mode().Type())
		}
	} else if err != nil {
		return fmt.Errorf("creating volume dir: %w", err)
	}
	// Mkdir's mode is filtered by the process umask.
	if err := os.Chmod(path, 0o777); err != nil {
		return fmt.Errorf("making volume dir writable: %w", err)
	}
	return nil
}

// removeVolumeDir removes a volume's directory and everything in it. A
// directory already gone is not an error. It refuses while anything is
// mounted at or below path, so that a disk an administrator mounted into a
// volume is not emptied. Symbolic links a pod left in its volume are
// removed, never followed.
func removeVolumeDir(path string) error {
	// Mount points are listed by their real path; the data dir may be
	// reached through a symlink.
	real, err := filepath.EvalSymlinks(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("resolving volume dir: %w", err)
	}
	mountinfo, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return fmt.Errorf("reading mounts before removing volume dir: %w", err)
	}
	for _, point := range fsutil.ParseMountPoints(string(mountinfo)) {
		if within(point, real) {
			return fmt.Errorf("removing volume dir %s: %s is a mount point; unmount it first", path, point)
		}
	}
	if err := os.RemoveAll(path); err != nil {
		return fmt.Errorf("removing volume dir: %w", err)
	}
	return nil
}

// within reports whether path is dir or below it; both must be clean.
func within(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, dir+string(filepath.Separator))
}
