package bundle

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/outpost-platform/outpost/appliance/registry"
	"github.com/outpost-platform/outpost/appliance/registry/registrytest"
)

// fixture is a vendor's workspace: images in an upstream registry, an OCI
// layout, a docker archive, a chart, manifests and files, and a spec.
type fixture struct {
	dir   string
	up    *upstream
	spec  *Spec
	refs  map[string]string // spec ref → expected manifest digest at the site
	repos map[string]string // spec ref → local repository:tag
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	up := newUpstream(t)
	f := &fixture{dir: dir, up: up, refs: map[string]string{}, repos: map[string]string{}}

	idx, amd, _ := multiArch(t)
	webRef := up.pushIndex(t, "library/web:1.0", idx)
	f.refs[webRef] = digestOf(t, idx)
	f.repos[webRef] = mirrorRepo(t, webRef)
	_ = amd

	apiImg := ociImage(t, randomLayer(t, 4000), randomLayer(t, 1000))
	writeLayout(t, filepath.Join(dir, "layout"), apiImg, "2.1")
	f.refs["ghcr.io/acme/api:2.1"] = digestOf(t, apiImg)
	f.repos["ghcr.io/acme/api:2.1"] = "ghcr.io/acme/api:2.1"

	workerImg := withPlatform(t, randomImage(t, 2500, 2), "amd64")
	writeDockerArchive(t, filepath.Join(dir, "worker.tar"), workerImg, "registry.example.com/acme/worker:3")
	f.refs["registry.example.com/acme/worker:3"] = digestOf(t, workerImg)
	f.repos["registry.example.com/acme/worker:3"] = "registry.example.com/acme/worker:3"

	writeChart(t, filepath.Join(dir, "charts", "shop.tgz"), "shop", "1.0.0")
	writeFile(t, filepath.Join(dir, "deploy", "a.yaml"), "kind: Namespace\n")
	writeFile(t, filepath.Join(dir, "deploy", "b.yaml"), "kind: Service\n")
	writeFile(t, filepath.Join(dir, "docs", "NOTES.md"), "read me\n")

	f.spec = &Spec{
		Name: "shop", Version: "1.0.0", Kind: KindApp, Description: "test shop",
		Images: []ImageSpec{
			{Ref: webRef},
			{Ref: "ghcr.io/acme/api:2.1", From: "oci:./layout"},
			{Ref: "registry.example.com/acme/worker:3", From: "docker-archive:./worker.tar"},
		},
		Charts:    []FileSpec{{Path: "charts/shop.tgz"}},
		Manifests: []FileSpec{{Path: "deploy/*.yaml"}},
		Files:     []FileSpec{{Path: "docs/NOTES.md", As: "NOTES.md"}},
	}
	f.spec.SetDir(dir)
	return f
}

func mirrorRepo(t *testing.T, ref string) string {
	r, err := registry.ResolveRef(ref)
	if err != nil {
		t.Fatal(err)
	}
	return r.Repository + ":" + r.Tag
}

func (f *fixture) create(t *testing.T, out string, opts CreateOptions) *Manifest {
	t.Helper()
	m, err := Create(context.Background(), f.spec, out, opts)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	return m
}

func TestRoundTrip(t *testing.T) {
	vk := newVendorKey(t)
	f := newFixture(t)
	out := filepath.Join(t.TempDir(), "shop.bundle")
	m := f.create(t, out, CreateOptions{SigningKey: vk.priv})
	if len(m.Images) != 3 || m.Images[0].Platforms[0] != "linux/amd64" || len(m.Images[0].Platforms) != 1 {
		t.Fatalf("manifest images: %+v", m.Images)
	}

	s := newSite(t, registrytest.Options{}, vk.pubPEM)
	var phases []string
	var last Progress
	res, err := s.importer.ImportFile(context.Background(), out, ImportOptions{}, func(p Progress) {
		if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
			phases = append(phases, p.Phase)
		}
		if p.Done < last.Done {
			t.Errorf("progress went backwards: %d after %d", p.Done, last.Done)
		}
		last = p
	})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	if strings.Join(phases, ",") != "verifying,writing,linking,done" || last.Done != last.Total || last.BlobsDone != len(m.Blobs) {
		t.Fatalf("progress phases %v, last %+v", phases, last)
	}
	if !strings.HasPrefix(res.Signer, "vendor (") {
		t.Fatalf("signer %q", res.Signer)
	}
	for ref, want := range f.refs {
		repoTag := f.repos[ref]
		i := strings.LastIndex(repoTag, ":")
		img := s.pull(t, repoTag[:i], repoTag[i+1:])
		if ref == f.spec.Images[0].Ref {
			continue // an index: crane.Pull picks the platform child
		}
		if got := digestOf(t, img); got != want {
			t.Errorf("%s: pulled %s, want %s", ref, got, want)
		}
		if err := validate.Image(img); err != nil {
			t.Errorf("%s: %v", ref, err)
		}
	}
	// The multi-platform image keeps its index digest; amd64 is there.
	webRef := f.spec.Images[0].Ref
	repo := strings.SplitN(f.repos[webRef], ":", 2)
	resp, err := s.env.Client().Head(s.env.URL("/v2/" + repo[0] + "/manifests/" + repo[1]))
	if err != nil || resp.Header.Get("Docker-Content-Digest") != f.refs[webRef] {
		t.Fatalf("index digest: %v %v", resp.Header.Get("Docker-Content-Digest"), err)
	}
	images, _ := s.env.Registry.Images(context.Background())
	for _, img := range images {
		if img.Source != "bundle shop 1.0.0" {
			t.Errorf("%s:%s source %q", img.Repository, img.Tag, img.Source)
		}
	}
	for _, p := range []string{"charts/shop-1.0.0.tgz", "manifests/a.yaml", "manifests/b.yaml", "files/NOTES.md"} {
		if _, err := os.Stat(filepath.Join(res.ContentDir, p)); err != nil {
			t.Errorf("content %s: %v", p, err)
		}
	}
	hist, err := s.importer.History().List(context.Background())
	if err != nil || len(hist) != 1 || hist[0].Name != "shop" || len(hist[0].Images) != 3 {
		t.Fatalf("history: %+v %v", hist, err)
	}

	// Re-import: every image blob is present and skipped unread.
	res2, err := s.importer.ImportFile(context.Background(), out, ImportOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	contentBytes := int64(0)
	for _, c := range m.contentDigests() {
		_ = c
	}
	for _, b := range m.Blobs {
		if m.contentDigests()[b.Digest] {
			contentBytes += b.Size
		}
	}
	if res2.BytesWritten != contentBytes || res2.BlobsSkipped != len(m.imageBlobs()) {
		t.Fatalf("re-import wrote %d bytes (content is %d), skipped %d of %d blobs", res2.BytesWritten, contentBytes, res2.BlobsSkipped, len(m.imageBlobs()))
	}
}

