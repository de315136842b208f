package preflight

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"

	"github.com/outpost-platform/outpost/appliance/fsutil"
)

// minKernel is the oldest kernel Kubernetes 1.37 supports (4.19 LTS).
var minKernel = kernelVersion{4, 19}

type kernelVersion struct{ major, minor int }

func (v kernelVersion) less(o kernelVersion) bool {
	return v.major < o.major || v.major == o.major && v.minor < o.minor
}

// parseKernelRelease reads the major and minor numbers of a release string
// such as "6.8.0-45-generic" or "4.19.90-24.4.v2101.ky10.aarch64".
func parseKernelRelease(release string) (kernelVersion, error) {
	fields := strings.SplitN(strings.TrimSpace(release), ".", 3)
	if len(fields) < 2 {
		return kernelVersion{}, fmt.Errorf("kernel release %q is not MAJOR.MINOR...", release)
	}
	major, err1 := strconv.Atoi(fields[0])
	// "4.19-rc3" or "5.10+": the minor number ends at the first non-digit.
	minorDigits := fields[1]
	if end := strings.IndexFunc(minorDigits, func(r rune) bool { return r < '0' || r > '9' }); end >= 0 {
		minorDigits = minorDigits[:end]
	}
	minor, err2 := strconv.Atoi(minorDigits)
	if err1 != nil || err2 != nil {
		return kernelVersion{}, fmt.Errorf("kernel release %q is not MAJOR.MINOR...", release)
	}
	return kernelVersion{major, minor}, nil
}

func checkRoot() Result {
	if uid := os.Geteuid(); uid != 0 {
		return Result{Name: "root", Status: Fail, Detail: fmt.Sprintf("running as uid %d", uid),
			Fix: "run as root (sudo outpost ...)"}
	}
	return Result{Name: "root", Status: Pass, Detail: "running as root"}
}

func (h *host) kernelRelease() (string, error) {
	data, err := os.ReadFile(h.proc("sys/kernel/osrelease"))
	if err != nil {
		return "", fmt.Errorf("reading kernel release: %w", err)
	}
	return strings.TrimSpace(string(data)), nil
}

func (h *host) checkKernel() Result {
	res := Result{Name: "kernel"}
	release, err := h.kernelRelease()
	if err != nil {
		res.Status, res.Detail = Warn, err.Error()
		return res
	}
	return classifyKernel(release)
}

func classifyKernel(release string) Result {
	res := Result{Name: "kernel", Detail: release}
	v, err := parseKernelRelease(release)
	switch {
	case err != nil:
		res.Status, res.Detail = Warn, err.Error()
	case v.less(minKernel):
		res.Status = Fail
		res.Detail = fmt.Sprintf("%s is older than %d.%d", release, minKernel.major, minKernel.minor)
		res.Fix = fmt.Sprintf("upgrade to kernel %d.%d or later", minKernel.major, minKernel.minor)
	default:
		res.Status = Pass
	}
	return res
}

// mount is one line of /proc/self/mountinfo, reduced to what checks use.
type mount struct {
	point  string
	fsType string
	super  string // superblock options, e.g. "rw,cpu,cpuacct"
}

// parseMountinfo parses /proc/<pid>/mountinfo (proc(5)); mount points keep
// the kernel's octal escapes decoded.
func parseMountinfo(text string) []mount {
	var mounts []mount
	for _, line := range strings.Split(text, "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 5 || len(g) < 3 {
			continue
		}
		mounts = append(mounts, mount{point: fsutil.UnescapeOctal(f[4]), fsType: g[0], super: g[2]})
	}
	return mounts
}

// cgroupV1Needed are the v1 controllers the kubelet and runc need.
var cgroupV1Needed = []string{"cpu", "cpuacct", "cpuset", "memory", "pids", "devices", "freezer"}

// cgroupV2Needed are the v2 controllers the kubelet needs enabled at the root.
var cgroupV2Needed = []string{"cpu", "cpuset", "memory", "pids"}

func (h *host) checkCgroups() Result {
	mountinfo, err := os.ReadFile(h.proc("self/mountinfo"))
	if err != nil {
		return Result{Name: "cgroups", Status: Fail, Detail: fmt.Sprintf("reading mounts: %v", err)}
	}
	mounts := parseMountinfo(string(mountinfo))
	var v2Controllers string
	if m, ok := unifiedMount(mounts); ok {
		data, err := os.ReadFile(m.point + "/cgroup.controllers")
		if err != nil {
			return Result{Name: "cgroups", Status: Fail, Detail: fmt.Sprintf("reading cgroup v2 controllers: %v", err)}
		}
		v2Controllers = string(data)
	}
	procCgroups, err := os.ReadFile(h.proc("cgroups"))
	if err != nil && v2Controllers == "" {
		return Result{Name: "cgroups", Status: Fail, Detail: fmt.Sprintf("reading /proc/cgroups: %v", err)}
	}
	return classifyCgroups(mounts, string(procCgroups), v2Controllers)
}

