package preflight

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// holdLockEnv makes the test binary a helper process that takes the data dir
// lock named by the variable's value and holds it until its stdin closes.
const holdLockEnv = "OUTPOST_PREFLIGHT_TEST_HOLD_LOCK"

func TestMain(m *testing.M) {
	if dir := os.Getenv(holdLockEnv); dir != "" {
		release, err := LockDataDir(dir)
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("locked")
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
		release()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: mounts, network namespaces and sysctls")
	}
}

func TestClassifyKernel(t *testing.T) {
	tests := []struct {
		release string
		want    Status
	}{
		{"6.8.0-45-generic", Pass},
		{"4.19.90-24.4.v2101.ky10.aarch64", Pass},
		{"5.10+", Pass},
		{"4.18.0-553.el8_10.x86_64", Fail},
		{"3.10.0-1160.el7.x86_64", Fail},
		{"4.19-rc3", Pass},
		{"", Warn},
		{"six.eight", Warn},
		{"6", Warn},
	}
	for _, tt := range tests {
		t.Run(tt.release, func(t *testing.T) {
			got := classifyKernel(tt.release)
			if got.Status != tt.want {
				t.Errorf("classifyKernel(%q) = %v (%s), want %v", tt.release, got.Status, got.Detail, tt.want)
			}
			if got.Status == Fail && !strings.Contains(got.Fix, "4.19") {
				t.Errorf("fix %q does not name the minimum kernel", got.Fix)
			}
		})
	}
}

const (
	mountinfoV2 = `25 1 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate
26 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw`
	mountinfoHybrid = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`
	mountinfoLegacy = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct`
	procCgroupsFull = `#subsys_name	hierarchy	num_cgroups	enabled
cpuset	3	1	1
cpu	1	1	1
cpuacct	1	1	1
memory	4	50	1
devices	5	1	1
freezer	6	1	1
net_cls	0	1	1
pids	8	1	1`
	procCgroupsNoFreezer = `#subsys_name	hierarchy	num_cgroups	enabled
cpuset	3	1	1
cpu	1	1	1
cpuacct	1	1	1
memory	4	50	1
devices	5	1	1
freezer	0	1	1
pids	8	1	0`
)

func TestClassifyCgroups(t *testing.T) {
	tests := []struct {
		name          string
		mountinfo     string
		procCgroups   string
		v2Controllers string
		want          Status
		wantDetail    string
	}{
		{"v2 complete", mountinfoV2, "", "cpuset cpu io memory hugetlb pids rdma misc\n", Pass, "v2 (unified): cpuset, cpu, io"},
		{"v2 without memory", mountinfoV2, "", "cpuset cpu io pids\n", Fail, "v2 (unified) without memory"},
		{"v2 with nothing delegated", mountinfoV2, "", "", Fail, "without cpu, cpuset, memory, pids"},
		{"v1 hybrid complete", mountinfoHybrid, procCgroupsFull, "", Warn, "v1 (hybrid): cpu, cpuacct"},
		{"v1 legacy complete", mountinfoLegacy, procCgroupsFull, "", Warn, "v1 (legacy)"},
		{"v1 unmounted freezer and disabled pids", mountinfoLegacy, procCgroupsNoFreezer, "", Fail, "v1 (legacy) without pids, freezer"},
		{"no cgroups at all", "", "", "", Fail, "no cgroup controllers"},
		{"garbage proc file", mountinfoLegacy, "what\nis\nthis", "", Fail, "no cgroup controllers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := classifyCgroups(parseMountinfo(tt.mountinfo), tt.procCgroups, tt.v2Controllers)
			if got.Status != tt.want || !strings.Contains(got.Detail, tt.wantDetail) {
				t.Errorf("got %v %q, want %v containing %q", got.Status, got.Detail, tt.want, tt.wantDetail)
			}
			if got.Status != Pass && got.Fix == "" {
				t.Errorf("%v without a fix", got.Status)
			}
		})
	}
}

