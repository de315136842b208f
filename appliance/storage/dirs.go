package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
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
	for _, point := range parseMountPoints(string(mountinfo)) {
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

// parseMountPoints returns the mount point (field 5) of each
// /proc/self/mountinfo line, with the kernel's octal escapes (\040 for a
// space) decoded.
func parseMountPoints(mountinfo string) []string {
	var points []string
	for line := range strings.SplitSeq(mountinfo, "\n") {
		fields := strings.Fields(line)
		if len(fields) < 5 {
			continue
		}
		points = append(points, unescapeOctal(fields[4]))
	}
	return points
}

func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