// unifiedMount returns the cgroup2 mount at /sys/fs/cgroup, present only on a
// host in unified (v2-only) mode.
func unifiedMount(mounts []mount) (mount, bool) {
	for _, m := range mounts {
		if m.fsType == "cgroup2" && m.point == "/sys/fs/cgroup" {
			return m, true
		}
	}
	return mount{}, false
}

// classifyCgroups decides the cgroup mode and whether the needed controllers
// are there. v2Controllers is the content of the unified root's
// cgroup.controllers, empty when the host is not in unified mode.
func classifyCgroups(mounts []mount, procCgroups, v2Controllers string) Result {
	res := Result{Name: "cgroups"}
	if _, ok := unifiedMount(mounts); ok {
		have := strings.Fields(v2Controllers)
		missing := missingFrom(cgroupV2Needed, have)
		res.Detail = "v2 (unified): " + strings.Join(have, ", ")
		if len(missing) > 0 {
			res.Status = Fail
			res.Detail = fmt.Sprintf("v2 (unified) without %s", strings.Join(missing, ", "))
			res.Fix = "enable the controllers (kernel config or cgroup_enable=... on the kernel command line)"
		}
		return res
	}

	// v1: a controller is usable when the kernel has it enabled and some
	// hierarchy has it mounted (hierarchy id != 0).
	var have []string
	for _, line := range strings.Split(procCgroups, "\n") {
		f := strings.Fields(line)
		if len(f) != 4 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if f[1] != "0" && f[3] == "1" {
			have = append(have, f[0])
		}
	}
	mode := "v1 (legacy)"
	for _, m := range mounts {
		if m.fsType == "cgroup2" {
			mode = "v1 (hybrid)"
		}
	}
	if len(have) == 0 {
		res.Status, res.Detail = Fail, "no cgroup controllers mounted"
		res.Fix = "mount cgroup2 on /sys/fs/cgroup (boot with systemd.unified_cgroup_hierarchy=1)"
		return res
	}
	if missing := missingFrom(cgroupV1Needed, have); len(missing) > 0 {
		res.Status = Fail
		res.Detail = fmt.Sprintf("%s without %s", mode, strings.Join(missing, ", "))
		res.Fix = "enable and mount the controllers, or boot with systemd.unified_cgroup_hierarchy=1 for cgroup v2"
		return res
	}
	res.Status = Warn
	res.Detail = mode + ": " + strings.Join(cgroupV1Needed, ", ")
	res.Fix = "Kubernetes keeps cgroup v1 in maintenance only; boot with systemd.unified_cgroup_hierarchy=1 for v2"
	return res
}

func missingFrom(needed, have []string) []string {
	var missing []string
	for _, n := range needed {
		if !slices.Contains(have, n) {
			missing = append(missing, n)
		}
	}
	return missing
}

// filesystemRegistered reports whether /proc/filesystems lists fs.
func (h *host) filesystemRegistered(fs string) (bool, error) {
	f, err := os.Open(h.proc("filesystems"))
	if err != nil {
		return false, fmt.Errorf("reading /proc/filesystems: %w", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) > 0 && fields[len(fields)-1] == fs {
			return true, nil
		}
	}
	return false, s.Err()
}

// modprobe loads a kernel module. It is only ever called with ApplyFixes.
func (h *host) modprobe(ctx context.Context, module string) error {
	path, err := h.lookPath("modprobe")
	if err != nil {
		return errors.New("modprobe is not in PATH")
	}
	out, err := exec.CommandContext(ctx, path, module).CombinedOutput()
	if err != nil {
		return fmt.Errorf("modprobe %s: %v: %s", module, err, strings.TrimSpace(string(out)))
	}
	return nil
}

func (h *host) checkOverlay(ctx context.Context, applyFixes bool) Result {
	res := Result{Name: "overlayfs"}
	ok, err := h.filesystemRegistered("overlay")
	if err != nil {
		res.Status, res.Detail = Fail, err.Error()
		return res
	}
	if ok {
		res.Status, res.Detail = Pass, "available"
		return res
	}
	res.Status, res.Detail = Fail, "the kernel does not list overlay in /proc/filesystems"
	res.Fix = "modprobe overlay && echo overlay >> /etc/modules-load.d/outpost.conf"
	if !applyFixes {
		return res
	}
	if err := h.modprobe(ctx, "overlay"); err != nil {
		res.Detail += " (" + err.Error() + ")"
		return res
	}
	if ok, _ := h.filesystemRegistered("overlay"); ok {
		res.Status, res.Detail, res.Fix = Pass, "loaded with modprobe (fix applied)", ""
	}
	return res
}

const bridgeNFSysctl = "net/bridge/bridge-nf-call-iptables"

