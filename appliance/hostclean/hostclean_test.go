package hostclean

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/outpost-platform/outpost/appliance/preflight"
)

// helperEnv turns the test binary into a helper process: "sleep" waits to be
// killed; "hold-lock:<dir>" takes dir's data dir lock, says "locked", then
// waits to be killed.
const helperEnv = "OUTPOST_HOSTCLEAN_TEST_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		if dir, ok := strings.CutPrefix(mode, "hold-lock:"); ok {
			if _, err := preflight.LockDataDir(dir); err != nil {
				fmt.Println("error:", err)
				os.Exit(1)
			}
			fmt.Println("locked")
		}
		for {
			time.Sleep(time.Hour)
		}
	}
	os.Exit(m.Run())
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: mounts, network namespaces, interfaces, iptables and cgroups")
	}
}

// start runs cmd and makes sure it is gone when the test ends.
func start(t *testing.T, cmd *exec.Cmd) *exec.Cmd {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %v: %v", cmd.Args, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		unix.Wait4(cmd.Process.Pid, nil, 0, nil)
	})
	return cmd
}

// killedBySIGKILL reaps an exited child without blocking and reports
// whether SIGKILL ended it; a child still running reports false.
func killedBySIGKILL(t *testing.T, pid int) bool {
	t.Helper()
	var ws unix.WaitStatus
	got, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil)
	if err != nil {
		t.Fatalf("wait4(%d): %v", pid, err)
	}
	return got == pid && ws.Signaled() && ws.Signal() == unix.SIGKILL
}

// alive reports whether a process that is not our child still runs.
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	p, err := parseStat(string(stat))
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat)[strings.LastIndexByte(string(stat), ')')+1:])
	return p.pid == pid && fields[0] != "Z"
}

func mustMount(t *testing.T, source, target, fstype string, flags uintptr) {
	t.Helper()
	if err := os.MkdirAll(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(source, target, fstype, flags, ""); err != nil {
		t.Fatalf("mount %s on %s: %v", fstype, target, err)
	}
	t.Cleanup(func() { unix.Unmount(target, unix.MNT_DETACH) })
}

func mountsBelow(t *testing.T, dirs ...string) []string {
	t.Helper()
	points, err := readMounts()
	if err != nil {
		t.Fatal(err)
	}
	return unmountOrder(points, dirs...)
}

// newNetnsFile creates a network namespace kept alive by a bind mount at
// path, as the CRI does under /run/netns. The creating thread goes back to
// the host namespace afterwards; left behind (Go keeps the main thread even
// when a locked goroutine exits), later netlink sockets opened on it would
// see the wrong namespace.
func newNetnsFile(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, nil, 0o444); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		runtime.LockOSThread()
		self := fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), unix.Gettid())
		orig, err := os.Open(self)
		if err != nil {
			done <- err
			return
		}
		defer orig.Close()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			done <- err
			return
		}
		err = unix.Mount(self, path, "", unix.MS_BIND, "")
		if err2 := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err2 != nil {
			done <- errors.Join(err, err2) // thread stays locked and is discarded
			return
		}
		runtime.UnlockOSThread()
		done <- err
	}()
	if err := <-done; err != nil {
		t.Fatalf("creating netns at %s: %v", path, err)
	}
	t.Cleanup(func() { unix.Unmount(path, unix.MNT_DETACH) })
}

