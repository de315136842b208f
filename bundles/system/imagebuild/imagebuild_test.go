package imagebuild

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// smallBinary stands in for a program: the assembler treats the binary as
// opaque bytes, and a non-Go file skips the build-information checks.
func smallBinary(t *testing.T) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "tiny")
	if err := os.WriteFile(file, []byte("\x7fELF not really, but small\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return file
}

func testSpecs() []ImageSpec {
	return []ImageSpec{
		{
			Name:         "tiny",
			Ref:          "outpost.local/test/tiny:1.0",
			Binary:       "tiny",
			Path:         "/tiny",
			Cmd:          []string{"serve"},
			User:         "65534:65534",
			Ports:        []string{"8080", "53/udp"},
			Capabilities: []string{"CAP_NET_BIND_SERVICE"},
		},
		{
			Name:   "nested",
			Ref:    "outpost.local/test/nested:2.0",
			Binary: "tiny",
			Path:   "/usr/bin/nested",
		},
	}
}

func buildArchive(t *testing.T, binary string) []byte {
	t.Helper()
	var images []Image
	for _, spec := range testSpecs() {
		image, err := Build(spec, binary, Options{})
		if err != nil {
			t.Fatalf("Build(%s): %v", spec.Name, err)
		}
		images = append(images, image)
	}
	var archive bytes.Buffer
	if err := WriteArchive(&archive, images, Options{}); err != nil {
		t.Fatalf("WriteArchive: %v", err)
	}
	return archive.Bytes()
}

// extract unpacks a layout archive, refusing anything but plain entries
// under the target directory.
func extract(t *testing.T, archive []byte) string {
	t.Helper()
	dir := t.TempDir()
	tr := tar.NewReader(bytes.NewReader(archive))
	for {
		header, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return dir
		}
		if err != nil {
			t.Fatal(err)
		}
		if header.Uid != 0 || header.Gid != 0 || header.ModTime.Unix() != 0 {
			t.Errorf("entry %s: uid %d gid %d mtime %v, want 0/0/epoch", header.Name, header.Uid, header.Gid, header.ModTime)
		}
		target := filepath.Join(dir, filepath.FromSlash(header.Name))
		switch header.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(target, data, 0o644); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("unexpected entry type %c for %s", header.Typeflag, header.Name)
		}
	}
}

func TestArchiveIsAValidNamedOCILayout(t *testing.T) {
	binary := smallBinary(t)
	dir := extract(t, buildArchive(t, binary))

	path, err := layout.FromPath(dir)
	if err != nil {
		t.Fatalf("layout.FromPath: %v", err)
	}
	index, err := path.ImageIndex()
	if err != nil {
		t.Fatalf("reading index.json: %v", err)
	}
	if err := validate.Index(index); err != nil {
		t.Fatalf("validate.Index: %v", err)
	}
	manifest, err := index.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if manifest.MediaType != types.OCIImageIndex {
		t.Errorf("index media type %s, want %s", manifest.MediaType, types.OCIImageIndex)
	}
	specs := testSpecs()
	if len(manifest.Manifests) != len(specs) {
		t.Fatalf("index lists %d manifests, want %d", len(manifest.Manifests), len(specs))
	}
	for i, desc := range manifest.Manifests {
		spec := specs[i]
		if got := desc.Annotations[AnnotationImageName]; got != spec.Ref {
			t.Errorf("%s: %s = %q, want %q", spec.Name, AnnotationImageName, got, spec.Ref)
		}
		if got := desc.Annotations[AnnotationRefName]; got != spec.Ref {
			t.Errorf("%s: %s = %q, want %q", spec.Name, AnnotationRefName, got, spec.Ref)
		}
		if desc.Platform == nil || desc.Platform.OS != "linux" || desc.Platform.Architecture != "amd64" {
			t.Errorf("%s: descriptor platform %v, want linux/amd64", spec.Name, desc.Platform)
		}
		if desc.MediaType != types.OCIManifestSchema1 {
			t.Errorf("%s: media type %s, want %s", spec.Name, desc.MediaType, types.OCIManifestSchema1)
		}

		img, err := index.Image(desc.Digest)
		if err != nil {
			t.Fatal(err)
		}
		if err := validate.Image(img); err != nil {
			t.Errorf("%s: validate.Image: %v", spec.Name, err)
		}
		config, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(config.Config.Entrypoint, []string{spec.Path}) || !slices.Equal(config.Config.Cmd, spec.Cmd) {
			t.Errorf("%s: entrypoint %v cmd %v, want [%s] %v", spec.Name, config.Config.Entrypoint, config.Config.Cmd, spec.Path, spec.Cmd)
		}
		if config.Config.User != spec.User {
			t.Errorf("%s: user %q, want %q", spec.Name, config.Config.User, spec.User)
		}
		for _, port := range spec.Ports {
			normalized, _ := parsePort(port)
			if _, ok := config.Config.ExposedPorts[normalized]; !ok {
				t.Errorf("%s: port %s not exposed in %v", spec.Name, normalized, config.Config.ExposedPorts)
			}
		}
		if config.Created.Unix() != 0 {
			t.Errorf("%s: created %v, want the epoch", spec.Name, config.Created)
		}
		layers, err := img.Layers()
		if err != nil || len(layers) != 1 {
			t.Fatalf("%s: layers %d (%v), want 1", spec.Name, len(layers), err)
		}
		if mt, _ := layers[0].MediaType(); mt != types.OCILayer {
			t.Errorf("%s: layer media type %s, want %s", spec.Name, mt, types.OCILayer)
		}
		checkRootFS(t, spec, layers[0].Uncompressed, binary)
	}
}