func (h *host) checkBridgeNetfilter(ctx context.Context, applyFixes bool) []Result {
	mod := Result{Name: "br_netfilter", Status: Pass, Detail: "loaded"}
	if _, err := os.Stat(h.proc("sys/" + bridgeNFSysctl)); err != nil {
		mod.Status, mod.Detail = Fail, "not loaded: bridged pod traffic would bypass kube-proxy's rules"
		mod.Fix = "modprobe br_netfilter && echo br_netfilter >> /etc/modules-load.d/outpost.conf"
		if applyFixes {
			if err := h.modprobe(ctx, "br_netfilter"); err != nil {
				mod.Detail += " (" + err.Error() + ")"
			} else if _, err := os.Stat(h.proc("sys/" + bridgeNFSysctl)); err == nil {
				mod.Status, mod.Detail, mod.Fix = Pass, "loaded with modprobe (fix applied)", ""
			}
		}
	}
	sysctl := Result{Name: "bridge-nf-call-iptables"}
	if mod.Status != Pass {
		sysctl.Status, sysctl.Detail = Fail, "unavailable until br_netfilter is loaded"
		return []Result{mod, sysctl}
	}
	names := []string{bridgeNFSysctl}
	if _, err := os.Stat(h.proc("sys/net/bridge/bridge-nf-call-ip6tables")); err == nil {
		names = append(names, "net/bridge/bridge-nf-call-ip6tables")
	}
	return []Result{mod, h.sysctlsOn("bridge-nf-call-iptables", names, applyFixes)}
}

func (h *host) checkIPForward(applyFixes bool) Result {
	return h.sysctlsOn("ip_forward", []string{"net/ipv4/ip_forward"}, applyFixes)
}

// sysctlsOn checks that each boolean sysctl (a path under /proc/sys) is 1,
// turning it on when applyFixes allows.
func (h *host) sysctlsOn(name string, sysctls []string, applyFixes bool) Result {
	res := Result{Name: name, Status: Pass}
	var on, turnedOn, off []string
	for _, s := range sysctls {
		dotted := strings.ReplaceAll(s, "/", ".")
		path := h.proc("sys/" + s)
		data, err := os.ReadFile(path)
		if err != nil {
			return Result{Name: name, Status: Fail, Detail: fmt.Sprintf("reading %s: %v", dotted, err)}
		}
		if strings.TrimSpace(string(data)) == "1" {
			on = append(on, dotted+"=1")
			continue
		}
		if applyFixes {
			if err := os.WriteFile(path, []byte("1\n"), 0o644); err == nil {
				turnedOn = append(turnedOn, dotted)
				continue
			}
		}
		off = append(off, dotted)
	}
	var parts []string
	if len(on) > 0 {
		parts = append(parts, strings.Join(on, ", "))
	}
	if len(turnedOn) > 0 {
		parts = append(parts, "turned on "+strings.Join(turnedOn, ", ")+" (fix applied until reboot)")
	}
	if len(off) > 0 {
		res.Status = Fail
		parts = append(parts, strings.Join(off, ", ")+" is 0")
		var fix []string
		for _, s := range off {
			fix = append(fix, s+"=1")
		}
		res.Fix = "sysctl -w " + strings.Join(fix, " ") + " and persist it in /etc/sysctl.d/90-outpost.conf"
	}
	res.Detail = strings.Join(parts, "; ")
	return res
}

func (h *host) checkPacketFilter(ctx context.Context) Result {
	res := Result{Name: "iptables/nft"}
	found := func(bin string) bool { _, err := h.lookPath(bin); return err == nil }
	iptables := found("iptables") && found("iptables-save") && found("iptables-restore")
	nft := found("nft")
	switch {
	case iptables:
		res.Status, res.Detail = Pass, "iptables"
		if path, err := h.lookPath("iptables"); err == nil {
			// "iptables v1.8.9 (nf_tables)" also tells which backend it drives.
			if out, err := exec.CommandContext(ctx, path, "--version").Output(); err == nil && len(bytes.TrimSpace(out)) > 0 {
				res.Detail = string(bytes.TrimSpace(out))
			}
		}
		if nft {
			res.Detail += ", nft"
		}
	case nft:
		res.Status, res.Detail = Warn, "only nft: kube-proxy must run in nftables mode and the CNI portmap plugin cannot publish hostPorts"
		res.Fix = "install iptables (with iptables-save and iptables-restore)"
	default:
		res.Status, res.Detail = Fail, "neither iptables (with iptables-save/-restore) nor nft is in PATH"
		res.Fix = "install iptables or nftables"
	}
	return res
}

func (h *host) checkSwap() Result {
	res := Result{Name: "swap", Status: Pass, Detail: "off"}
	data, err := os.ReadFile(h.proc("swaps"))
	if err != nil {
		res.Status, res.Detail = Warn, fmt.Sprintf("reading /proc/swaps: %v", err)
		return res
	}
	var devices []string
	for _, line := range strings.Split(string(data), "\n")[1:] {
		if f := strings.Fields(line); len(f) > 0 {
			devices = append(devices, f[0])
		}
	}
	if len(devices) > 0 {
		res.Status = Warn
		res.Detail = "on (" + strings.Join(devices, ", ") + "): pod memory limits are not enforced against swap"
		res.Fix = "swapoff -a and remove swap from /etc/fstab"
	}
	return res
}
