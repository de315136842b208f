package hostclean

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/outpost-platform/outpost/appliance/preflight"
)

// Options says what Reset removes. Empty lists and paths turn the matching
// step off, so tests can aim every step at names of their own.
type Options struct {
	// DataDir is the server's data directory (required): processes whose
	// binary lives here are stopped and mounts below it are unmounted; it
	// holds the containerd root, the kubelet root dir and the CNI binaries.
	DataDir string
	// RunDir holds runtime state (containerd's state dir, task rootfs
	// mounts); everything mounted below it is unmounted and it is removed.
	// Default /run/outpost.
	RunDir string
	// NetnsDir and NetnsPrefix name the pod network namespaces: files in
	// NetnsDir whose names start with NetnsPrefix. Default /run/netns, "cni-".
	NetnsDir    string
	NetnsPrefix string
	// Bridges are deleted along with the veths attached to them. Default cni0.
	Bridges []string
	// InterfacePrefixes name other interfaces to delete. Default "flannel.".
	InterfacePrefixes []string
	// ChainPrefixes name the iptables/ip6tables chains to delete, in every
	// table, with the rules elsewhere that jump to them. Default KUBE-, CNI-,
	// FLANNEL-.
	ChainPrefixes []string
	// NftTables are nftables tables to delete in any family. Default kube-proxy.
	NftTables []string
	// CgroupNames name the cgroups to empty and remove, in every hierarchy:
	// a path component equal to a name, or starting with the name followed
	// by "." or "-" (kubepods.slice, kubepods-burstable.slice,
	// outpost.service). Default kubepods, outpost.
	CgroupNames []string
	// PodLogDir holds container logs; it is removed only with Purge.
	// Default /var/log/pods.
	PodLogDir string
	// Purge also removes DataDir and PodLogDir.
	Purge bool
	// Force runs even while a server holds the data dir lock, and stops that
	// server too.
	Force bool
}

// DefaultOptions returns the options `outpost reset` uses for dataDir.
func DefaultOptions(dataDir string) Options {
	return Options{
		DataDir:           dataDir,
		RunDir:            "/run/outpost",
		NetnsDir:          "/run/netns",
		NetnsPrefix:       "cni-",
		Bridges:           []string{"cni0"},
		InterfacePrefixes: []string{"flannel."},
		ChainPrefixes:     []string{"KUBE-", "CNI-", "FLANNEL-"},
		NftTables:         []string{"kube-proxy"},
		CgroupNames:       []string{"kubepods", "outpost"},
		PodLogDir:         "/var/log/pods",
	}
}

// Action is one thing Reset removed.
type Action struct {
	// Kind says what was done: "killed process", "unmounted", ...
	Kind string
	// Target names what it was done to.
	Target string
}

func (a Action) String() string { return a.Kind + " " + a.Target }

// Report lists what Reset did, in order. It is empty when there was nothing
// to remove.
type Report struct {
	Actions []Action
}

func (r *Report) add(kind, format string, a ...any) {
	r.Actions = append(r.Actions, Action{Kind: kind, Target: fmt.Sprintf(format, a...)})
}

// Reset stops everything an Outpost server started on this host and removes
// what it left behind, in this order: processes, mounts, pod network
// namespaces and interfaces, iptables and nftables rules, cgroups, the run
// dir, and with Purge the data dir and pod logs. It goes on past a failed
// step and returns every failure joined; the Report says what was done.
//
// Reset refuses, doing nothing, while an outpost server holds the data dir
// lock, unless Force is set. While it runs it holds that lock itself, so a
// server cannot start half-way through.
func Reset(ctx context.Context, opts Options) (Report, error) {
	var rep Report
	if err := opts.validate(); err != nil {
		return rep, err
	}
	c := &cleaner{opts: opts, rep: &rep}
	if err := c.resolveDirs(); err != nil {
		return rep, err
	}

	release, err := c.lock()
	if err != nil {
		return rep, err
	}
	defer func() {
		if release != nil {
			release()
		}
	}()

	var errs []error
	step := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	step(c.stopProcesses(ctx))
	if release == nil && c.opts.Force && isDir(c.dataDir) {
		// A forced run has just stopped the holder; take the lock now so
		// no server starts while the rest is removed.
		if r, err := preflight.LockDataDir(c.dataDir); err == nil {
			release = r
		}
	}
	step(c.unmountAll())
	step(c.removeNetworkNamespaces())
	step(c.removeInterfaces())
	step(c.removeIPTablesChains(ctx))
	step(c.removeNftTables(ctx))
	step(c.removeCgroups())
	step(c.removeRunDir())
	if opts.Purge {
		step(c.purge())
	}
	return rep, errors.Join(errs...)
}

