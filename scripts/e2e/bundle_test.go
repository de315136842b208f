//go:build e2e

package e2e

import (
	"archive/tar"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// testImageLayout writes an OCI layout holding only the embedded test image,
// standing in for an image a vendor ships under its upstream name.
func testImageLayout(t *testing.T) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "system")
	untar(t, "../../appliance/node/assets/images/system-images.tar", src)
	p, err := layout.FromPath(src)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range m.Manifests {
		if d.Annotations["io.containerd.image.name"] != testImage {
			continue
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(t.TempDir(), "app-layout")
		out, err := layout.Write(dst, empty.Index)
		if err != nil {
			t.Fatal(err)
		}
		if err := out.AppendImage(img, layout.WithPlatform(v1.Platform{OS: "linux", Architecture: "amd64"})); err != nil {
			t.Fatal(err)
		}
		return dst
	}
	t.Fatalf("%s not in the system images", testImage)
	return ""
}

func untar(t *testing.T, archive, dir string) {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.Clean("/"+h.Name))
		if h.Typeflag == tar.TypeDir {
			os.MkdirAll(p, 0o755)
			continue
		}
		os.MkdirAll(filepath.Dir(p), 0o755)
		w, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(w, tr); err != nil {
			t.Fatal(err)
		}
		w.Close()
	}
}

// bundleScenario signs a bundle that names an image by its upstream
// reference, imports it through the running server, and runs a pod whose
// manifest names that reference unchanged: containerd must resolve it
// through the local registry mirror.
func bundleScenario(t *testing.T, s *server) {
	work := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		out, err := s.command(s.bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("outpost %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("bundle", "keygen", "vendor", "--dir", work)
	spec := fmt.Sprintf(`name: shop
version: 1.0.0
kind: app
images:
  - ref: docker.io/library/nginx:1.27
    from: oci:%s
`, testImageLayout(t))
	os.WriteFile(filepath.Join(work, "bundle.yaml"), []byte(spec), 0o644)
	bundleFile := filepath.Join(work, "shop.bundle")
	run("bundle", "create", "-f", filepath.Join(work, "bundle.yaml"), "-o", bundleFile, "--key", filepath.Join(work, "vendor.key"))

	// Unsigned by a trusted key: refused, nothing imported.
	if out, err := s.command(s.bin, "bundle", "import", bundleFile, "--data-dir", s.dataDir, "--config", "/dev/null").CombinedOutput(); err == nil {
		t.Fatalf("import without a trusted key succeeded:\n%s", out)
	}
	run("trust", "add", "vendor", filepath.Join(work, "vendor.pub"), "--data-dir", s.dataDir, "--config", "/dev/null")
	run("bundle", "import", bundleFile, "--data-dir", s.dataDir, "--config", "/dev/null")
	images := run("images", "ls", "--data-dir", s.dataDir, "--config", "/dev/null")
	if !strings.Contains(images, "docker.io/library/nginx") || !strings.Contains(images, "shop") {
		t.Fatalf("images ls does not show the imported image and its bundle:\n%s", images)
	}

	s.mustKubectl("run", "upstream-ref", "--image=nginx:1.27", "--image-pull-policy=Always", "--port=8080")
	s.waitPodPhase("upstream-ref", "Running")
}