func TestParseMountinfo(t *testing.T) {
	text := `36 35 98:0 /mnt1 /mnt/with\040space rw,noatime master:1 - ext3 /dev/root rw,errors=continue
37 35 98:0 / /plain rw shared:2 - overlay overlay rw,lowerdir=/a
not a mountinfo line
38 35 0:1 / /back\134slash rw - tmpfs tmpfs rw`
	got := parseMountinfo(text)
	want := []mount{
		{point: "/mnt/with space", fsType: "ext3", super: "rw,errors=continue"},
		{point: "/plain", fsType: "overlay", super: "rw,lowerdir=/a"},
		{point: `/back\slash`, fsType: "tmpfs", super: "rw"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("parseMountinfo = %v, want %v", got, want)
	}
}

func TestListeningInodes(t *testing.T) {
	table := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1920 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1001 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1920 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 1002 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1003 1 0000000000000000 100 0 0 10 0
   3: 00000000000000000000000000000000:1920 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1004 1
   4: short line`
	tests := []struct {
		port int
		want string
	}{
		{6432, "[1001 1004]"}, // 0x1920; the ESTABLISHED socket 1002 is not a listener
		{80, "[1003]"},
		{443, "[]"},
	}
	for _, tt := range tests {
		if got := fmt.Sprint(listeningInodes(table, tt.port)); got != tt.want {
			t.Errorf("listeningInodes(port %d) = %s, want %s", tt.port, got, tt.want)
		}
	}
}

func TestCheckPortNamesTheHolder(t *testing.T) {
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	h := newHost()

	got := h.checkPort(Port{Number: port, Component: "kube-apiserver", Setting: "https-listen-port"})
	comm, _ := os.ReadFile("/proc/self/comm")
	wantHolder := fmt.Sprintf("in use by %s (pid %d), needed by kube-apiserver", strings.TrimSpace(string(comm)), os.Getpid())
	if got.Status != Fail || got.Detail != wantHolder || got.Fix != "stop it or set https-listen-port" {
		t.Errorf("busy port: got %+v, want FAIL %q", got, wantHolder)
	}
	if got.Name != fmt.Sprintf("port %d", port) {
		t.Errorf("name = %q", got.Name)
	}

	l.Close()
	if got := h.checkPort(Port{Number: port, Component: "kube-apiserver"}); got.Status != Pass {
		t.Errorf("closed port: got %+v, want PASS", got)
	}
}

func TestCheckPortRejectsBadNumbers(t *testing.T) {
	for _, n := range []int{0, -1, 65536} {
		if got := newHost().checkPort(Port{Number: n, Component: "x"}); got.Status != Fail {
			t.Errorf("port %d: got %v, want FAIL", n, got.Status)
		}
	}
}

func TestLockDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := CheckDataDirLock(dir); err != nil {
		t.Fatalf("CheckDataDirLock on a missing dir: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("CheckDataDirLock created %s", dir)
	}

	release, err := LockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := os.ReadFile(filepath.Join(dir, LockFileName))
	if string(pid) != fmt.Sprintf("%d\n", os.Getpid()) {
		t.Errorf("lock file holds %q, want our pid", pid)
	}
	// flock locks belong to open files, so a second open in this process
	// conflicts just as another process would.
	wantMsg := fmt.Sprintf("another outpost server is running with data dir %s (pid %d)", dir, os.Getpid())
	for name, err := range map[string]error{"LockDataDir": second(LockDataDir(dir)), "CheckDataDirLock": CheckDataDirLock(dir)} {
		var locked *LockedError
		if !errors.As(err, &locked) || err.Error() != wantMsg {
			t.Errorf("%s while locked = %v, want %q", name, err, wantMsg)
		}
	}
	if got := checkDataDirLock(dir); got.Status != Fail || got.Detail != wantMsg {
		t.Errorf("check while locked = %+v", got)
	}

	release()
	if err := CheckDataDirLock(dir); err != nil {
		t.Errorf("after release: %v", err)
	}
	release2, err := LockDataDir(dir)
	if err != nil {
		t.Fatalf("relocking after release: %v", err)
	}
	release2()
}

func second(_ func(), err error) error { return err }

func TestLockDataDirHeldByAnotherProcess(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), holdLockEnv+"="+dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "locked\n" {
		t.Fatalf("helper said %q", line)
	}

	_, err = LockDataDir(dir)
	var locked *LockedError
	if !errors.As(err, &locked) || locked.PID != cmd.Process.Pid || locked.DataDir != dir {
		t.Fatalf("LockDataDir = %v, want LockedError naming pid %d", err, cmd.Process.Pid)
	}

	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
	release, err := LockDataDir(dir)
	if err != nil {
		t.Fatalf("after the holder exited: %v", err)
	}
	release()
}

func TestRunOnMissingDataDirCreatesNothing(t *testing.T) {
	tmp := t.TempDir()
	dataDir := filepath.Join(tmp, "a", "b", "outpost")
	rep := Run(context.Background(), Options{DataDir: dataDir, Ports: []Port{{Number: 1, Component: "kube-apiserver"}}})

	entries, err := os.ReadDir(tmp)
	if err != nil || len(entries) != 0 {
		t.Fatalf("Run left %v in %s (err %v)", entries, tmp, err)
	}
	var names []string
	for _, r := range rep.Results {
		names = append(names, r.Name)
		if r.Detail == "" {
			t.Errorf("%s: empty detail", r.Name)
		}
	}
	want := "root kernel cgroups overlayfs br_netfilter bridge-nf-call-iptables ip_forward iptables/nft swap " +
		"data dir data dir space data dir writable data dir lock port 1"
	if strings.Join(names, " ") != want {
		t.Errorf("checks run:\n%s\nwant\n%s", strings.Join(names, " "), want)
	}
	dd := rep.Results[9]
	if !strings.Contains(dd.Detail, "not created yet; checked "+tmp) {
		t.Errorf("data dir detail %q does not say it checked the parent", dd.Detail)
	}
}

func TestCheckDataDirBadInputs(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ dir, want string }{
		{"relative/dir", "not an absolute path"},
		{"", "not an absolute path"},
		{filepath.Join(file, "data"), "is not a directory"},
	}
	for _, tt := range tests {
		got := checkDataDir(tt.dir)
		if len(got) != 1 || got[0].Status != Fail || !strings.Contains(got[0].Detail, tt.want) {
			t.Errorf("checkDataDir(%q) = %+v, want one FAIL containing %q", tt.dir, got, tt.want)
		}
	}
}

func TestClassifyFilesystem(t *testing.T) {
	tests := []struct {
		magic int64
		name  string
		want  Status
	}{
		{unix.EXT4_SUPER_MAGIC, "ext4", Pass},
		{unix.XFS_SUPER_MAGIC, "xfs", Pass},
		{unix.OVERLAYFS_SUPER_MAGIC, "overlayfs", Fail},
		{unix.NFS_SUPER_MAGIC, "nfs", Fail},
		{unix.TMPFS_MAGIC, "tmpfs", Warn},
		{0x12345678, "filesystem 0x12345678", Pass},
	}
	for _, tt := range tests {
		if got := classifyFilesystem(tt.magic); got.name != tt.name || got.status != tt.want {
			t.Errorf("classifyFilesystem(0x%x) = %+v, want %s %v", tt.magic, got, tt.name, tt.want)
		}
	}
}

func TestClassifyFreeSpace(t *testing.T) {
	tests := []struct {
		avail uint64
		want  Status
	}{
		{0, Fail},
		{5<<30 - 1, Fail},
		{5 << 30, Warn},
		{20<<30 - 1, Warn},
		{20 << 30, Pass},
	}
	for _, tt := range tests {
		if got, _ := classifyFreeSpace(tt.avail); got != tt.want {
			t.Errorf("classifyFreeSpace(%d) = %v, want %v", tt.avail, got, tt.want)
		}
	}
}

func TestDirentTypes(t *testing.T) {
	rec := func(typ uint8, name string) []byte {
		n := (19 + len(name) + 1 + 7) &^ 7
		b := make([]byte, n)
		b[16], b[17] = byte(n), byte(n>>8) // little-endian test hosts only
		b[18] = typ
		copy(b[19:], name)
		return b
	}
	if !littleEndian() {
		t.Skip("record builder assumes little endian")
	}
	good := append(rec(unix.DT_DIR, "."), rec(unix.DT_REG, "file")...)
	tests := []struct {
		name    string
		buf     []byte
		want    string
		wantErr bool
	}{
		{"two records", good, "[4 8]", false},
		{"empty", nil, "[]", false},
		{"truncated header", good[:10], "", true},
		{"record longer than buffer", good[:len(good)-1], "", true},
		{"zero length record", make([]byte, 24), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := direntTypes(tt.buf)
			if (err != nil) != tt.wantErr || (err == nil && fmt.Sprint(got) != tt.want) {
				t.Errorf("direntTypes = %v, %v; want %s (error %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func littleEndian() bool {
	return runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64" || runtime.GOARCH == "riscv64"
}

// TestDataDirOnRealMounts puts the data dir on real tmpfs and overlay mounts.
func TestDataDirOnRealMounts(t *testing.T) {
	requireRoot(t)
	tmp := t.TempDir()
	mountAt := func(name, fstype, opts string) string {
		t.Helper()
		dir := filepath.Join(tmp, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := unix.Mount(fstype, dir, fstype, 0, opts); err != nil {
			t.Fatalf("mounting %s: %v", fstype, err)
		}
		t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
		return dir
	}
	small := mountAt("small", "tmpfs", "size=1g")
	medium := mountAt("medium", "tmpfs", "size=10g")
	large := mountAt("large", "tmpfs", "size=30g")
	readonly := mountAt("ro", "tmpfs", "size=30g")
	if err := unix.Mount("", readonly, "", unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
		t.Fatal(err)
	}
	layers := mountAt("layers", "tmpfs", "size=1g")
	for _, d := range []string{"lower", "upper", "work", "merged"} {
		if err := os.Mkdir(filepath.Join(layers, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	merged := filepath.Join(layers, "merged")
	if err := unix.Mount("overlay", merged, "overlay", 0,
		fmt.Sprintf("lowerdir=%s/lower,upperdir=%s/upper,workdir=%s/work", layers, layers, layers)); err != nil {
		t.Fatalf("mounting overlay: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(merged, unix.MNT_DETACH) })

	tests := []struct {
		dir                 string
		fs, space, writable Status
		fsDetail            string
	}{
		{filepath.Join(small, "outpost"), Warn, Fail, Pass, "tmpfs at"},
		{filepath.Join(medium, "outpost"), Warn, Warn, Pass, "tmpfs at"},
		{large, Warn, Pass, Pass, "tmpfs at " + large + ": everything in it is lost"},
		{filepath.Join(readonly, "x", "y"), Warn, Pass, Fail, "tmpfs at"},
		{filepath.Join(merged, "outpost"), Fail, Fail, Pass, "overlayfs at"},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			got := checkDataDir(tt.dir)
			if len(got) != 3 {
				t.Fatalf("got %+v", got)
			}
			if got[0].Status != tt.fs || got[1].Status != tt.space || got[2].Status != tt.writable {
				t.Errorf("statuses fs=%v space=%v writable=%v, want %v %v %v\n%+v",
					got[0].Status, got[1].Status, got[2].Status, tt.fs, tt.space, tt.writable, got)
			}
			if !strings.Contains(got[0].Detail, tt.fsDetail) {
				t.Errorf("fs detail %q does not contain %q", got[0].Detail, tt.fsDetail)
			}
		})
	}
}

func TestRecordsFileTypesOnTempDir(t *testing.T) {
	ok, err := recordsFileTypes(t.TempDir())
	if err != nil || !ok {
		t.Errorf("recordsFileTypes(tempdir) = %v, %v; every filesystem Go tests run on records d_type", ok, err)
	}
	if _, err := recordsFileTypes(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("recordsFileTypes on a missing dir: no error")
	}
}

// inFreshNetns runs f on a thread moved into a new network namespace, where
// /proc/sys/net belongs to that namespace, so sysctls can be changed without
// touching the host. The thread is moved back afterwards: were it the main
// thread, Go would keep it, and /proc/self/net would then show the wrong
// namespace to later tests.
func inFreshNetns(t *testing.T, f func()) {
	t.Helper()
	requireRoot(t)
	done := make(chan error)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
		if err != nil {
			done <- err
			return
		}
		defer orig.Close()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			done <- fmt.Errorf("unshare: %w", err)
			return
		}
		f()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- fmt.Errorf("returning to the host netns: %w", err) // thread stays locked and is discarded
			return
		}
		runtime.UnlockOSThread()
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestIPForwardInFreshNetns(t *testing.T) {
	var before, fixed, after Result
	var forward string
	inFreshNetns(t, func() {
		h := newHost()
		os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("0"), 0o644)
		before = h.checkIPForward(false)
		fixed = h.checkIPForward(true)
		after = h.checkIPForward(false)
		data, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
		forward = string(data)
	})
	if before.Status != Fail || before.Detail != "net.ipv4.ip_forward is 0" ||
		!strings.HasPrefix(before.Fix, "sysctl -w net.ipv4.ip_forward=1 ") {
		t.Errorf("off, no fixes: %+v", before)
	}
	if fixed.Status != Pass || !strings.Contains(fixed.Detail, "turned on net.ipv4.ip_forward (fix applied") {
		t.Errorf("off, fixes allowed: %+v", fixed)
	}
	if after.Status != Pass || after.Detail != "net.ipv4.ip_forward=1" || forward != "1\n" {
		t.Errorf("after the fix: %+v, sysctl reads %q", after, forward)
	}
}

func TestBridgeNetfilterInFreshNetns(t *testing.T) {
	if _, err := os.Stat("/proc/sys/" + bridgeNFSysctl); err != nil {
		t.Skip("br_netfilter is not loaded on this host")
	}
	var before, fixed []Result
	inFreshNetns(t, func() {
		for _, s := range []string{"bridge-nf-call-iptables", "bridge-nf-call-ip6tables"} {
			os.WriteFile("/proc/sys/net/bridge/"+s, []byte("0"), 0o644)
		}
		h := newHost()
		before = h.checkBridgeNetfilter(context.Background(), false)
		fixed = h.checkBridgeNetfilter(context.Background(), true)
	})
	if before[0].Status != Pass || before[1].Status != Fail ||
		before[1].Fix != "sysctl -w net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1 and persist it in /etc/sysctl.d/90-outpost.conf" {
		t.Errorf("off: %+v", before)
	}
	if fixed[1].Status != Pass {
		t.Errorf("fixed: %+v", fixed)
	}
}

// fakeProc builds a /proc look-alike holding the given files.
func fakeProc(t *testing.T, files map[string]string) *host {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return &host{procDir: dir, lookPath: func(string) (string, error) { return "", exec.ErrNotFound }}
}

func TestModulesMissingWithoutModprobe(t *testing.T) {
	h := fakeProc(t, map[string]string{"filesystems": "nodev\tproc\n\text4\n"})
	for _, applyFixes := range []bool{false, true} {
		ov := h.checkOverlay(context.Background(), applyFixes)
		br := h.checkBridgeNetfilter(context.Background(), applyFixes)
		if ov.Status != Fail || !strings.HasPrefix(ov.Fix, "modprobe overlay") {
			t.Errorf("overlay (fixes %v): %+v", applyFixes, ov)
		}
		if br[0].Status != Fail || !strings.HasPrefix(br[0].Fix, "modprobe br_netfilter") ||
			br[1].Status != Fail || br[1].Detail != "unavailable until br_netfilter is loaded" {
			t.Errorf("br_netfilter (fixes %v): %+v", applyFixes, br)
		}
		if applyFixes && (!strings.Contains(ov.Detail, "modprobe is not in PATH") || !strings.Contains(br[0].Detail, "modprobe is not in PATH")) {
			t.Errorf("fix attempt not reported: %q / %q", ov.Detail, br[0].Detail)
		}
	}
	if got := fakeProc(t, map[string]string{"filesystems": "nodev\toverlay\n"}).checkOverlay(context.Background(), false); got.Status != Pass {
		t.Errorf("overlay listed: %+v", got)
	}
	if got := fakeProc(t, nil).checkOverlay(context.Background(), false); got.Status != Fail {
		t.Errorf("no /proc/filesystems: %+v", got)
	}
}

func TestCheckSwap(t *testing.T) {
	header := "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
	tests := []struct {
		swaps string
		want  Status
	}{
		{header, Pass},
		{header + "/dev/sda2  partition\t8388604\t0\t-2\n", Warn},
	}
	for _, tt := range tests {
		if got := fakeProc(t, map[string]string{"swaps": tt.swaps}).checkSwap(); got.Status != tt.want {
			t.Errorf("swaps %q: %+v, want %v", tt.swaps, got, tt.want)
		}
	}
	if got := fakeProc(t, nil).checkSwap(); got.Status != Warn {
		t.Errorf("unreadable /proc/swaps: %+v", got)
	}
}

func TestCheckPacketFilter(t *testing.T) {
	bin := t.TempDir()
	script := "#!/bin/sh\necho 'iptables v1.8.9 (legacy)'\n"
	if err := os.WriteFile(filepath.Join(bin, "iptables"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		present    []string
		want       Status
		wantDetail string
	}{
		{"both", []string{"iptables", "iptables-save", "iptables-restore", "nft"}, Pass, "iptables v1.8.9 (legacy), nft"},
		{"iptables only", []string{"iptables", "iptables-save", "iptables-restore"}, Pass, "iptables v1.8.9 (legacy)"},
		{"nft only", []string{"nft"}, Warn, "only nft"},
		{"iptables without restore", []string{"iptables", "iptables-save"}, Fail, "neither"},
		{"nothing", nil, Fail, "neither"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &host{lookPath: func(f string) (string, error) {
				for _, p := range tt.present {
					if p == f {
						return filepath.Join(bin, f), nil
					}
				}
				return "", exec.ErrNotFound
			}}
			got := h.checkPacketFilter(context.Background())
			if got.Status != tt.want || !strings.HasPrefix(got.Detail, tt.wantDetail) {
				t.Errorf("got %v %q, want %v %q", got.Status, got.Detail, tt.want, tt.wantDetail)
			}
		})
	}
}

func TestReportText(t *testing.T) {
	rep := Report{Results: []Result{
		{Name: "cgroups", Status: Pass, Detail: "v2 (unified): cpu, memory", Fix: "ignored on PASS"},
		{Name: "port 6443", Status: Fail, Detail: "in use by nginx (pid 123)", Fix: "stop it or set https-listen-port"},
		{Name: "swap", Status: Warn, Detail: "on (/dev/sda2)"},
	}}
	var b strings.Builder
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := "PASS  cgroups    v2 (unified): cpu, memory\n" +
		"FAIL  port 6443  in use by nginx (pid 123); stop it or set https-listen-port\n" +
		"WARN  swap       on (/dev/sda2)\n"
	if b.String() != want {
		t.Errorf("WriteText:\n%s\nwant\n%s", b.String(), want)
	}
}

func TestReportFailed(t *testing.T) {
	tests := []struct {
		statuses []Status
		want     bool
	}{
		{nil, false},
		{[]Status{Pass, Warn}, false},
		{[]Status{Pass, Fail, Warn}, true},
	}
	for _, tt := range tests {
		var rep Report
		for _, s := range tt.statuses {
			rep.Results = append(rep.Results, Result{Status: s})
		}
		if rep.Failed() != tt.want {
			t.Errorf("Failed(%v) = %v", tt.statuses, !tt.want)
		}
	}
}