// cleaner carries one Reset run.
type cleaner struct {
	opts Options
	rep  *Report
	// dataDir and runDir are opts' with symlinks resolved, as the kernel
	// reports them in /proc.
	dataDir, runDir string
}

func (o *Options) validate() error {
	var errs []error
	check := func(name, path string, required bool) {
		switch {
		case path == "" && !required:
		case !filepath.IsAbs(path):
			errs = append(errs, fmt.Errorf("%s must be an absolute path, got %q", name, path))
		case strings.Count(filepath.Clean(path), "/") < 2:
			// Guards against "/", "/var" or "/run" wiping a whole tree.
			errs = append(errs, fmt.Errorf("%s %q is too close to / to be removed safely", name, path))
		}
	}
	check("data dir", o.DataDir, true)
	check("run dir", o.RunDir, false)
	check("pod log dir", o.PodLogDir, false)
	if o.NetnsDir != "" && !filepath.IsAbs(o.NetnsDir) {
		errs = append(errs, fmt.Errorf("netns dir must be an absolute path, got %q", o.NetnsDir))
	}
	if o.NetnsDir != "" && o.NetnsPrefix == "" {
		errs = append(errs, errors.New("netns prefix must not be empty: it would select every network namespace"))
	}
	for _, lists := range [][]string{o.InterfacePrefixes, o.ChainPrefixes, o.CgroupNames, o.Bridges, o.NftTables} {
		for _, s := range lists {
			if s == "" {
				errs = append(errs, errors.New("empty name or prefix in options: it would match everything"))
			}
		}
	}
	return errors.Join(errs...)
}

func (c *cleaner) resolveDirs() error {
	resolve := func(dir string) (string, error) {
		if dir == "" {
			return "", nil
		}
		dir = filepath.Clean(dir)
		real, err := filepath.EvalSymlinks(dir)
		if errors.Is(err, os.ErrNotExist) {
			return dir, nil
		}
		if err != nil {
			return "", fmt.Errorf("resolving %s: %w", dir, err)
		}
		if strings.Count(real, "/") < 2 {
			return "", fmt.Errorf("%s resolves to %s, too close to / to be removed safely", dir, real)
		}
		return real, nil
	}
	var err error
	if c.dataDir, err = resolve(c.opts.DataDir); err != nil {
		return err
	}
	c.runDir, err = resolve(c.opts.RunDir)
	return err
}

// lock takes the data dir lock when the data dir exists (no server can be
// using a missing one). release is nil when no lock was taken: the data dir
// is missing, or Force overrode a running server's lock.
func (c *cleaner) lock() (release func(), err error) {
	fi, err := os.Stat(c.dataDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("inspecting data dir: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("data dir %s is not a directory", c.dataDir)
	}
	release, err = preflight.LockDataDir(c.dataDir)
	var locked *preflight.LockedError
	switch {
	case errors.As(err, &locked) && c.opts.Force:
		return nil, nil
	case errors.As(err, &locked):
		return nil, fmt.Errorf("%w; stop it first, or use --force to stop it as well", err)
	case err != nil:
		return nil, err
	}
	return release, nil
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// within reports whether path is dir or lies below it.
func within(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, dir+"/")
}

// below reports whether path lies strictly below dir.
func below(path, dir string) bool {
	return dir != "" && strings.HasPrefix(path, dir+"/")
}

func (c *cleaner) removeRunDir() error {
	if c.runDir == "" {
		return nil
	}
	return c.removeTree(c.runDir)
}

func (c *cleaner) purge() error {
	var errs []error
	if err := c.removeTree(c.dataDir); err != nil {
		errs = append(errs, err)
	}
	if c.opts.PodLogDir != "" {
		if err := c.removeTree(filepath.Clean(c.opts.PodLogDir)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// removeTree deletes dir and everything in it, but never while something
// is still mounted below it: os.RemoveAll would descend into the mount and
// delete whatever it shows (a bind-mounted host directory, say). When dir is
// itself a mount point only its contents go.
func (c *cleaner) removeTree(dir string) error {
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	mounts, err := readMounts()
	if err != nil {
		return fmt.Errorf("removing %s: %w", dir, err)
	}
	isMountPoint := false
	for _, m := range mounts {
		if below(m, dir) {
			return fmt.Errorf("not removing %s: %s is still mounted", dir, m)
		}
		isMountPoint = isMountPoint || m == dir
	}
	if !isMountPoint {
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("removing %s: %w", dir, err)
		}
		c.rep.add("removed", "%s", dir)
		return nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("removing the contents of %s: %w", dir, err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("removing the contents of %s: %w", dir, err)
		}
	}
	if len(entries) > 0 {
		c.rep.add("removed", "the contents of %s (a mount point)", dir)
	}
	return nil
}
