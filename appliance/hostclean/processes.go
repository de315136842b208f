package hostclean

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/outpost-platform/outpost/appliance/preflight"
	"golang.org/x/sys/unix"
)

// process is what Reset reads about one process from /proc.
type process struct {
	pid, ppid int
	// startTime (clock ticks after boot) tells a process from a later one
	// that reused its pid.
	startTime uint64
	comm      string
	exe       string
	argv      []string
	cgroups   []string // one path per hierarchy
}

// parseStat reads pid, comm, ppid and start time from /proc/<pid>/stat. The
// comm field may itself hold spaces and parentheses, so parsing starts
// after its last ')'.
func parseStat(stat string) (process, error) {
	open, end := strings.IndexByte(stat, '('), strings.LastIndexByte(stat, ')')
	if open < 1 || end < open {
		return process{}, fmt.Errorf("malformed stat %q", stat)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(stat[:open]))
	if err != nil {
		return process{}, fmt.Errorf("malformed stat pid %q", stat[:open])
	}
	// Fields after comm start with field 3 (state); ppid is field 4 and
	// starttime field 22 (proc(5)).
	rest := strings.Fields(stat[end+1:])
	if len(rest) < 20 {
		return process{}, fmt.Errorf("stat of pid %d has %d fields", pid, len(rest)+2)
	}
	ppid, err1 := strconv.Atoi(rest[1])
	start, err2 := strconv.ParseUint(rest[19], 10, 64)
	if err1 != nil || err2 != nil {
		return process{}, fmt.Errorf("malformed stat of pid %d", pid)
	}
	return process{pid: pid, ppid: ppid, startTime: start, comm: stat[open+1 : end]}, nil
}

// parseCgroupFile returns the cgroup paths in /proc/<pid>/cgroup
// ("hierarchy-id:controllers:path" lines).
func parseCgroupFile(text string) []string {
	var paths []string
	for _, line := range strings.Split(text, "\n") {
		if parts := strings.SplitN(line, ":", 3); len(parts) == 3 {
			paths = append(paths, parts[2])
		}
	}
	return paths
}

func readProcess(pid int) (process, bool) {
	dir := "/proc/" + strconv.Itoa(pid)
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return process{}, false
	}
	p, err := parseStat(string(stat))
	if err != nil {
		return process{}, false
	}
	// Kernel threads and zombies have no exe; there is nothing to stop.
	exe, err := os.Readlink(dir + "/exe")
	if err != nil {
		return process{}, false
	}
	p.exe = strings.TrimSuffix(exe, " (deleted)")
	if cmdline, err := os.ReadFile(dir + "/cmdline"); err == nil {
		p.argv = strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	}
	if cg, err := os.ReadFile(dir + "/cgroup"); err == nil {
		p.cgroups = parseCgroupFile(string(cg))
	}
	return p, true
}

func listProcesses() ([]process, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("listing processes: %w", err)
	}
	var procs []process
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ok := readProcess(pid); ok {
			procs = append(procs, p)
		}
	}
	return procs, nil
}

// openFilesWithin reports whether pid has a file open at or below any dir.
func openFilesWithin(pid int, dirs ...string) bool {
	fdDir := "/proc/" + strconv.Itoa(pid) + "/fd"
	fds, err := os.ReadDir(fdDir)
	if err != nil {
		return false
	}
	for _, fd := range fds {
		target, err := os.Readlink(fdDir + "/" + fd.Name())
		if err != nil {
			continue
		}
		for _, d := range dirs {
			if d != "" && within(target, d) {
				return true
			}
		}
	}
	return false
}

// cgroupNameMatches reports whether one cgroup path component is name or a
// systemd unit derived from it (name.slice, name-burstable.slice, name.service).
func cgroupNameMatches(component, name string) bool {
	return component == name || strings.HasPrefix(component, name+".") || strings.HasPrefix(component, name+"-")
}

func (c *cleaner) inOurCgroup(p process) (string, bool) {
	for _, path := range p.cgroups {
		for _, comp := range strings.Split(path, "/") {
			for _, name := range c.opts.CgroupNames {
				if cgroupNameMatches(comp, name) {
					return path, true
				}
			}
		}
	}
	return "", false
}

