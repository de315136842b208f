package node

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd/v2/client"

	"github.com/outpost-platform/outpost/appliance/fsutil"
)

// ContainerdConfig says where containerd keeps its state and finds the
// embedded binaries.
type ContainerdConfig struct {
	// DataDir is outpost's data dir; containerd's root is <DataDir>/containerd.
	DataDir string
	// RunDir holds sockets and runtime state (/run/outpost).
	RunDir string
	// BinDir holds runc, the shim and the CNI plugins.
	BinDir string
	// SandboxImage is the pause image reference.
	SandboxImage string
	// ExtraArgs are appended to containerd's command line.
	ExtraArgs []string
}

// Socket is containerd's gRPC socket.
func (c ContainerdConfig) Socket() string {
	return filepath.Join(c.RunDir, "containerd", "containerd.sock")
}

// ConfigPath is containerd's generated config.toml.
func (c ContainerdConfig) ConfigPath() string {
	return filepath.Join(c.DataDir, "agent", "etc", "containerd", "config.toml")
}

// CertsDir is containerd's registry hosts directory (hosts.toml per registry).
func (c ContainerdConfig) CertsDir() string {
	return filepath.Join(c.DataDir, "agent", "etc", "containerd", "certs.d")
}

// CNIConfDir holds the CNI network configuration.
func (c ContainerdConfig) CNIConfDir() string {
	return filepath.Join(c.DataDir, "agent", "etc", "cni", "net.d")
}

// LogPath is where containerd's output goes.
func (c ContainerdConfig) LogPath() string { return filepath.Join(c.DataDir, "logs", "containerd.log") }

// RenderConfig returns containerd's config.toml (version 3). Plugins Outpost
// never uses are disabled to save memory and start-up time; the CRI plugin
// uses the embedded pause image, runc and CNI plugins, and resolves every
// registry through CertsDir so the local registry mirrors them all.
func (c ContainerdConfig) RenderConfig() string {
	q := func(s string) string { return fmt.Sprintf("%q", s) }
	return `version = 3
root = ` + q(filepath.Join(c.DataDir, "containerd")) + `
state = ` + q(filepath.Join(c.RunDir, "containerd")) + `
disabled_plugins = [
  "io.containerd.snapshotter.v1.blockfile",
  "io.containerd.snapshotter.v1.erofs",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
  "io.containerd.grpc.v1.transfer",
]

[grpc]
  address = ` + q(c.Socket()) + `

[ttrpc]
  address = ` + q(filepath.Join(c.RunDir, "containerd", "containerd.sock.ttrpc")) + `

[metrics]
  address = "127.0.0.1:1338"

[plugins.'io.containerd.cri.v1.images']
  snapshotter = "overlayfs"
  disable_snapshot_annotations = true
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = ` + q(c.SandboxImage) + `
  [plugins.'io.containerd.cri.v1.images'.registry]
    config_path = ` + q(c.CertsDir()) + `

[plugins.'io.containerd.cri.v1.runtime']
  enable_selinux = false
  # Containers never get an oom_score_adj below containerd's own (-999 where
  # the host allows it): hosts or sandboxes without CAP_SYS_RESOURCE refuse
  # lower values and every pod would fail to start.
  restrict_oom_score_adj = true
  [plugins.'io.containerd.cri.v1.runtime'.containerd]
    default_runtime_name = "runc"
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
        BinaryName = ` + q(filepath.Join(c.BinDir, "runc")) + `
        SystemdCgroup = false
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = [` + q(c.BinDir) + `]
    conf_dir = ` + q(c.CNIConfDir()) + `
`
}

// RunContainerd supervises containerd as a child process (`outpost
// containerd --config ...`) until ctx is done: it is restarted with backoff
// when it dies, and stopped with SIGTERM (then SIGKILL) at shutdown. ready
// is closed the first time containerd answers on its socket.
func RunContainerd(ctx context.Context, log *slog.Logger, cfg ContainerdConfig, ready chan<- struct{}) error {
	if err := fsutil.WriteFileAtomic(cfg.ConfigPath(), []byte(cfg.RenderConfig()), 0o600); err != nil {
		return fmt.Errorf("writing containerd config: %w", err)
	}
	for _, d := range []string{cfg.CNIConfDir(), cfg.CertsDir(), filepath.Dir(cfg.LogPath()), filepath.Dir(cfg.Socket())} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("creating %s: %w", d, err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding outpost executable: %w", err)
	}
	args := append([]string{"containerd", "--config", cfg.ConfigPath()}, cfg.ExtraArgs...)
	log.Info("starting component", "component", "containerd", "args", args)
	backoff := time.Second
	readySignalled := false
	for {
		logFile, err := os.OpenFile(cfg.LogPath(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("opening containerd log: %w", err)
		}
		cmd := exec.Command(self, args...)
		cmd.Stdout, cmd.Stderr = logFile, logFile
		// The shims find runc and the CNI plugins through PATH; host tools
		// (iptables, mount) stay reachable after them.
		cmd.Env = append(os.Environ(), "PATH="+cfg.BinDir+":"+os.Getenv("PATH"))
		// containerd must not outlive outpost (a killed outpost restarts
		// into a fresh containerd that owns the socket); running containers
		// survive, their shims are not its children.
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
		started := time.Now()
		if err := cmd.Start(); err != nil {
			logFile.Close()
			return fmt.Errorf("starting containerd: %w", err)
		}
		// Like the kubelet, containerd should be among the last processes the
		// OOM killer picks; not permitted everywhere, hence best effort.
		_ = os.WriteFile(fmt.Sprintf("/proc/%d/oom_score_adj", cmd.Process.Pid), []byte("-999"), 0)
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		if !readySignalled {
			if err := waitContainerd(ctx, cfg.Socket(), exited); err == nil {
				close(ready)
				readySignalled = true
				log.Info("component ready", "component", "containerd")
			}
		}
		select {
		case <-ctx.Done():
			stopProcess(cmd, exited, 10*time.Second)
			logFile.Close()
			return nil
		case err := <-exited:
			logFile.Close()
			if ctx.Err() != nil {
				return nil
			}
			if time.Since(started) > time.Minute {
				backoff = time.Second
			}
			log.Error("containerd exited; restarting", "err", err, "log", cfg.LogPath(), "in", backoff)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 30*time.Second)
		}
	}
}

// waitContainerd returns when containerd answers a Version call, or an
// error when it exits or ctx ends first. The exit is re-posted for the caller.
func waitContainerd(ctx context.Context, socket string, exited chan error) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-exited:
			exited <- err
			return fmt.Errorf("containerd exited during start: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
		if _, err := os.Stat(socket); err != nil {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		c, err := containerd.New(socket, containerd.WithTimeout(2*time.Second))
		if err == nil {
			_, err = c.Version(cctx)
			c.Close()
		}
		cancel()
		if err == nil {
			return nil
		}
	}
}

func stopProcess(cmd *exec.Cmd, exited <-chan error, grace time.Duration) {
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(grace):
		cmd.Process.Kill()
		<-exited
	}
}
