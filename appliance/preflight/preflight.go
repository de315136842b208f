package preflight

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
)

// Status is the outcome of one check.
type Status int

// Statuses from best to worst; only Fail stops a server from starting.
const (
	Pass Status = iota
	Warn
	Fail
)

func (s Status) String() string {
	switch s {
	case Pass:
		return "PASS"
	case Warn:
		return "WARN"
	case Fail:
		return "FAIL"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Result is what one check found. Fix, when set, says what the operator can
// do about a Warn or Fail.
type Result struct {
	Name   string
	Status Status
	Detail string
	Fix    string
}

// Port is a TCP port some component will listen on.
type Port struct {
	// Number is the TCP port.
	Number int
	// Component names who listens there, e.g. "kube-apiserver".
	Component string
	// Setting says how the operator moves the port elsewhere, e.g.
	// "https-listen-port"; empty when the port is fixed.
	Setting string
}

// Options says what to check.
type Options struct {
	// DataDir is the server's data directory. It need not exist; the checks
	// then look at its nearest existing parent and create nothing.
	DataDir string
	// Ports are checked for being free, in the given order.
	Ports []Port
	// ApplyFixes lets checks change the running host where that is safe and
	// makes them pass: turn on net.ipv4.ip_forward and
	// net.bridge.bridge-nf-call-ip(6)tables, and load the overlay and
	// br_netfilter modules with modprobe. Off (the default), checks only
	// report. Changes last until reboot.
	ApplyFixes bool
}

// Report is the outcome of Run: one Result per check, in a fixed order.
type Report struct {
	Results []Result
}

// Failed reports whether any check failed.
func (r Report) Failed() bool {
	for _, res := range r.Results {
		if res.Status == Fail {
			return true
		}
	}
	return false
}

// WriteText writes one aligned line per result:
//
//	PASS  cgroups   v2 (unified): cpu, memory, pids, cpuset, io
//	FAIL  port 6443 in use by nginx (pid 123); stop it or set https-listen-port
func (r Report) WriteText(w io.Writer) error {
	width := 0
	for _, res := range r.Results {
		width = max(width, len(res.Name))
	}
	var b strings.Builder
	for _, res := range r.Results {
		line := res.Detail
		if res.Fix != "" && res.Status != Pass {
			line += "; " + res.Fix
		}
		fmt.Fprintf(&b, "%-4s  %-*s  %s\n", res.Status, width, res.Name, line)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Run performs every check and returns their results. It never fails as a
// whole: a check that cannot tell reports Warn or Fail with the reason.
//
// A server must call Run before LockDataDir and before it starts listening,
// or it would find its own lock and ports.
func Run(ctx context.Context, opts Options) Report {
	return newHost().run(ctx, opts)
}

// host is where checks look; tests point it at a fake /proc or /sys.
type host struct {
	procDir  string
	lookPath func(file string) (string, error)
}

func newHost() *host {
	return &host{procDir: "/proc", lookPath: exec.LookPath}
}

func (h *host) proc(rel string) string { return h.procDir + "/" + rel }

func (h *host) run(ctx context.Context, opts Options) Report {
	var rep Report
	add := func(r ...Result) { rep.Results = append(rep.Results, r...) }
	add(checkRoot())
	add(h.checkKernel())
	add(h.checkCgroups())
	add(h.checkOverlay(ctx, opts.ApplyFixes))
	add(h.checkBridgeNetfilter(ctx, opts.ApplyFixes)...)
	add(h.checkIPForward(opts.ApplyFixes))
	add(h.checkPacketFilter(ctx))
	add(h.checkSwap())
	add(checkDataDir(opts.DataDir)...)
	add(checkDataDirLock(opts.DataDir))
	for _, p := range opts.Ports {
		add(h.checkPort(p))
	}
	return rep
}
