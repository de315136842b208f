package preflight

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Free-space thresholds for the data directory's filesystem: below
// minFreeBytes the server cannot hold even its system images and a day of
// metrics; below warnFreeBytes imported bundles will soon fill it.
const (
	minFreeBytes  = 5 << 30
	warnFreeBytes = 20 << 30
)

// statfsFlagReadOnly is ST_RDONLY in statfs(2)'s f_flags.
const statfsFlagReadOnly = 0x1

// fsVerdict says whether Outpost can keep its data on a filesystem type.
type fsVerdict struct {
	name   string
	status Status
	why    string
}

// filesystems maps statfs magic numbers to verdicts. Filesystems not listed
// pass under their hex magic. overlayfs cannot be an upper layer of another
// overlay, and network filesystems lack the xattrs, d_type and locking that
// containerd's overlay snapshotter and SQLite rely on.
var filesystems = map[int64]fsVerdict{
	unix.EXT4_SUPER_MAGIC:      {"ext4", Pass, ""},
	unix.XFS_SUPER_MAGIC:       {"xfs", Pass, ""},
	unix.BTRFS_SUPER_MAGIC:     {"btrfs", Pass, ""},
	unix.F2FS_SUPER_MAGIC:      {"f2fs", Pass, ""},
	0x2fc12fc1:                 {"zfs", Warn, "containerd's overlay snapshotter on zfs needs zfs 2.2 or later"},
	unix.TMPFS_MAGIC:           {"tmpfs", Warn, "everything in it is lost at reboot"},
	unix.RAMFS_MAGIC:           {"ramfs", Warn, "everything in it is lost at reboot"},
	unix.OVERLAYFS_SUPER_MAGIC: {"overlayfs", Fail, "overlayfs cannot be stacked on overlayfs"},
	unix.NFS_SUPER_MAGIC:       {"nfs", Fail, "network filesystems cannot hold containerd's snapshots or SQLite"},
	unix.CIFS_SUPER_MAGIC:      {"cifs", Fail, "network filesystems cannot hold containerd's snapshots or SQLite"},
	unix.SMB2_SUPER_MAGIC:      {"smb2", Fail, "network filesystems cannot hold containerd's snapshots or SQLite"},
	unix.SMB_SUPER_MAGIC:       {"smb", Fail, "network filesystems cannot hold containerd's snapshots or SQLite"},
	unix.V9FS_MAGIC:            {"9p", Fail, "network filesystems cannot hold containerd's snapshots or SQLite"},
	unix.CEPH_SUPER_MAGIC:      {"ceph", Fail, "network filesystems cannot hold containerd's snapshots or SQLite"},
	unix.FUSE_SUPER_MAGIC:      {"fuse", Fail, "overlayfs cannot use a FUSE filesystem as its upper layer"},
	unix.ECRYPTFS_SUPER_MAGIC:  {"ecryptfs", Fail, "overlayfs cannot use ecryptfs as its upper layer"},
	0x61756673:                 {"aufs", Fail, "overlayfs cannot use aufs as its upper layer"},
	unix.SQUASHFS_MAGIC:        {"squashfs", Fail, "the filesystem is read-only"},
	unix.ISOFS_SUPER_MAGIC:     {"iso9660", Fail, "the filesystem is read-only"},
	unix.MSDOS_SUPER_MAGIC:     {"vfat", Fail, "FAT has no permissions, symlinks or xattrs"},
	unix.EXFAT_SUPER_MAGIC:     {"exfat", Fail, "exFAT has no permissions, symlinks or xattrs"},
}

func classifyFilesystem(magic int64) fsVerdict {
	if v, ok := filesystems[magic]; ok {
		return v
	}
	return fsVerdict{name: fmt.Sprintf("filesystem 0x%x", magic), status: Pass}
}

func classifyFreeSpace(avail uint64) (Status, string) {
	detail := fmt.Sprintf("%.1f GiB free", float64(avail)/(1<<30))
	switch {
	case avail < minFreeBytes:
		return Fail, detail
	case avail < warnFreeBytes:
		return Warn, detail
	}
	return Pass, detail
}

// nearestExisting returns dir if it exists, else its closest existing
// ancestor, so that checking a data directory never creates it.
func nearestExisting(dir string) (string, error) {
	for p := filepath.Clean(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err == nil {
			if !fi.IsDir() {
				return "", fmt.Errorf("%s is not a directory", p)
			}
			return p, nil
		}
		// ENOTDIR: a parent is a file, which the next round reports.
		if !errors.Is(err, os.ErrNotExist) && !errors.Is(err, unix.ENOTDIR) {
			return "", fmt.Errorf("inspecting %s: %w", p, err)
		}
		if p == "/" {
			return "", fmt.Errorf("no part of %s exists", dir)
		}
	}
}