// mentionsPath reports whether a command-line argument names dir or a path
// below it, alone or as a flag value ("--root=/var/lib/outpost/containerd").
func mentionsPath(arg, dir string) bool {
	for i := strings.Index(arg, dir); i >= 0; {
		end := i + len(dir)
		startOK := i == 0 || arg[i-1] == '=' || arg[i-1] == ':'
		if startOK && (end == len(arg) || arg[end] == '/') {
			return true
		}
		next := strings.Index(arg[i+1:], dir)
		if next < 0 {
			break
		}
		i += 1 + next
	}
	return false
}

// isOurContainerd reports whether p is `outpost containerd` serving this
// data dir: it names the data or run dir in its arguments or has files open
// there (its bolt database lives under <data-dir>/containerd).
func (c *cleaner) isOurContainerd(p process) bool {
	if len(p.argv) < 2 || p.argv[1] != "containerd" ||
		(filepath.Base(p.argv[0]) != "outpost" && filepath.Base(p.exe) != "outpost") {
		return false
	}
	for _, arg := range p.argv[2:] {
		if mentionsPath(arg, c.dataDir) || (c.runDir != "" && mentionsPath(arg, c.runDir)) {
			return true
		}
	}
	return openFilesWithin(p.pid, c.dataDir, c.runDir)
}

// Kill priorities: containerd first so it cannot restart shims, then the
// shims and other binaries from the data dir, then container processes.
const (
	priorityContainerd = iota
	priorityDataDirBinary
	priorityOther
)

// victim is a process Reset stops, with the reason it gives in its report.
type victim struct {
	process
	reason   string
	priority int
}

// selectVictims picks the processes to stop from a snapshot of all of them:
// Outpost's containerd, processes running a binary from the data dir,
// processes in Outpost's cgroups, with Force the data dir lock's holder,
// and every descendant of those. Reset's own process and its ancestors are
// never picked, nor is pid 1.
func (c *cleaner) selectVictims(procs []process, self int, lockHolders map[int]bool) []victim {
	byPID := map[int]process{}
	children := map[int][]int{}
	for _, p := range procs {
		byPID[p.pid] = p
		children[p.ppid] = append(children[p.ppid], p.pid)
	}
	spared := map[int]bool{1: true}
	for pid := self; pid > 0 && !spared[pid]; pid = byPID[pid].ppid {
		spared[pid] = true
		if _, ok := byPID[pid]; !ok {
			break
		}
	}

	chosen := map[int]victim{}
	var queue []int
	for _, p := range procs {
		if spared[p.pid] {
			continue
		}
		v := victim{process: p, priority: priorityOther}
		switch {
		case c.isOurContainerd(p):
			v.reason, v.priority = "outpost containerd of "+c.dataDir, priorityContainerd
		case within(p.exe, c.dataDir):
			v.reason, v.priority = "runs "+p.exe, priorityDataDirBinary
		case lockHolders[p.pid]:
			v.reason = "holds the data dir lock"
		default:
			path, ok := c.inOurCgroup(p)
			if !ok {
				continue
			}
			v.reason = "in cgroup " + path
		}
		chosen[p.pid] = v
		queue = append(queue, p.pid)
	}
	for len(queue) > 0 {
		parent := queue[0]
		queue = queue[1:]
		for _, pid := range children[parent] {
			if _, done := chosen[pid]; done || spared[pid] {
				continue
			}
			chosen[pid] = victim{process: byPID[pid], priority: priorityOther,
				reason: fmt.Sprintf("child of %d (%s)", parent, byPID[parent].comm)}
			queue = append(queue, pid)
		}
	}

	victims := make([]victim, 0, len(chosen))
	for _, v := range chosen {
		victims = append(victims, v)
	}
	sort.Slice(victims, func(i, j int) bool {
		if victims[i].priority != victims[j].priority {
			return victims[i].priority < victims[j].priority
		}
		return victims[i].pid < victims[j].pid
	})
	return victims
}

// lockHolders returns the pids that have the data dir lock file open; only
// a forced reset stops them.
func (c *cleaner) lockHolders(procs []process, self int) map[int]bool {
	holders := map[int]bool{}
	if !c.opts.Force {
		return holders
	}
	lockFile := filepath.Join(c.dataDir, preflight.LockFileName)
	for _, p := range procs {
		if p.pid != self && openFilesWithin(p.pid, lockFile) {
			holders[p.pid] = true
		}
	}
	return holders
}

// maxKillRounds bounds how often Reset rescans for processes that appeared
// while it was killing (a shim starting a container, say).
const maxKillRounds = 5