// checkRootFS reads the layer and checks it holds /tmp (1777), the parent
// directories, and the binary with its content, mode and capabilities.
func checkRootFS(t *testing.T, spec ImageSpec, open func() (io.ReadCloser, error), binary string) {
	t.Helper()
	want, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	entries := map[string]*tar.Header{}
	tr := tar.NewReader(rc)
	for {
		header, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: reading layer: %v", spec.Name, err)
		}
		entries[header.Name] = header
		if header.Name == strings.TrimPrefix(spec.Path, "/") {
			got, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: binary content differs", spec.Name)
			}
		}
	}
	if tmp := entries["tmp/"]; tmp == nil || tmp.Mode != 0o1777 || tmp.Typeflag != tar.TypeDir {
		t.Errorf("%s: /tmp entry %+v, want a 1777 directory", spec.Name, tmp)
	}
	if spec.Path == "/usr/bin/nested" {
		for _, dir := range []string{"usr/", "usr/bin/"} {
			if entries[dir] == nil {
				t.Errorf("%s: missing parent directory %s", spec.Name, dir)
			}
		}
	}
	bin := entries[strings.TrimPrefix(spec.Path, "/")]
	if bin == nil || bin.Mode != 0o755 || bin.Uid != 0 {
		t.Fatalf("%s: binary entry %+v, want root-owned 0755", spec.Name, bin)
	}
	capabilities := bin.PAXRecords[fileCapabilityXattr]
	if len(spec.Capabilities) == 0 {
		if capabilities != "" {
			t.Errorf("%s: unexpected file capabilities", spec.Name)
		}
		return
	}
	// vfs_cap_data revision 2 with the effective flag, CAP_NET_BIND_SERVICE
	// (bit 10) permitted.
	wantCaps := "\x01\x00\x00\x02\x00\x04\x00\x00" + strings.Repeat("\x00", 12)
	if capabilities != wantCaps {
		t.Errorf("%s: security.capability = %q, want %q", spec.Name, capabilities, wantCaps)
	}
}

func TestArchiveIsReproducible(t *testing.T) {
	binary := smallBinary(t)
	first := sha256.Sum256(buildArchive(t, binary))
	second := sha256.Sum256(buildArchive(t, binary))
	if first != second {
		t.Fatalf("two builds of the same input differ: %x vs %x", first, second)
	}
}

func TestBuildChecksModuleVersionAgainstTag(t *testing.T) {
	info := &debug.BuildInfo{
		Main: debug.Module{Path: "example.com/main", Version: "(devel)"},
		Deps: []*debug.Module{
			{Path: "github.com/coredns/coredns", Version: "v1.15.0"},
			{Path: "example.com/replaced", Version: "v1.0.0", Replace: &debug.Module{Path: "example.com/fork", Version: "v1.0.1"}},
		},
	}
	for module, want := range map[string]string{
		"example.com/main":           "(devel)",
		"github.com/coredns/coredns": "v1.15.0",
		"example.com/replaced":       "v1.0.1",
	} {
		if got, ok := moduleVersion(info, module); !ok || got != want {
			t.Errorf("moduleVersion(%s) = %q, %v; want %q", module, got, ok, want)
		}
	}
	if _, ok := moduleVersion(info, "example.com/absent"); ok {
		t.Error("moduleVersion found an absent module")
	}

	// A binary without Go build information cannot prove its version.
	spec := testSpecs()[0]
	spec.Module = "github.com/coredns/coredns"
	if _, err := Build(spec, smallBinary(t), Options{}); err == nil {
		t.Error("Build accepted a module check on a binary without build information")
	}
}

func TestLoadSpecRejectsBadSpecs(t *testing.T) {
	for name, content := range map[string]string{
		"unknown field": "images:\n- name: a\n  ref: outpost.local/a:1\n  binary: a\n  path: /a\n  colour: red\n",
		"no tag":        "images:\n- name: a\n  ref: outpost.local/a\n  binary: a\n  path: /a\n",
		"relative path": "images:\n- name: a\n  ref: outpost.local/a:1\n  binary: a\n  path: a\n",
		"named user":    "images:\n- name: a\n  ref: outpost.local/a:1\n  binary: a\n  path: /a\n  user: nobody\n",
		"unknown cap":   "images:\n- name: a\n  ref: outpost.local/a:1\n  binary: a\n  path: /a\n  capabilities: [CAP_MAGIC]\n",
		"duplicate ref": "images:\n- {name: a, ref: 'outpost.local/a:1', binary: a, path: /a}\n- {name: b, ref: 'outpost.local/a:1', binary: b, path: /b}\n",
		"no images":     "images: []\n",
		"bad port":      "images:\n- name: a\n  ref: outpost.local/a:1\n  binary: a\n  path: /a\n  ports: ['80/http']\n",
	} {
		file := filepath.Join(t.TempDir(), "images.yaml")
		if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadSpec(file); err == nil {
			t.Errorf("%s: LoadSpec accepted %q", name, content)
		}
	}
}

func TestShippedSpecIsValid(t *testing.T) {
	spec, err := LoadSpec(filepath.Join("..", "images.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(spec.Images) < 4 {
		t.Errorf("images.yaml lists %d images, want at least pause, coredns, metrics-server and test/http", len(spec.Images))
	}
}
