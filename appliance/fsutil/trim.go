package fsutil

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// TrimExecutablePages drops this process's resident pages of its own
// program file (code and read-only data, never written), so that pages
// touched once at start — package initialisation of every linked
// component, the embedded runtime binaries and system images read while
// they were extracted — stop counting as the process's memory. Pages in use
// fault back in from the page cache. Only mappings of the executable that
// are read-only and hold no dirty page are dropped, so no data can be lost.
// It returns the bytes that were resident in the dropped mappings.
func TrimExecutablePages() (int64, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	if exe, err = filepath.EvalSymlinks(exe); err != nil {
		return 0, err
	}
	mappings, err := executableMappings(exe)
	if err != nil {
		return 0, err
	}
	var dropped int64
	for _, m := range mappings {
		if m.dirty != 0 || (m.perms != "r--p" && m.perms != "r-xp") {
			continue
		}
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, m.start, m.end-m.start, unix.MADV_DONTNEED); errno != 0 {
			return dropped, fmt.Errorf("dropping pages of %s: %w", exe, errno)
		}
		dropped += m.rss
	}
	return dropped, nil
}

// TrimExecutablePagesAfter calls TrimExecutablePages once, after delay
// (when start-up is over), unless ctx ends first; report receives the
// outcome.
func TrimExecutablePagesAfter(ctx context.Context, delay time.Duration, report func(dropped int64, err error)) {
	go func() {
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		report(TrimExecutablePages())
	}()
}

type mapping struct {
	start, end uintptr
	perms      string
	rss, dirty int64
}

// executableMappings reads /proc/self/smaps for the mappings of path.
func executableMappings(path string) ([]mapping, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []mapping
	var cur *mapping
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if addr := fields[0]; strings.Contains(addr, "-") && !strings.HasSuffix(addr, ":") {
			// A mapping header: "start-end perms offset dev inode [path]".
			cur = nil
			if len(fields) < 6 || strings.Join(fields[5:], " ") != path {
				continue
			}
			lo, hi, _ := strings.Cut(addr, "-")
			start, err1 := strconv.ParseUint(lo, 16, 64)
			end, err2 := strconv.ParseUint(hi, 16, 64)
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("parsing /proc/self/smaps line %q", sc.Text())
			}
			out = append(out, mapping{start: uintptr(start), end: uintptr(end), perms: fields[1]})
			cur = &out[len(out)-1]
			continue
		}
		if cur == nil || len(fields) < 2 {
			continue
		}
		kb, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			continue
		}
		switch fields[0] {
		case "Rss:":
			cur.rss = kb << 10
		case "Private_Dirty:", "Shared_Dirty:":
			cur.dirty += kb << 10
		}
	}
	return out, sc.Err()
}
