package bundle

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/validate"
	"github.com/opencontainers/go-digest"

	"github.com/outpost-platform/outpost/appliance/registry/registrytest"
)

func TestDeltaBundle(t *testing.T) {
	dir := t.TempDir()
	shared := randomLayer(t, 6000)
	a := ociImage(t, randomLayer(t, 5000))
	b := ociImage(t, shared, randomLayer(t, 4000))
	c := ociImage(t, shared, randomLayer(t, 3000)) // new in v2, shares a layer with b
	writeLayout(t, filepath.Join(dir, "a"), a, "1")
	writeLayout(t, filepath.Join(dir, "b"), b, "1")
	writeLayout(t, filepath.Join(dir, "c"), c, "1")
	writeChart(t, filepath.Join(dir, "chart-v1.tgz"), "app", "1.0.0")
	writeChart(t, filepath.Join(dir, "chart-v2.tgz"), "app", "2.0.0")
	spec := func(version, chart string, images ...string) *Spec {
		s := &Spec{Name: "app", Version: version, Charts: []FileSpec{{Path: chart}}}
		for _, i := range images {
			s.Images = append(s.Images, ImageSpec{Ref: "example.com/app/" + i + ":1", From: "oci:./" + i})
		}
		s.SetDir(dir)
		return s
	}
	ctx := context.Background()
	v1Path := filepath.Join(dir, "app-1.bundle")
	v2Full := filepath.Join(dir, "app-2-full.bundle")
	v2Delta := filepath.Join(dir, "app-2-delta.bundle")
	if _, err := Create(ctx, spec("1.0.0", "chart-v1.tgz", "a", "b"), v1Path, CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := Create(ctx, spec("2.0.0", "chart-v2.tgz", "a", "c"), v2Full, CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	dm, err := Create(ctx, spec("2.0.0", "chart-v2.tgz", "a", "c"), v2Delta, CreateOptions{Base: v1Path})
	if err != nil {
		t.Fatal(err)
	}
	if dm.Base == nil || dm.Base.Version != "1.0.0" {
		t.Fatalf("delta base = %+v", dm.Base)
	}
	contained := map[digest.Digest]bool{}
	for _, bl := range dm.Blobs {
		contained[bl.Digest] = true
	}
	for what, d := range map[string]string{"image a": digestOf(t, a), "shared layer": digestOf(t, shared)} {
		if contained[digest.Digest(d)] {
			t.Errorf("delta contains %s, which the base has", what)
		}
	}
	if !contained[digest.Digest(digestOf(t, c))] {
		t.Error("delta lacks the new image's manifest")
	}
	full, _ := os.Stat(v2Full)
	delta, _ := os.Stat(v2Delta)
	if delta.Size() >= full.Size()-10000 {
		t.Errorf("delta is %d bytes, full is %d: not smaller by the shared content", delta.Size(), full.Size())
	}

	t.Run("without the base it fails naming what is missing", func(t *testing.T) {
		s := newSite(t, registrytest.Options{}, nil)
		before := s.snapshot(t)
		_, err := s.importer.ImportFile(ctx, v2Delta, ImportOptions{AllowUnsigned: true}, nil)
		var missing *MissingBlobsError
		if !errors.As(err, &missing) {
			t.Fatalf("error %v, want MissingBlobsError", err)
		}
		msg := err.Error()
		for _, want := range []string{"delta against app 1.0.0", "import app 1.0.0 first", digestOf(t, shared)[:20]} {
			if !strings.Contains(msg, want) && !strings.Contains(msg, "more") {
				t.Errorf("message lacks %q: %s", want, msg)
			}
		}
		if strings.Contains(msg, "\n") {
			t.Errorf("multi-line message: %q", msg)
		}
		if after := s.snapshot(t); after != before {
			t.Fatalf("registry changed:\n%s\nwas\n%s", after, before)
		}
	})

	t.Run("on top of the base it gives the full result", func(t *testing.T) {
		s := newSite(t, registrytest.Options{}, nil)
		if _, err := s.importer.ImportFile(ctx, v1Path, ImportOptions{AllowUnsigned: true}, nil); err != nil {
			t.Fatal(err)
		}
		res, err := s.importer.ImportFile(ctx, v2Delta, ImportOptions{AllowUnsigned: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Base == nil || len(res.Images) != 2 {
			t.Fatalf("result %+v", res)
		}
		for _, name := range []string{"a", "c"} {
			img := s.pull(t, "example.com/app/"+name, "1")
			if err := validate.Image(img); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
		if _, err := os.Stat(filepath.Join(res.ContentDir, "charts", "app-2.0.0.tgz")); err != nil {
			t.Errorf("delta's chart: %v", err)
		}
	})

	t.Run("delta of a delta", func(t *testing.T) {
		d := ociImage(t, shared, randomLayer(t, 1000))
		writeLayout(t, filepath.Join(dir, "d"), d, "1")
		v3Delta := filepath.Join(dir, "app-3-delta.bundle")
		m3, err := Create(ctx, spec("3.0.0", "chart-v2.tgz", "a", "c", "d"), v3Delta, CreateOptions{Base: v2Delta})
		if err != nil {
			t.Fatal(err)
		}
		for _, bl := range m3.Blobs {
			if bl.Digest == digest.Digest(digestOf(t, shared)) {
				t.Fatal("delta of a delta carries a layer the first base has")
			}
		}
		s := newSite(t, registrytest.Options{}, nil)
		for _, p := range []string{v1Path, v2Delta, v3Delta} {
			if _, err := s.importer.ImportFile(ctx, p, ImportOptions{AllowUnsigned: true}, nil); err != nil {
				t.Fatalf("%s: %v", filepath.Base(p), err)
			}
		}
		if err := validate.Image(s.pull(t, "example.com/app/d", "1")); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a base of another bundle is refused", func(t *testing.T) {
		other := spec("2.0.0", "chart-v2.tgz", "a")
		other.Name = "other"
		_, err := Create(ctx, other, filepath.Join(dir, "x.bundle"), CreateOptions{Base: v1Path})
		if err == nil || !strings.Contains(err.Error(), `is bundle "app", not "other"`) {
			t.Fatalf("error %v", err)
		}
	})
}