func TestPlatformSelection(t *testing.T) {
	up := newUpstream(t)
	idx, _, _ := multiArch(t)
	ref := up.pushIndex(t, "multi/app:1", idx)
	single := withPlatform(t, ociImage(t, randomLayer(t, 100)), "arm64")
	armRef := up.push(t, "arm/only:1", single)
	tests := []struct {
		name      string
		platforms []string
		ref       string
		want      []string
		err       string
	}{
		{"default amd64", nil, ref, []string{"linux/amd64"}, ""},
		{"both", []string{"linux/amd64", "linux/arm64"}, ref, []string{"linux/amd64", "linux/arm64"}, ""},
		{"all", []string{"all"}, ref, []string{"linux/amd64", "linux/arm64"}, ""},
		{"absent platform", []string{"linux/s390x"}, ref, nil, "no platform matches linux/s390x (the image has linux/amd64, linux/arm64)"},
		{"single image of another platform", nil, armRef, nil, "the image is linux/arm64 only"},
		{"bad platform", []string{"linux"}, ref, nil, "must be os/arch"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := &Spec{Name: "p", Version: "1.0.0", Platforms: tc.platforms, Images: []ImageSpec{{Ref: tc.ref}}}
			m, err := Create(context.Background(), spec, filepath.Join(t.TempDir(), "b"), CreateOptions{})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(m.Images[0].Platforms, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("platforms %v, want %v", m.Images[0].Platforms, tc.want)
			}
		})
	}
}

var _ = time.Second

// TestSystemBundleFromArchive packs every named image of an OCI layout
// archive (the shape of the node's system-images.tar) as a system bundle.
func TestSystemBundleFromArchive(t *testing.T) {
	dir := t.TempDir()
	layoutDir := filepath.Join(dir, "layout")
	pause := ociImage(t, randomLayer(t, 700))
	coredns := ociImage(t, randomLayer(t, 900))
	writeLayout(t, layoutDir, pause, "registry.k8s.io/pause:3.10")
	lp, err := layoutPath(layoutDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(coredns, layoutAnnotations(map[string]string{"io.containerd.image.name": "registry.k8s.io/coredns/coredns:v1.12.0"})); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(dir, "system-images.tar")
	tarDir(t, layoutDir, archive)
	spec := &Spec{Name: "outpost-system", Version: "0.1.0", Kind: KindSystem, Images: []ImageSpec{{From: "oci-archive:" + archive}}}
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "system.bundle")
	m, err := Create(context.Background(), spec, out, CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, img := range m.Images {
		refs = append(refs, img.Ref)
	}
	if strings.Join(refs, ",") != "registry.k8s.io/pause:3.10,registry.k8s.io/coredns/coredns:v1.12.0" {
		t.Fatalf("images %v", refs)
	}
	s := newSite(t, registrytest.Options{}, nil)
	if _, err := s.importer.ImportFile(context.Background(), out, ImportOptions{AllowUnsigned: true}, nil); err != nil {
		t.Fatal(err)
	}
	if got := digestOf(t, s.pull(t, "registry.k8s.io/coredns/coredns", "v1.12.0")); got != digestOf(t, coredns) {
		t.Fatalf("coredns digest %s", got)
	}
}

// TestExampleSpecs keeps the examples in bundles/examples parseable.
func TestExampleSpecs(t *testing.T) {
	files, _ := filepath.Glob("../../bundles/examples/*/bundle.yaml")
	if len(files) == 0 {
		t.Fatal("no example bundle.yaml found")
	}
	for _, f := range files {
		if _, err := LoadSpec(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestRealSystemImages packs the node's built system image archive (make
// assets) as a system bundle and imports it, when the archive exists.
func TestRealSystemImages(t *testing.T) {
	archive, _ := filepath.Abs("../node/assets/images/system-images.tar")
	if _, err := os.Stat(archive); err != nil {
		t.Skip("appliance/node/assets/images/system-images.tar is not built (make assets)")
	}
	spec, err := LoadSpec("../../bundles/examples/system/bundle.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "system.bundle")
	m, err := Create(context.Background(), spec, out, CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := newSite(t, registrytest.Options{}, nil)
	res, err := s.importer.ImportFile(context.Background(), out, ImportOptions{AllowUnsigned: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range res.Images {
		t.Logf("%s → %s (%s)", img.Ref, img.Repository, img.Digest)
	}
	if len(res.Images) != len(m.Images) || len(m.Images) == 0 {
		t.Fatalf("imported %d of %d images", len(res.Images), len(m.Images))
	}
}
