package registry

import (
	"strings"
	"testing"
)

func TestResolveRef(t *testing.T) {
	tests := []struct {
		ref, repo, tag, digest, err string
	}{
		{ref: "nginx", repo: "docker.io/library/nginx", tag: "latest"},
		{ref: "nginx:1.27", repo: "docker.io/library/nginx", tag: "1.27"},
		{ref: "docker.io/library/nginx:1.27", repo: "docker.io/library/nginx", tag: "1.27"},
		{ref: "bitnami/redis:7", repo: "docker.io/bitnami/redis", tag: "7"},
		{ref: "registry.k8s.io/pause:3.10", repo: "registry.k8s.io/pause", tag: "3.10"},
		{ref: "quay.io/prometheus/node-exporter:v1.8.0", repo: "quay.io/prometheus/node-exporter", tag: "v1.8.0"},
		{ref: "myreg:5000/team/app:1", repo: "myreg_5000/team/app", tag: "1"},
		{ref: "MyReg.example.com/app:1", repo: "myreg.example.com/app", tag: "1"},
		{ref: "ghcr.io/a/b@sha256:" + sixtyFour, repo: "ghcr.io/a/b", digest: "sha256:" + sixtyFour},
		{ref: "ghcr.io/a/b:1@sha256:" + sixtyFour, repo: "ghcr.io/a/b", tag: "1", digest: "sha256:" + sixtyFour},
		{ref: "Upper/Case", err: "parsing image reference"},
		{ref: "[::1]:5000/app:1", err: "IPv6"},
		{ref: "", err: "parsing image reference"},
	}
	for _, tc := range tests {
		got, err := ResolveRef(tc.ref)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ResolveRef(%q) error = %v, want %q", tc.ref, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ResolveRef(%q): %v", tc.ref, err)
			continue
		}
		if got.Repository != tc.repo || got.Tag != tc.tag || string(got.Digest) != tc.digest {
			t.Errorf("ResolveRef(%q) = %+v, want %s %s %s", tc.ref, got, tc.repo, tc.tag, tc.digest)
		}
	}
}

const sixtyFour = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestMirrorRepositoryMatchesResolveRef(t *testing.T) {
	// A mirror request and a bundle import of the same reference must
	// land in the same repository.
	tests := []struct{ ns, path, ref string }{
		{"docker.io", "library/nginx", "nginx:1"},
		{"docker.io", "nginx", "nginx:1"},
		{"registry-1.docker.io", "library/nginx", "nginx:1"},
		{"registry.k8s.io", "coredns/coredns", "registry.k8s.io/coredns/coredns:1"},
		{"myreg:5000", "app", "myreg:5000/app:1"},
	}
	for _, tc := range tests {
		repo, err := MirrorRepository(tc.ns, tc.path)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := ResolveRef(tc.ref)
		if err != nil {
			t.Fatal(err)
		}
		if repo != ref.Repository {
			t.Errorf("mirror %s %s → %s, but %s → %s", tc.ns, tc.path, repo, tc.ref, ref.Repository)
		}
	}
}

func TestSplitRepoPath(t *testing.T) {
	tests := []struct{ path, name, rest string }{
		{"/v2/library/nginx/manifests/1.27", "library/nginx", "/manifests/1.27"},
		{"/v2/a/blobs/uploads/", "a", "/blobs/uploads/"},
		{"/v2/a/manifests/b/tags/list", "a/manifests/b", "/tags/list"},
		{"/v2/", "", ""},
		{"/v2/_catalog", "", ""},
	}
	for _, tc := range tests {
		name, rest, _ := splitRepoPath(tc.path)
		if name != tc.name || rest != tc.rest {
			t.Errorf("splitRepoPath(%q) = %q %q, want %q %q", tc.path, name, rest, tc.name, tc.rest)
		}
	}
}
