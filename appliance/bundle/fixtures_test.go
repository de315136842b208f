package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/crane"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/outpost-platform/outpost/appliance/registry/registrytest"
	"github.com/outpost-platform/outpost/appliance/trust"
)

// site is an appliance under test: a running registry and an importer
// trusting the vendor key.
type site struct {
	env      *registrytest.Env
	importer *Importer
	trust    *trust.Store
}

func newSite(t *testing.T, opts registrytest.Options, vendorPub []byte) *site {
	t.Helper()
	env := registrytest.Start(t, opts)
	ts, err := trust.Open(context.Background(), env.DB)
	if err != nil {
		t.Fatal(err)
	}
	if vendorPub != nil {
		if _, err := ts.Add(context.Background(), "vendor", vendorPub); err != nil {
			t.Fatal(err)
		}
	}
	im, err := NewImporter(env.Registry, env.DB, ts, WithContentDir(filepath.Join(env.DataDir, "bundles")))
	if err != nil {
		t.Fatal(err)
	}
	return &site{env: env, importer: im, trust: ts}
}

// snapshot lists the registry's visible content: every tag and digest.
func (s *site) snapshot(t *testing.T) string {
	t.Helper()
	images, err := s.env.Registry.Images(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, img := range images {
		b.WriteString(img.Repository + ":" + img.Tag + "@" + img.Digest.String() + "\n")
	}
	repos, _ := os.ReadDir(filepath.Join(s.env.DataDir, "registry/docker/registry/v2/repositories"))
	for _, r := range repos {
		b.WriteString("repo " + r.Name() + "\n")
	}
	return b.String()
}

// pull fetches ref from the site anonymously through the mirror path,
// validating every blob.
func (s *site) pull(t *testing.T, repo, tag string) v1.Image {
	t.Helper()
	img, err := crane.Pull(s.env.Host+"/"+repo+":"+tag, s.env.Crane(false)...)
	if err != nil {
		t.Fatalf("pulling %s:%s: %v", repo, tag, err)
	}
	return img
}

type vendorKey struct {
	priv    ed25519.PrivateKey
	pubPEM  []byte
	privPEM []byte
}

func newVendorKey(t *testing.T) vendorKey {
	t.Helper()
	privPEM, pubPEM, err := trust.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	priv, err := trust.ParsePrivateKey(privPEM)
	if err != nil {
		t.Fatal(err)
	}
	return vendorKey{priv: priv, pubPEM: pubPEM, privPEM: privPEM}
}

// upstream is a stand-in for a public registry (go-containerregistry's
// in-memory registry on httptest).
type upstream struct {
	host string
}

func newUpstream(t *testing.T) *upstream {
	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return &upstream{host: strings.TrimPrefix(srv.URL, "http://")}
}

func (u *upstream) push(t *testing.T, repoTag string, img v1.Image) string {
	t.Helper()
	ref := u.host + "/" + repoTag
	if err := crane.Push(img, ref); err != nil {
		t.Fatal(err)
	}
	return ref
}

func (u *upstream) pushIndex(t *testing.T, repoTag string, idx v1.ImageIndex) string {
	t.Helper()
	ref, err := name.ParseReference(u.host + "/" + repoTag)
	if err != nil {
		t.Fatal(err)
	}
	if err := remoteWriteIndex(ref, idx); err != nil {
		t.Fatal(err)
	}
	return ref.String()
}

func randomImage(t *testing.T, size int64, layers int) v1.Image {
	t.Helper()
	img, err := random.Image(size, int64(layers))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// ociImage builds an image with OCI media types from the given layers.
func ociImage(t *testing.T, layers ...v1.Layer) v1.Image {
	t.Helper()
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.AppendLayers(img, layers...)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func randomLayer(t *testing.T, size int64) v1.Layer {
	t.Helper()
	l, err := random.Layer(size, types.OCILayer)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// multiArch builds an index with linux/amd64 and linux/arm64 images.
func multiArch(t *testing.T) (v1.ImageIndex, v1.Image, v1.Image) {
	t.Helper()
	amd := withPlatform(t, ociImage(t, randomLayer(t, 3000), randomLayer(t, 2000)), "amd64")
	arm := withPlatform(t, ociImage(t, randomLayer(t, 3000)), "arm64")
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	idx = mutate.AppendManifests(idx,
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}})
	return idx, amd, arm
}

func withPlatform(t *testing.T, img v1.Image, arch string) v1.Image {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// writeLayout writes img into an OCI layout at dir named refName.
func writeLayout(t *testing.T, dir string, img v1.Image, refName string) {
	t.Helper()
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": refName})); err != nil {
		t.Fatal(err)
	}
}

// writeDockerArchive writes img as `docker save` would, tagged ref.
func writeDockerArchive(t *testing.T, file string, img v1.Image, ref string) {
	t.Helper()
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := tarball.WriteToFile(file, tag, img); err != nil {
		t.Fatal(err)
	}
}

// writeChart writes a minimal Helm chart archive.
func writeChart(t *testing.T, file, chartName, version string) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for p, content := range map[string]string{
		chartName + "/Chart.yaml":            "apiVersion: v2\nname: " + chartName + "\nversion: " + version + "\nappVersion: \"" + version + "\"\n",
		chartName + "/templates/deploy.yaml": "kind: Deployment\n",
	} {
		tw.WriteHeader(&tar.Header{Name: p, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg})
		io.WriteString(tw, content)
	}
	tw.Close()
	zw.Close()
	os.MkdirAll(filepath.Dir(file), 0o755)
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, file, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func digestOf(t *testing.T, d interface{ Digest() (v1.Hash, error) }) string {
	t.Helper()
	h, err := d.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

func layoutPath(dir string) (layout.Path, error) { return layout.FromPath(dir) }

func layoutAnnotations(a map[string]string) layout.Option { return layout.WithAnnotations(a) }

// tarDir writes the files under dir into a tar archive at file.
func tarDir(t *testing.T, dir, file string) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if fi.IsDir() {
			return tw.WriteHeader(&tar.Header{Name: rel + "/", Typeflag: tar.TypeDir, Mode: 0o755})
		}
		data, _ := os.ReadFile(p)
		tw.WriteHeader(&tar.Header{Name: rel, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(data))})
		_, err = tw.Write(data)
		return err
	})
	tw.Close()
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
