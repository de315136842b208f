package cli

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/outpost-platform/outpost/appliance/bundle"
	"github.com/outpost-platform/outpost/appliance/registry"
	"github.com/outpost-platform/outpost/appliance/state"
	"github.com/outpost-platform/outpost/appliance/trust"
)

// run executes the outpost command line and returns its output.
func run(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	root := NewRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func mustRun(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, err := run(t, stdin, args...)
	if err != nil {
		t.Fatalf("outpost %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// TestBundleWorkflowCLI walks the vendor and site workflow through the
// command line, with the server side served on the admin socket.
func TestBundleWorkflowCLI(t *testing.T) {
	vendor := t.TempDir()
	dataDir := t.TempDir()
	dd := "--data-dir=" + dataDir

	// Vendor: an image in an OCI layout, a spec, a key; create and sign.
	img, _ := random.Image(3000, 2)
	lp, _ := layout.Write(filepath.Join(vendor, "layout"), empty.Index)
	lp.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "1.0"}))
	os.WriteFile(filepath.Join(vendor, "bundle.yaml"), []byte(`name: demo
version: 1.0.0
images:
  - ref: example.com/demo/app:1.0
    from: oci:./layout
`), 0o644)
	out := mustRun(t, "", "bundle", "keygen", "acme", "--dir", vendor)
	if !strings.Contains(out, "outpost trust add acme acme.pub") {
		t.Fatalf("keygen output: %s", out)
	}
	if _, err := run(t, "", "bundle", "keygen", "acme", "--dir", vendor); err == nil {
		t.Fatal("keygen overwrote an existing key")
	}
	bundlePath := filepath.Join(vendor, "demo.bundle")
	mustRun(t, "", "bundle", "create", "-f", filepath.Join(vendor, "bundle.yaml"), "-o", bundlePath)
	mustRun(t, "", "bundle", "sign", "--key", filepath.Join(vendor, "acme.key"), bundlePath)
	out = mustRun(t, "", "bundle", "verify", "--key", filepath.Join(vendor, "acme.pub"), bundlePath)
	if !strings.Contains(out, "demo 1.0.0 is intact") {
		t.Fatalf("verify: %s", out)
	}
	out = mustRun(t, "", "bundle", "inspect", bundlePath)
	for _, want := range []string{"Name:         demo", "example.com/demo/app:1.0", "Signed by:    key "} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect lacks %q:\n%s", want, out)
		}
	}

	// Site without a running server.
	os.MkdirAll(filepath.Join(dataDir, "run"), 0o700)
	_, err := run(t, "", "bundle", "import", dd, bundlePath)
	if err == nil || err.Error() != "no outpost server is running on data dir "+dataDir+"; start it with outpost server" {
		t.Fatalf("import without server: %v", err)
	}

	// Site: trust the key and add a registry user (no server needed).
	mustRun(t, "", "trust", "add", dd, "acme", filepath.Join(vendor, "acme.pub"))
	if out := mustRun(t, "", "trust", "ls", dd); !strings.Contains(out, "acme") {
		t.Fatalf("trust ls: %s", out)
	}
	mustRun(t, "s3cret-password\n", "registry", "user", "add", dd, "--password-stdin", "ops")
	if out := mustRun(t, "", "registry", "user", "ls", dd); !strings.Contains(out, "ops") {
		t.Fatalf("user ls: %s", out)
	}
	if _, err := run(t, "short\n", "registry", "user", "add", dd, "--password-stdin", "bob"); err == nil {
		t.Fatal("short password accepted")
	}

	// Start the server side: registry, importer, admin socket.
	db, err := state.Open(filepath.Join(dataDir, "state", "outpost.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reg, err := registry.New(registry.Config{Dir: filepath.Join(dataDir, "registry")}, db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	keys, _ := trust.Open(context.Background(), db)
	im, err := bundle.NewImporter(reg, db, keys)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", filepath.Join(dataDir, "run", "outpost.sock"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: bundle.AdminHandler(im, reg)}
	go srv.Serve(ln)
	defer srv.Close()

	out = mustRun(t, "", "bundle", "import", dd, bundlePath)
	if !strings.Contains(out, "imported demo 1.0.0 (signed by acme (") || !strings.Contains(out, "example.com/demo/app:1.0") {
		t.Fatalf("import: %s", out)
	}
	out = mustRun(t, "", "images", "ls", dd)
	if !strings.Contains(out, "example.com/demo/app") || !strings.Contains(out, "bundle demo 1.0.0") {
		t.Fatalf("images ls: %s", out)
	}
	if out := mustRun(t, "", "bundle", "ls", dd); !strings.Contains(out, "demo") {
		t.Fatalf("bundle ls: %s", out)
	}
	if _, err := run(t, "", "images", "rm", dd, "example.com/demo/app:9"); err == nil || !strings.Contains(err.Error(), "is not in the registry") {
		t.Fatalf("rm missing image: %v", err)
	}
	if out := mustRun(t, "", "images", "rm", dd, "example.com/demo/app:1.0"); !strings.Contains(out, "removed example.com/demo/app:1.0") {
		t.Fatalf("images rm: %s", out)
	}
	if out := mustRun(t, "", "registry", "gc", dd, "--dry-run"); !strings.Contains(out, "would delete") {
		t.Fatalf("gc: %s", out)
	}
	// A downgrade is refused with one clear line.
	os.WriteFile(filepath.Join(vendor, "bundle.yaml"), []byte("name: demo\nversion: 0.9.0\nimages:\n  - ref: example.com/demo/app:1.0\n    from: oci:./layout\n"), 0o644)
	old := filepath.Join(vendor, "old.bundle")
	mustRun(t, "", "bundle", "create", "-f", filepath.Join(vendor, "bundle.yaml"), "-o", old, "--key", filepath.Join(vendor, "acme.key"))
	if _, err := run(t, "", "bundle", "import", dd, old); err == nil || !strings.Contains(err.Error(), "older than the installed 1.0.0") {
		t.Fatalf("downgrade: %v", err)
	}
}
