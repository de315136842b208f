package storage

import (
	"github.com/outpost-platform/outpost/appliance/fsutil"

	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func TestCreateVolumeDir(t *testing.T) {
	// A restrictive umask must not leave the directory unwritable for
	// non-root pods.
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)

	dir := t.TempDir()
	path := filepath.Join(dir, "shop_data_uid")
	if err := createVolumeDir(path); err != nil {
		t.Fatal(err)
	}
	assertMode(t, path, os.ModeDir|0o777)

	// A second attempt, after the volume create failed, reuses the
	// directory and keeps what is in it.
	if err := os.WriteFile(filepath.Join(path, "f"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := createVolumeDir(path); err != nil {
		t.Fatalf("second create: %v", err)
	}
	assertMode(t, path, os.ModeDir|0o777)
	if _, err := os.Stat(filepath.Join(path, "f")); err != nil {
		t.Errorf("existing content lost: %v", err)
	}
}

func TestCreateVolumeDirRefusesNonDirectories(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := createVolumeDir(file); err == nil {
		t.Error("createVolumeDir accepted a regular file")
	}

	// A symlink to a directory elsewhere must not be made world-writable.
	outside := t.TempDir()
	if err := os.Chmod(outside, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(outside, link); err != nil {
		t.Fatal(err)
	}
	if err := createVolumeDir(link); err == nil {
		t.Error("createVolumeDir accepted a symlink")
	}
	assertMode(t, outside, os.ModeDir|0o700)

	if err := createVolumeDir(filepath.Join(dir, "missing-parent", "vol")); err == nil {
		t.Error("createVolumeDir created a missing parent")
	}
}

func TestRemoveVolumeDir(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	keep := filepath.Join(outside, "keep")
	if err := os.WriteFile(keep, []byte("not the volume's"), 0o600); err != nil {
		t.Fatal(err)
	}

	path := filepath.Join(dir, "shop_data_uid")
	if err := createVolumeDir(path); err != nil {
		t.Fatal(err)
	}
	// What a pod might leave: nested read-only content and symlinks out.
	nested := filepath.Join(path, "a", "b")
	if err := os.MkdirAll(nested, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(nested, "data"), []byte("x"), 0o400); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(nested, 0o500); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(path, "escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(keep, filepath.Join(path, "escape-file")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(nested, 0o755) })

	if err := removeVolumeDir(path); err != nil {
		if os.Geteuid() != 0 {
			t.Skipf("removing a read-only tree needs root, as the server runs: %v", err)
		}
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Errorf("volume dir still there: %v", err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("file behind a symlink in the volume was removed: %v", err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Errorf("storage dir removed: %v", err)
	}

	// Deleting again, after the volume delete failed, is not an error.
	if err := removeVolumeDir(path); err != nil {
		t.Errorf("removing a missing dir: %v", err)
	}
}

func TestRemoveVolumeDirRefusesMountPoints(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "shop_data_uid")
	if err := createVolumeDir(path); err != nil {
		t.Fatal(err)
	}
	disk := filepath.Join(path, "disk")
	if err := os.Mkdir(disk, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", disk, "tmpfs", 0, ""); err != nil {
		t.Skipf("cannot mount tmpfs here: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(disk, unix.MNT_DETACH) })
	precious := filepath.Join(disk, "precious")
	if err := os.WriteFile(precious, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}

	if err := removeVolumeDir(path); err == nil {
		t.Fatal("removeVolumeDir removed a directory with a mount below it")
	}
	if _, err := os.Stat(precious); err != nil {
		t.Errorf("file on the mounted filesystem is gone: %v", err)
	}

	// The same volume reached through a symlinked storage dir.
	link := filepath.Join(t.TempDir(), "storage")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	if err := removeVolumeDir(filepath.Join(link, "shop_data_uid")); err == nil {
		t.Fatal("removeVolumeDir removed a directory with a mount below it, reached through a symlink")
	}
	if _, err := os.Stat(precious); err != nil {
		t.Errorf("file on the mounted filesystem is gone: %v", err)
	}
}

func TestParseMountPoints(t *testing.T) {
	mountinfo := `22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
45 22 0:40 / /var/lib/outpost/storage/shop_my\040data_uid rw - tmpfs tmpfs rw
bad line
`
	got := fsutil.ParseMountPoints(mountinfo)
	want := []string{"/", "/var/lib/outpost/storage/shop_my data_uid"}
	if !slices.Equal(got, want) {
		t.Errorf("parseMountPoints = %q, want %q", got, want)
	}
}

func TestWithin(t *testing.T) {
	tests := []struct {
		path, dir string
		want      bool
	}{
		{"/s/v", "/s/v", true},
		{"/s/v/m", "/s/v", true},
		{"/s/v2", "/s/v", false},
		{"/s", "/s/v", false},
	}
	for _, tt := range tests {
		if got := within(tt.path, tt.dir); got != tt.want {
			t.Errorf("within(%q, %q) = %v, want %v", tt.path, tt.dir, got, tt.want)
		}
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	info, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode() & (os.ModeType | os.ModePerm); got != want {
		t.Errorf("%s: mode %v, want %v", path, got, want)
	}
}
