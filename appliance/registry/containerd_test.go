package registry_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/containerd/containerd/v2/core/remotes/docker/config"
	"github.com/google/go-containerregistry/pkg/crane"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/opencontainers/go-digest"

	"github.com/outpost-platform/outpost/appliance/registry"
	"github.com/outpost-platform/outpost/appliance/registry/registrytest"
)

// TestContainerdPullsThroughMirror resolves and fetches upstream references
// with containerd's own resolver configured only by the hosts.toml files
// WriteContainerdHosts writes: the same code path the CRI plugin takes.
func TestContainerdPullsThroughMirror(t *testing.T) {
	env := registrytest.Start(t, registrytest.Options{})
	nginx := randomImage(t, 1024, 2)
	quay := randomImage(t, 1024, 1)
	own := randomImage(t, 512, 1)
	for ref, img := range map[string]v1.Image{
		"/docker.io/library/nginx:1.27": nginx,
		"/quay.io/library/nginx:1.27":   quay,
		"/team/app:1":                   own,
	} {
		if err := crane.Push(img, env.Host+ref, env.Crane(true)...); err != nil {
			t.Fatal(err)
		}
	}
	certsDir := t.TempDir()
	if err := registry.WriteContainerdHosts(certsDir, env.Host, env.CAFile); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	resolver := docker.NewResolver(docker.ResolverOptions{
		Hosts: config.ConfigureHosts(ctx, config.HostOptions{HostDir: config.HostDirFromRoot(certsDir)}),
	})
	tests := []struct {
		ref  string
		want string
	}{
		{"docker.io/library/nginx:1.27", digestOf(t, nginx)},
		{"quay.io/library/nginx:1.27", digestOf(t, quay)},
		{env.Host + "/team/app:1", digestOf(t, own)}, // the registry's own name: no ns, no mapping
	}
	for _, tc := range tests {
		t.Run(tc.ref, func(t *testing.T) {
			name, desc, err := resolver.Resolve(ctx, tc.ref)
			if err != nil {
				t.Fatalf("resolve: %v", err)
			}
			if desc.Digest.String() != tc.want {
				t.Fatalf("resolved %s, want %s", desc.Digest, tc.want)
			}
			fetcher, err := resolver.Fetcher(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			rc, err := fetcher.Fetch(ctx, desc)
			if err != nil {
				t.Fatalf("fetch manifest: %v", err)
			}
			data, _ := io.ReadAll(rc)
			rc.Close()
			if digest.FromBytes(data) != desc.Digest {
				t.Fatal("fetched manifest does not match its digest")
			}
			m, err := registry.ParseManifest(data)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range m.Layers {
				rc, err := fetcher.Fetch(ctx, l)
				if err != nil {
					t.Fatalf("fetch layer %s: %v", l.Digest, err)
				}
				n, _ := io.Copy(io.Discard, rc)
				rc.Close()
				if n != l.Size {
					t.Fatalf("layer %s: %d bytes, want %d", l.Digest, n, l.Size)
				}
			}
		})
	}
}

func TestWriteContainerdHosts(t *testing.T) {
	dir := t.TempDir()
	if err := registry.WriteContainerdHosts(dir, "10.0.0.5:5000", "/var/lib/outpost/pki/ca.crt"); err != nil {
		t.Fatal(err)
	}
	def, err := os.ReadFile(filepath.Join(dir, "_default", "hosts.toml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`[host."https://10.0.0.5:5000"]`, `capabilities = ["pull", "resolve"]`, `ca = "/var/lib/outpost/pki/ca.crt"`} {
		if !strings.Contains(string(def), want) {
			t.Errorf("_default/hosts.toml lacks %s:\n%s", want, def)
		}
	}
	if strings.Contains(string(def), "server =") {
		t.Errorf("_default/hosts.toml must not set server (the upstream host stays the fallback):\n%s", def)
	}
	if _, err := os.Stat(filepath.Join(dir, "10.0.0.5_5000_", "hosts.toml")); err != nil {
		t.Errorf("no hosts.toml for the registry itself: %v", err)
	}
	for _, bad := range [][2]string{{"", "/ca.crt"}, {"a\"b", "/ca.crt"}, {"10.0.0.5:5000", "relative/ca.crt"}} {
		if err := registry.WriteContainerdHosts(dir, bad[0], bad[1]); err == nil {
			t.Errorf("WriteContainerdHosts(%q, %q) accepted", bad[0], bad[1])
		}
	}
}