func linkExists(name string) bool {
	_, err := netlink.LinkByName(name)
	return err == nil
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// cgroupRootFor returns a writable cgroup hierarchy to build test cgroups in:
// the v1 pids hierarchy or the v2 unified one.
func cgroupRoots(t *testing.T) []string {
	t.Helper()
	mounts, err := cgroupMounts()
	if err != nil {
		t.Fatal(err)
	}
	var roots []string
	for _, m := range mounts {
		if filepath.Base(m) == "pids" || filepath.Base(m) == "unified" || m == "/sys/fs/cgroup" {
			roots = append(roots, m)
		}
	}
	return roots
}

// TestResetRemovesEverything builds what a server leaves behind from real
// parts under names of the test's own — processes, mounts, a pod netns with
// veths and a bridge, iptables chains, nft tables, cgroups — and checks that
// Reset removes exactly those, and that a second run finds nothing.
func TestResetRemovesEverything(t *testing.T) {
	requireRoot(t)
	id := fmt.Sprintf("%04x", rand.IntN(0x10000))
	tmp := t.TempDir()
	dataDir, runDir := filepath.Join(tmp, "data"), filepath.Join(tmp, "run")
	netnsDir, podLogDir := filepath.Join(tmp, "netns"), filepath.Join(tmp, "pods")
	for _, d := range []string{dataDir, runDir, netnsDir, podLogDir, filepath.Join(tmp, "src")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	opts := Options{
		DataDir: dataDir, RunDir: runDir, NetnsDir: netnsDir, NetnsPrefix: "cni-",
		Bridges: []string{"opbr" + id}, InterfacePrefixes: []string{"opfl" + id + "."},
		ChainPrefixes: []string{"OPT" + id + "-"}, NftTables: []string{"optest" + id},
		CgroupNames: []string{"optestcg" + id}, PodLogDir: podLogDir,
	}

	// Files that must survive a reset without purge, and a bind source
	// outside the data dir that must survive even a purge.
	keepFile := filepath.Join(dataDir, "containerd", "meta.db")
	bindSourceFile := filepath.Join(tmp, "src", "keep")
	for _, f := range []string{keepFile, bindSourceFile, filepath.Join(podLogDir, "ns_pod_uid", "0.log")} {
		os.MkdirAll(filepath.Dir(f), 0o755)
		if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Mounts: nested pod volumes, a name with a space, two mounts stacked on
	// one point, a task rootfs bind mount under the run dir.
	volume := filepath.Join(dataDir, "kubelet", "pods", "p1", "volumes", "kubernetes.io~empty-dir", "v")
	mustMount(t, "tmpfs", volume, "tmpfs", 0)
	mustMount(t, "tmpfs", filepath.Join(volume, "nested"), "tmpfs", 0)
	mustMount(t, "tmpfs", filepath.Join(dataDir, "kubelet", "pods", "p 2", "vol"), "tmpfs", 0)
	stacked := filepath.Join(dataDir, "containerd", "stacked")
	mustMount(t, "tmpfs", stacked, "tmpfs", 0)
	mustMount(t, "tmpfs", stacked, "tmpfs", 0)
	mustMount(t, filepath.Join(tmp, "src"), filepath.Join(runDir, "containerd", "io.containerd.runtime.v2.task", "k8s.io", "c1", "rootfs"), "", unix.MS_BIND)

	// Processes: a shim-like binary under the data dir with a child of its
	// own, `outpost containerd` for this data dir, a process in a pod
	// cgroup, and a bystander that must live.
	binDir := filepath.Join(dataDir, "data", "abc", "bin")
	os.MkdirAll(binDir, 0o755)
	shimBin := filepath.Join(binDir, "containerd-shim-runc-v2")
	run(t, "cp", "/bin/sh", shimBin)
	shim := exec.Command(shimBin, "-c", "sleep 1000 & echo $!; wait")
	shimOut, _ := shim.StdoutPipe()
	start(t, shim)
	line, _ := bufio.NewReader(shimOut).ReadString('\n')
	grandchild, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("shim said %q", line)
	}
	t.Cleanup(func() { unix.Kill(grandchild, unix.SIGKILL) })

	containerd := &exec.Cmd{Path: os.Args[0], Args: []string{"outpost", "containerd", "--root", filepath.Join(dataDir, "containerd")},
		Env: append(os.Environ(), helperEnv+"=sleep")}
	start(t, containerd)

	var inCgroup []*exec.Cmd
	for _, root := range cgroupRoots(t) {
		cg := filepath.Join(root, "optestcg"+id, "pod1", "ctr1")
		if err := os.MkdirAll(cg, 0o755); err != nil {
			t.Fatalf("creating cgroup: %v", err)
		}
		t.Cleanup(func() {
			for d := cg; d != root; d = filepath.Dir(d) {
				unix.Rmdir(d)
			}
		})
		p := start(t, exec.Command("sleep", "1000"))
		if err := os.WriteFile(filepath.Join(cg, "cgroup.procs"), []byte(strconv.Itoa(p.Process.Pid)), 0o644); err != nil {
			t.Fatalf("moving into cgroup: %v", err)
		}
		inCgroup = append(inCgroup, p)
	}
	if len(inCgroup) == 0 {
		t.Fatal("no pids or unified cgroup hierarchy to test in")
	}
	bystander := start(t, exec.Command("sleep", "1000"))

	// Network: a bridge with a veth into the pod netns, another veth into it
	// off the bridge, a host-only veth pair on the bridge, a prefixed
	// interface, and a bystander interface.
	netnsPath := filepath.Join(netnsDir, "cni-"+id)
	newNetnsFile(t, netnsPath)
	bystanderFile := filepath.Join(netnsDir, "keep-"+id)
	os.WriteFile(bystanderFile, nil, 0o644)
	nsFile, err := os.Open(netnsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer nsFile.Close()
	bridge := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "opbr" + id}}
	links := []netlink.Link{
		bridge,
		&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "opv" + id + "a"}, PeerName: "eth0", PeerNamespace: netlink.NsFd(nsFile.Fd())},
		&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "opv" + id + "b"}, PeerName: "eth1", PeerNamespace: netlink.NsFd(nsFile.Fd())},
		&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "opv" + id + "c"}, PeerName: "opv" + id + "d"},
		// Bridges stand in for flannel.1 and a bystander: every kernel
		// that runs Outpost has them, unlike dummy or vxlan.
		&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "opfl" + id + ".1"}},
		&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "opkp" + id}},
	}
	for _, l := range links {
		if err := netlink.LinkAdd(l); err != nil {
			t.Fatalf("adding %s: %v", l.Attrs().Name, err)
		}
		name := l.Attrs().Name
		t.Cleanup(func() {
			if l, err := netlink.LinkByName(name); err == nil {
				netlink.LinkDel(l)
			}
		})
	}
	br, _ := netlink.LinkByName("opbr" + id)
	for _, port := range []string{"opv" + id + "a", "opv" + id + "c"} {
		l, _ := netlink.LinkByName(port)
		if err := netlink.LinkSetMaster(l, br); err != nil {
			t.Fatal(err)
		}
	}

	// iptables: chains jumping to each other, jumps from built-in chains,
	// one IPv6 chain, and a bystander chain.
	ipt, haveIPT := exec.LookPath("iptables")
	if haveIPT == nil {
		chain := func(s string) string { return "OPT" + id + "-" + s }
		keep := "KEEP" + id
		run(t, ipt, "-t", "filter", "-N", chain("A"))
		run(t, ipt, "-t", "filter", "-N", chain("B"))
		run(t, ipt, "-t", "filter", "-A", chain("A"), "-j", chain("B"))
		run(t, ipt, "-t", "filter", "-A", "FORWARD", "-m", "comment", "--comment", "optest "+id+" rule", "-j", chain("A"))
		run(t, ipt, "-t", "nat", "-N", chain("NAT"))
		run(t, ipt, "-t", "nat", "-A", "POSTROUTING", "-s", "192.0.2.0/24", "-j", chain("NAT"))
		run(t, ipt, "-t", "filter", "-N", keep)
		run(t, ipt, "-t", "filter", "-A", "FORWARD", "-j", keep)
		run(t, "ip6tables", "-t", "filter", "-N", chain("SIX"))
		run(t, "ip6tables", "-t", "filter", "-A", "FORWARD", "-j", chain("SIX"))
		t.Cleanup(func() {
			exec.Command(ipt, "-D", "FORWARD", "-j", keep).Run()
			exec.Command(ipt, "-X", keep).Run()
		})
	}
	nft, haveNft := exec.LookPath("nft")
	if haveNft == nil {
		run(t, nft, "add", "table", "ip", "optest"+id)
		run(t, nft, "add", "table", "ip6", "optest"+id)
		run(t, nft, "add", "table", "inet", "opkeep"+id)
		t.Cleanup(func() { exec.Command(nft, "delete", "table", "inet", "opkeep"+id).Run() })
	}

	rep, err := Reset(context.Background(), opts)
	if err != nil {
		t.Fatalf("Reset: %v\nactions:\n%s", err, actionLines(rep))
	}
	t.Logf("actions:\n%s", actionLines(rep))

	for _, p := range append([]*exec.Cmd{shim, containerd}, inCgroup...) {
		if !killedBySIGKILL(t, p.Process.Pid) {
			t.Errorf("%v (pid %d) was not killed", p.Args, p.Process.Pid)
		}
	}
	if alive(grandchild) {
		t.Errorf("the shim's child %d survived", grandchild)
	}
	if killedBySIGKILL(t, bystander.Process.Pid) || !alive(bystander.Process.Pid) {
		t.Errorf("bystander sleep was killed")
	}
	if left := mountsBelow(t, dataDir, runDir); len(left) > 0 {
		t.Errorf("mounts left: %q", left)
	}
	if _, err := os.Stat(netnsPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("netns file %s remains (%v)", netnsPath, err)
	}
	for _, name := range []string{"opbr" + id, "opv" + id + "a", "opv" + id + "b", "opv" + id + "c", "opv" + id + "d", "opfl" + id + ".1"} {
		if linkExists(name) {
			t.Errorf("interface %s remains", name)
		}
	}
	if !linkExists("opkp"+id) || fileMissing(bystanderFile) {
		t.Error("a bystander interface or netns file was removed")
	}
	if haveIPT == nil {
		for _, tool := range []string{"iptables-save", "ip6tables-save"} {
			dump := run(t, tool)
			if strings.Contains(dump, "OPT"+id) {
				t.Errorf("%s still shows OPT%s chains:\n%s", tool, id, grepLines(dump, "OPT"+id))
			}
		}
		if !strings.Contains(run(t, "iptables-save", "-t", "filter"), "-A FORWARD -j KEEP"+id) {
			t.Error("the bystander chain or its jump was removed")
		}
	}
	if haveNft == nil {
		tables := run(t, nft, "list", "tables")
		if strings.Contains(tables, "optest"+id) || !strings.Contains(tables, "inet opkeep"+id) {
			t.Errorf("nft tables after reset:\n%s", tables)
		}
	}
	for _, root := range cgroupRoots(t) {
		if !fileMissing(filepath.Join(root, "optestcg"+id)) {
			t.Errorf("cgroup %s/optestcg%s remains", root, id)
		}
	}
	if !fileMissing(runDir) {
		t.Errorf("run dir %s remains", runDir)
	}
	for _, f := range []string{keepFile, bindSourceFile, filepath.Join(podLogDir, "ns_pod_uid", "0.log")} {
		if fileMissing(f) {
			t.Errorf("%s was removed without purge", f)
		}
	}

	again, err := Reset(context.Background(), opts)
	if err != nil || len(again.Actions) != 0 {
		t.Errorf("second Reset: %v, actions:\n%s", err, actionLines(again))
	}

	opts.Purge = true
	purged, err := Reset(context.Background(), opts)
	if err != nil {
		t.Fatalf("Reset with purge: %v", err)
	}
	want := []string{"removed " + dataDir, "removed " + podLogDir}
	if got := actionLines(purged); got != strings.Join(want, "\n") {
		t.Errorf("purge actions:\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
	if !fileMissing(dataDir) || !fileMissing(podLogDir) || fileMissing(bindSourceFile) {
		t.Errorf("after purge: data dir gone %v, pod logs gone %v, bind source kept %v",
			fileMissing(dataDir), fileMissing(podLogDir), !fileMissing(bindSourceFile))
	}
	if again, err := Reset(context.Background(), opts); err != nil || len(again.Actions) != 0 {
		t.Errorf("Reset after purge: %v, actions:\n%s", err, actionLines(again))
	}
	if !fileMissing(dataDir) {
		t.Error("Reset recreated the purged data dir")
	}
}

func TestResetRefusesWhileAServerHoldsTheLock(t *testing.T) {
	requireRoot(t)
	tmp := t.TempDir()
	dataDir := filepath.Join(tmp, "data")
	volume := filepath.Join(dataDir, "kubelet", "pods", "p", "volumes", "v")
	mustMount(t, "tmpfs", volume, "tmpfs", 0)

	server := &exec.Cmd{Path: os.Args[0], Args: []string{"outpost", "server"},
		Env: append(os.Environ(), helperEnv+"=hold-lock:"+dataDir)}
	out, _ := server.StdoutPipe()
	start(t, server)
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "locked\n" {
		t.Fatalf("helper said %q", line)
	}
	opts := Options{DataDir: dataDir, RunDir: filepath.Join(tmp, "run")}

	rep, err := Reset(context.Background(), opts)
	want := fmt.Sprintf("another outpost server is running with data dir %s (pid %d); stop it first, or use --force to stop it as well",
		dataDir, server.Process.Pid)
	if err == nil || err.Error() != want {
		t.Fatalf("Reset while locked = %v, want %q", err, want)
	}
	if len(rep.Actions) != 0 || len(mountsBelow(t, dataDir)) != 1 || killedBySIGKILL(t, server.Process.Pid) {
		t.Fatalf("a refused Reset changed something: %s", actionLines(rep))
	}

	opts.Force = true
	rep, err = Reset(context.Background(), opts)
	if err != nil {
		t.Fatalf("forced Reset: %v", err)
	}
	if !killedBySIGKILL(t, server.Process.Pid) {
		t.Error("forced Reset left the lock holder running")
	}
	if left := mountsBelow(t, dataDir); len(left) > 0 {
		t.Errorf("forced Reset left mounts %q", left)
	}
	if !strings.Contains(actionLines(rep), fmt.Sprintf("killed process %d ", server.Process.Pid)) {
		t.Errorf("actions do not name the server:\n%s", actionLines(rep))
	}
}

func TestResetOnAnEmptyHostDoesNothing(t *testing.T) {
	requireRoot(t)
	id := fmt.Sprintf("%04x", rand.IntN(0x10000))
	tmp := t.TempDir()
	opts := Options{
		DataDir: filepath.Join(tmp, "data"), RunDir: filepath.Join(tmp, "run"),
		NetnsDir: filepath.Join(tmp, "netns"), NetnsPrefix: "cni-",
		Bridges: []string{"opbr" + id}, InterfacePrefixes: []string{"opfl" + id + "."},
		ChainPrefixes: []string{"OPT" + id + "-"}, NftTables: []string{"optest" + id},
		CgroupNames: []string{"optestcg" + id}, PodLogDir: filepath.Join(tmp, "pods"), Purge: true,
	}
	rep, err := Reset(context.Background(), opts)
	if err != nil || len(rep.Actions) != 0 {
		t.Errorf("Reset = %v, actions:\n%s", err, actionLines(rep))
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("Reset created %v", entries)
	}
}

func TestResetRejectsBadOptionsBeforeDoingAnything(t *testing.T) {
	tmp := t.TempDir()
	for _, o := range []Options{
		{DataDir: "relative"},
		{DataDir: "/"},
		{DataDir: filepath.Join(tmp, "d"), RunDir: "/run"},
		{DataDir: filepath.Join(tmp, "d"), ChainPrefixes: []string{""}},
	} {
		if rep, err := Reset(context.Background(), o); err == nil || len(rep.Actions) != 0 {
			t.Errorf("Reset(%+v) = %v, %v; want an error and no actions", o, rep, err)
		}
	}
	// A data dir that is a symlink to something near / is refused too.
	link := filepath.Join(tmp, "link")
	os.Symlink("/var", link)
	if _, err := Reset(context.Background(), Options{DataDir: link}); err == nil || !strings.Contains(err.Error(), "too close to /") {
		t.Errorf("symlink to /var: %v", err)
	}
}

func fileMissing(path string) bool {
	_, err := os.Lstat(path)
	return errors.Is(err, os.ErrNotExist)
}

func actionLines(r Report) string {
	var lines []string
	for _, a := range r.Actions {
		lines = append(lines, a.String())
	}
	return strings.Join(lines, "\n")
}

func grepLines(text, substr string) string {
	return strings.Join(slices.DeleteFunc(strings.Split(text, "\n"), func(l string) bool {
		return !strings.Contains(l, substr)
	}), "\n")
}
