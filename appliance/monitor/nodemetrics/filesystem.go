package nodemetrics

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sys/unix"
)

// collectFilesystems reports the host's real filesystems, read from the
// mount table of PID 1 so that the host's view is used even if Outpost runs
// in its own mount namespace.
func (c *Collector) collectFilesystems(ch chan<- prometheus.Metric) error {
	mounts, err := c.proc.GetProcMounts(1)
	if err != nil {
		if mounts, err = c.proc.GetMounts(); err != nil {
			return fmt.Errorf("reading mounts: %w", err)
		}
	}
	seen := map[string]bool{}
	var firstErr error
	for _, m := range mounts {
		if c.ignoredFSTypes.MatchString(m.FSType) || c.ignoredMountPoints.MatchString(m.MountPoint) {
			continue
		}
		// A device mounted twice (bind mounts) is one filesystem.
		key := m.Source + "\x00" + m.MountPoint
		if seen[key] {
			continue
		}
		seen[key] = true
		st, err := c.statfs(filepath.Join(c.rootPrefix(), m.MountPoint))
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		_, ro := m.Options["ro"]
		bs := float64(st.Bsize)
		labels := []string{m.Source, m.FSType, m.MountPoint}
		gauge(ch, c.d.fsSize, float64(st.Blocks)*bs, labels...)
		gauge(ch, c.d.fsFree, float64(st.Bfree)*bs, labels...)
		gauge(ch, c.d.fsAvail, float64(st.Bavail)*bs, labels...)
		gauge(ch, c.d.fsFiles, float64(st.Files), labels...)
		gauge(ch, c.d.fsFilesFree, float64(st.Ffree), labels...)
		gauge(ch, c.d.fsReadonly, boolFloat(ro), labels...)
	}
	return firstErr
}

// rootPrefix is "/" for the real /proc; with a fixture procfs the mount
// points are looked up below the fixture's "rootfs" directory.
func (c *Collector) rootPrefix() string {
	if c.opts.ProcPath == "/proc" {
		return "/"
	}
	return filepath.Join(filepath.Dir(c.opts.ProcPath), "rootfs")
}

// statfs runs statfs with a timeout. A mount that does not answer is
// marked stuck and skipped until its pending call returns, so one dead NFS
// server cannot pile up goroutines or stall scrapes.
func (c *Collector) statfs(path string) (*unix.Statfs_t, error) {
	c.mu.Lock()
	if c.stuck[path] {
		c.mu.Unlock()
		return nil, fmt.Errorf("statfs %s: still hanging from an earlier call", path)
	}
	c.mu.Unlock()
	type result struct {
		st  unix.Statfs_t
		err error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		r.err = unix.Statfs(path, &r.st)
		done <- r
		c.mu.Lock()
		delete(c.stuck, path)
		c.mu.Unlock()
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return nil, fmt.Errorf("statfs %s: %w", path, r.err)
		}
		return &r.st, nil
	case <-time.After(c.opts.StatfsTimeout):
		c.mu.Lock()
		c.stuck[path] = true
		c.mu.Unlock()
		c.logger.Warn("statfs of a mount point hangs; skipping it until it answers", "path", path)
		return nil, fmt.Errorf("statfs %s: timed out after %s", path, c.opts.StatfsTimeout)
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
