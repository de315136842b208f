package bundle

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/outpost-platform/outpost/appliance/registry"
	"github.com/outpost-platform/outpost/appliance/registry/registrytest"
)

func TestAdminSocket(t *testing.T) {
	vk := newVendorKey(t)
	dir := t.TempDir()
	writeLayout(t, filepath.Join(dir, "l"), ociImage(t, randomLayer(t, 5000)), "1")
	spec := &Spec{Name: "adm", Version: "1.0.0", Images: []ImageSpec{{Ref: "example.com/adm:1", From: "oci:./l"}}}
	spec.SetDir(dir)
	signed := filepath.Join(dir, "adm.bundle")
	if _, err := Create(context.Background(), spec, signed, CreateOptions{SigningKey: vk.priv}); err != nil {
		t.Fatal(err)
	}
	s := newSite(t, registrytest.Options{}, vk.pubPEM)

	sockDir, err := os.MkdirTemp("", "outpost-sock")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(sockDir)
	sock := filepath.Join(sockDir, "outpost.sock")
	client := NewClient(sock)
	ctx := context.Background()
	if _, err := client.Images(ctx); !errors.Is(err, ErrNoServer) {
		t.Fatalf("without a server: %v, want ErrNoServer", err)
	}
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: AdminHandler(s.importer, s.env.Registry)}
	go srv.Serve(ln)
	defer srv.Close()

	var progressed int
	res, err := client.Import(ctx, signed, nil, ImportOptions{}, func(p Progress) { progressed++ })
	if err != nil {
		t.Fatal(err)
	}
	if res.Name != "adm" || len(res.Images) != 1 || progressed == 0 {
		t.Fatalf("result %+v after %d progress events", res, progressed)
	}
	// Streamed body, and an error travelling back as one line.
	f, _ := os.Open(signed)
	defer f.Close()
	if _, err := client.Import(ctx, "", f, ImportOptions{}, nil); err != nil {
		t.Fatalf("streamed import: %v", err)
	}
	bad := filepath.Join(dir, "bad.bundle")
	os.WriteFile(bad, []byte("not a bundle at all"), 0o644)
	if _, err := client.Import(ctx, bad, nil, ImportOptions{}, nil); err == nil || !strings.Contains(err.Error(), "not an Outpost bundle") {
		t.Fatalf("bad bundle over the socket: %v", err)
	}
	images, err := client.Images(ctx)
	if err != nil || len(images) != 1 || images[0].Source != "bundle adm 1.0.0" {
		t.Fatalf("images %+v %v", images, err)
	}
	hist, err := client.History(ctx)
	if err != nil || len(hist) != 2 {
		t.Fatalf("history %+v %v", hist, err)
	}
	if _, err := client.RemoveImage(ctx, "example.com/adm:2"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("removing a missing image: %v", err)
	}
	if _, err := client.RemoveImage(ctx, "example.com/adm:1"); err != nil {
		t.Fatal(err)
	}
	if _, err := client.GC(ctx, registry.GCOptions{DryRun: true}); err != nil {
		t.Fatal(err)
	}
}
