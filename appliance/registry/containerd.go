package registry

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// WriteContainerdHosts configures containerd (config_path = certsDir) to try
// the local registry at mirrorHost ("10.0.0.5:5000") first for EVERY
// upstream registry, trusting the appliance CA in caFile:
//
//	certsDir/_default/hosts.toml    every host: local registry, then upstream
//	certsDir/<host_port_>/hosts.toml the local registry itself, over TLS
//
// _default has no "server" key, so containerd keeps the image's own host as
// the fallback; offline that fallback simply fails after the mirror missed.
// The mirror is trusted for pull and resolve only: tags resolve locally, so
// "nginx:1.27" runs from what a bundle imported. containerd adds ?ns=<host>
// to mirror requests, which the registry maps to <host>/<path> repositories.
func WriteContainerdHosts(certsDir, mirrorHost, caFile string) error {
	if mirrorHost == "" || strings.ContainsAny(mirrorHost, "/\"\n") {
		return fmt.Errorf("writing containerd registry hosts: invalid mirror host %q", mirrorHost)
	}
	if !filepath.IsAbs(caFile) {
		return fmt.Errorf("writing containerd registry hosts: CA file %q must be an absolute path", caFile)
	}
	mirror := "https://" + mirrorHost
	ca := strconv.Quote(caFile)
	defaults := "# Written by Outpost: every registry is served by the local registry first.\n" +
		"[host." + strconv.Quote(mirror) + "]\n" +
		"  capabilities = [\"pull\", \"resolve\"]\n" +
		"  ca = " + ca + "\n"
	self := "# Written by Outpost: the local registry.\n" +
		"server = " + strconv.Quote(mirror) + "\n\n" +
		"[host." + strconv.Quote(mirror) + "]\n" +
		"  capabilities = [\"pull\", \"resolve\", \"push\"]\n" +
		"  ca = " + ca + "\n"
	for dir, content := range map[string]string{"_default": defaults, hostDirName(mirrorHost): self} {
		if err := writeFileAtomic(filepath.Join(certsDir, dir, "hosts.toml"), []byte(content), 0o644); err != nil {
			return fmt.Errorf("writing containerd registry hosts: %w", err)
		}
	}
	return nil
}

// hostDirName is the directory containerd looks up first for a host:
// "host:port" becomes "host_port_" (no colon in file names).
func hostDirName(host string) string {
	if i := strings.LastIndex(host, ":"); i > 0 {
		return host[:i] + "_" + host[i+1:] + "_"
	}
	return host
}

// writeFileAtomic replaces path with data so readers see old or new content.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), mode); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
