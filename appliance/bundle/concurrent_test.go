package bundle

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/outpost-platform/outpost/appliance/registry"
	"github.com/outpost-platform/outpost/appliance/registry/registrytest"
)

// TestConcurrentImportsAndGC imports two bundles that share layers, each
// twice, all at once, while garbage collection runs without a grace period:
// every import succeeds and every image is complete afterwards.
func TestConcurrentImportsAndGC(t *testing.T) {
	dir := t.TempDir()
	shared := randomLayer(t, 50_000)
	a := ociImage(t, shared, randomLayer(t, 80_000))
	b := ociImage(t, shared, randomLayer(t, 60_000))
	writeLayout(t, filepath.Join(dir, "a"), a, "1")
	writeLayout(t, filepath.Join(dir, "b"), b, "1")
	var paths []string
	for _, n := range []string{"a", "b"} {
		spec := &Spec{Name: "app-" + n, Version: "1.0.0", Images: []ImageSpec{{Ref: "example.com/" + n + ":1", From: "oci:./" + n}}}
		spec.SetDir(dir)
		p := filepath.Join(dir, n+".bundle")
		if _, err := Create(context.Background(), spec, p, CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	s := newSite(t, registrytest.Options{GCGracePeriod: time.Nanosecond}, nil)
	ctx := context.Background()
	stop := make(chan struct{})
	gcDone := make(chan int)
	go func() {
		runs := 0
		for {
			select {
			case <-stop:
				gcDone <- runs
				return
			default:
			}
			if _, err := s.env.Registry.GC(ctx, registry.GCOptions{}); err != nil {
				t.Errorf("gc: %v", err)
			}
			runs++
		}
	}()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.importer.ImportFile(ctx, paths[i%2], ImportOptions{AllowUnsigned: true}, nil); err != nil {
				t.Errorf("import %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	close(stop)
	t.Logf("%d collections ran during the imports", <-gcDone)
	// A last collection after the imports: imported images are referenced.
	if _, err := s.env.Registry.GC(ctx, registry.GCOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b"} {
		if err := validate.Image(s.pull(t, "example.com/"+n, "1")); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
	hist, _ := s.importer.History().List(ctx)
	if len(hist) != 4 {
		t.Fatalf("history has %d imports, want 4", len(hist))
	}
}