func checkDataDir(dir string) []Result {
	const fsName, spaceName, writableName = "data dir", "data dir space", "data dir writable"
	if !filepath.IsAbs(dir) {
		return []Result{{Name: fsName, Status: Fail, Detail: fmt.Sprintf("%q is not an absolute path", dir),
			Fix: "set data-dir to an absolute path"}}
	}
	at, err := nearestExisting(dir)
	if err != nil {
		return []Result{{Name: fsName, Status: Fail, Detail: err.Error(), Fix: "set data-dir to a directory"}}
	}
	where := dir
	if at != filepath.Clean(dir) {
		where = fmt.Sprintf("%s (not created yet; checked %s)", dir, at)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(at, &st); err != nil {
		return []Result{{Name: fsName, Status: Fail, Detail: fmt.Sprintf("statfs %s: %v", at, err)}}
	}

	verdict := classifyFilesystem(int64(st.Type))
	fsRes := Result{Name: fsName, Status: verdict.status, Detail: verdict.name + " at " + where}
	if verdict.why != "" {
		fsRes.Detail += ": " + verdict.why
		fsRes.Fix = "put data-dir on a local ext4 or xfs filesystem"
	}
	if fsRes.Status != Fail {
		if ok, err := recordsFileTypes(at); err != nil {
			fsRes.Status, fsRes.Detail = Warn, fsRes.Detail+fmt.Sprintf("; cannot tell whether it records file types: %v", err)
		} else if !ok {
			fsRes.Status = Fail
			fsRes.Detail += ": it does not record file types (d_type), which overlayfs needs"
			fsRes.Fix = "use a filesystem with d_type (xfs: mkfs.xfs -n ftype=1)"
		}
	}

	status, detail := classifyFreeSpace(st.Bavail * uint64(st.Bsize))
	spaceRes := Result{Name: spaceName, Status: status, Detail: detail + " on " + at}
	if status != Pass {
		spaceRes.Fix = fmt.Sprintf("free space or move data-dir; Outpost needs %d GiB and wants %d GiB",
			minFreeBytes>>30, warnFreeBytes>>30)
	}

	writeRes := Result{Name: writableName, Status: Pass, Detail: at + " is writable"}
	switch {
	case st.Flags&statfsFlagReadOnly != 0:
		writeRes.Status, writeRes.Detail = Fail, at+" is on a read-only mount"
		writeRes.Fix = "remount it read-write or move data-dir"
	case unix.Access(at, unix.W_OK|unix.X_OK) != nil:
		writeRes.Status, writeRes.Detail = Fail, at+" is not writable by this user"
		writeRes.Fix = "run as root or fix its permissions"
	}
	return []Result{fsRes, spaceRes, writeRes}
}

// recordsFileTypes reports whether the filesystem of dir fills in d_type in
// directory entries, by reading dir's own entries ("." always among them);
// xfs formatted with ftype=0 does not, and overlayfs refuses it.
func recordsFileTypes(dir string) (bool, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false, fmt.Errorf("opening %s: %w", dir, err)
	}
	defer unix.Close(fd)
	buf := make([]byte, 8192)
	n, err := unix.Getdents(fd, buf)
	if err != nil {
		return false, fmt.Errorf("reading entries of %s: %w", dir, err)
	}
	types, err := direntTypes(buf[:n])
	if err != nil {
		return false, fmt.Errorf("reading entries of %s: %w", dir, err)
	}
	for _, t := range types {
		if t != unix.DT_UNKNOWN {
			return true, nil
		}
	}
	return len(types) == 0, nil
}

// direntTypes returns the d_type of each linux_dirent64 record in buf:
// u64 d_ino, s64 d_off, u16 d_reclen, u8 d_type, name.
func direntTypes(buf []byte) ([]uint8, error) {
	const header = 19
	var types []uint8
	for len(buf) > 0 {
		if len(buf) < header {
			return nil, errors.New("truncated directory entry")
		}
		reclen := int(binary.NativeEndian.Uint16(buf[16:18]))
		if reclen < header || reclen > len(buf) {
			return nil, fmt.Errorf("directory entry length %d out of range", reclen)
		}
		types = append(types, buf[18])
		buf = buf[reclen:]
	}
	return types, nil
}
