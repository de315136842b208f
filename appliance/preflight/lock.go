package preflight

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// LockFileName is the file under the data directory that a running server
// holds an exclusive flock on. It contains the holder's pid.
const LockFileName = "server.lock"

// LockedError says another process holds the data directory lock.
type LockedError struct {
	DataDir string
	// PID is the holder's process id, 0 when the lock file does not say.
	PID int
}

func (e *LockedError) Error() string {
	pid := "pid unknown"
	if e.PID > 0 {
		pid = "pid " + strconv.Itoa(e.PID)
	}
	return fmt.Sprintf("another outpost server is running with data dir %s (%s)", e.DataDir, pid)
}

// LockDataDir takes the data directory lock, creating dir (0700) and its
// lock file when missing, and records this process's pid in it. It fails
// with a *LockedError when another process holds the lock. The lock lasts
// until release is called or the process exits; the lock file stays, since
// removing it would let two processes lock different files of one name.
func LockDataDir(dir string) (release func(), err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data dir: %w", err)
	}
	path := filepath.Join(dir, LockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening data dir lock: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, &LockedError{DataDir: dir, PID: readLockPID(path)}
		}
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("writing pid to %s: %w", path, err)
	}
	// Closing the only descriptor drops the flock.
	return func() { f.Close() }, nil
}

// CheckDataDirLock returns a *LockedError when a process holds dir's lock,
// and nil when none does or dir has no lock file. It creates nothing.
func CheckDataDirLock(dir string) error {
	path := filepath.Join(dir, LockFileName)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("opening data dir lock: %w", err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		if errors.Is(err, unix.EWOULDBLOCK) {
			return &LockedError{DataDir: dir, PID: readLockPID(path)}
		}
		return fmt.Errorf("testing lock %s: %w", path, err)
	}
	return nil // closing f releases the lock just taken
}

func readLockPID(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return 0
	}
	return pid
}

func checkDataDirLock(dir string) Result {
	res := Result{Name: "data dir lock", Status: Pass, Detail: "no outpost server is using " + dir}
	if !filepath.IsAbs(dir) {
		res.Status, res.Detail = Fail, fmt.Sprintf("%q is not an absolute path", dir)
		return res
	}
	if err := CheckDataDirLock(dir); err != nil {
		res.Status, res.Detail = Fail, err.Error()
		var locked *LockedError
		if errors.As(err, &locked) {
			res.Fix = "stop that server first (outpost server runs once per data dir)"
		}
	}
	return res
}