// exitWait is how long Reset waits for killed processes to be gone before
// it unmounts what they may still hold.
const exitWait = 10 * time.Second

func (c *cleaner) stopProcesses(ctx context.Context) error {
	self := os.Getpid()
	for round := 0; round < maxKillRounds; round++ {
		procs, err := listProcesses()
		if err != nil {
			return fmt.Errorf("stopping processes: %w", err)
		}
		victims := c.selectVictims(procs, self, c.lockHolders(procs, self))
		if len(victims) == 0 {
			return nil
		}
		var pending []*pidWaiter
		var errs []error
		for _, v := range victims {
			w, err := kill(v.process)
			if err != nil {
				errs = append(errs, fmt.Errorf("killing %d (%s): %w", v.pid, v.comm, err))
				continue
			}
			if w != nil {
				c.rep.add("killed process", "%d %s (%s)", v.pid, v.comm, v.reason)
				pending = append(pending, w)
			}
		}
		if err := waitExited(ctx, pending, exitWait); err != nil {
			errs = append(errs, err)
		}
		if len(errs) > 0 {
			return fmt.Errorf("stopping processes: %w", errors.Join(errs...))
		}
	}
	return fmt.Errorf("stopping processes: new ones kept appearing after %d rounds", maxKillRounds)
}

// pidWaiter waits for one killed process to exit.
type pidWaiter struct {
	pid       int
	startTime uint64
	pidfd     int // -1 without pidfd support
}

// kill sends SIGKILL to p, through a pidfd when the kernel has them so that
// a pid reused since the scan is never hit. It returns nil, nil when p is
// already gone.
func kill(p process) (*pidWaiter, error) {
	fd, err := unix.PidfdOpen(p.pid, 0)
	switch {
	case errors.Is(err, unix.ESRCH):
		return nil, nil
	case errors.Is(err, unix.ENOSYS):
		fd = -1
	case err != nil:
		return nil, fmt.Errorf("pidfd_open: %w", err)
	}
	// With the pidfd open, checking the start time proves it refers to the
	// process that was scanned.
	if cur, ok := readProcess(p.pid); !ok || cur.startTime != p.startTime {
		if fd >= 0 {
			unix.Close(fd)
		}
		return nil, nil
	}
	if fd >= 0 {
		err = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
	} else {
		err = unix.Kill(p.pid, unix.SIGKILL)
	}
	if errors.Is(err, unix.ESRCH) {
		err = nil
	}
	if err != nil {
		if fd >= 0 {
			unix.Close(fd)
		}
		return nil, err
	}
	return &pidWaiter{pid: p.pid, startTime: p.startTime, pidfd: fd}, nil
}

// exited reports whether the process is gone or a zombie.
func (w *pidWaiter) exited() bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(w.pid) + "/stat")
	if err != nil {
		return true
	}
	p, err := parseStat(string(stat))
	if err != nil || p.startTime != w.startTime {
		return true
	}
	end := strings.LastIndexByte(string(stat), ')')
	state := strings.Fields(string(stat[end+1:]))
	return len(state) > 0 && (state[0] == "Z" || state[0] == "X")
}

// waitExited waits until every process has exited (a pidfd turns readable
// when its process exits), up to timeout.
func waitExited(ctx context.Context, waiters []*pidWaiter, timeout time.Duration) error {
	all := slices.Clone(waiters)
	defer func() {
		for _, w := range all {
			if w.pidfd >= 0 {
				unix.Close(w.pidfd)
			}
		}
	}()
	deadline := time.Now().Add(timeout)
	for {
		waiters = slices.DeleteFunc(waiters, (*pidWaiter).exited)
		if len(waiters) == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("waiting for killed processes: %w", err)
		}
		left := time.Until(deadline)
		if left <= 0 {
			var pids []string
			for _, w := range waiters {
				pids = append(pids, strconv.Itoa(w.pid))
			}
			return fmt.Errorf("processes %s did not exit within %s of SIGKILL (stuck in uninterruptible I/O?)",
				strings.Join(pids, ", "), timeout)
		}
		// Sleep on the first pidfd (or briefly without pidfds); the loop
		// rechecks all of them.
		wait := min(left, 100*time.Millisecond)
		if fd := waiters[0].pidfd; fd >= 0 {
			fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			_, _ = unix.Poll(fds, int(wait.Milliseconds())+1)
		} else {
			time.Sleep(wait)
		}
	}
}
