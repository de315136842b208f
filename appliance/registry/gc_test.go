package registry_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/crane"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/outpost-platform/outpost/appliance/registry"
	"github.com/outpost-platform/outpost/appliance/registry/registrytest"
)

// ageStorage backdates every file of the registry's storage so that the
// grace period no longer protects anything.
func ageStorage(t *testing.T, env *registrytest.Env) {
	t.Helper()
	old := time.Now().Add(-24 * time.Hour)
	root := filepath.Join(env.DataDir, "registry", "docker")
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			os.Chtimes(p, old, old)
		}
		return nil
	})
}

func pullAndValidate(t *testing.T, env *registrytest.Env, ref string) error {
	t.Helper()
	img, err := crane.Pull(ref, env.Crane(false)...)
	if err != nil {
		return err
	}
	return validate.Image(img)
}

func TestGCDeletesOnlyUnreferencedBlobs(t *testing.T) {
	env := registrytest.Start(t, registrytest.Options{})
	ctx := context.Background()
	base := randomImage(t, 4096, 3)
	derived, err := mutate.AppendLayers(base, mustLayer(t))
	if err != nil {
		t.Fatal(err)
	}
	for ref, img := range map[string]v1.Image{"/gc/base:1": base, "/gc/derived:1": derived} {
		if err := crane.Push(img, env.Host+ref, env.Crane(true)...); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := env.Registry.RemoveImage(ctx, "gc/derived:1"); err != nil {
		t.Fatal(err)
	}

	// Fresh blobs are inside the grace period: nothing goes.
	res, err := env.Registry.GC(ctx, registry.GCOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.BlobsDeleted != 0 || res.BlobsProtected != 3 {
		t.Fatalf("within grace period: %+v, want 0 deleted and 3 protected", res)
	}

	ageStorage(t, env)
	res, err = env.Registry.GC(ctx, registry.GCOptions{DryRun: true})
	if err != nil || res.BlobsDeleted != 3 {
		t.Fatalf("dry run: %+v %v, want 3 (manifest, config, layer of derived)", res, err)
	}
	res, err = env.Registry.GC(ctx, registry.GCOptions{})
	if err != nil || res.BlobsDeleted != 3 || res.BytesFreed <= 2048 {
		t.Fatalf("gc: %+v %v", res, err)
	}
	if err := pullAndValidate(t, env, env.Host+"/gc/base:1"); err != nil {
		t.Fatalf("referenced image damaged by GC: %v", err)
	}
	res, _ = env.Registry.GC(ctx, registry.GCOptions{})
	if res.BlobsDeleted != 0 {
		t.Fatalf("second gc deleted %d blobs", res.BlobsDeleted)
	}
}

func TestGCRemoveUntagged(t *testing.T) {
	env := registrytest.Start(t, registrytest.Options{})
	ctx := context.Background()
	v1img := randomImage(t, 1024, 1)
	v2img := randomImage(t, 1024, 1)
	ref := env.Host + "/gc/app:latest"
	for _, img := range []v1.Image{v1img, v2img} { // v1 becomes untagged
		if err := crane.Push(img, ref, env.Crane(true)...); err != nil {
			t.Fatal(err)
		}
	}
	ageStorage(t, env)
	res, err := env.Registry.GC(ctx, registry.GCOptions{})
	if err != nil || res.BlobsDeleted != 0 {
		t.Fatalf("without RemoveUntagged: %+v %v", res, err)
	}
	res, err = env.Registry.GC(ctx, registry.GCOptions{RemoveUntagged: true})
	if err != nil || res.ManifestsRemoved != 1 || res.BlobsDeleted != 3 {
		t.Fatalf("RemoveUntagged: %+v %v, want 1 manifest and 3 blobs", res, err)
	}
	if err := pullAndValidate(t, env, ref); err != nil {
		t.Fatal(err)
	}
	if _, err := crane.Manifest(env.Host+"/gc/app@"+digestOf(t, v1img), env.Crane(false)...); err == nil {
		t.Fatal("untagged manifest still served")
	}
}

// TestGCKeepsUploadInProgress: a chunked upload open during GC completes
// afterwards, and its manifest push succeeds, even with no grace period.
func TestGCKeepsUploadInProgress(t *testing.T) {
	env := registrytest.Start(t, registrytest.Options{GCGracePeriod: time.Nanosecond})
	blob := bytes.Repeat([]byte{7}, 5000)
	sum := sha256.Sum256(blob)
	dgst := "sha256:" + hex.EncodeToString(sum[:])
	resp := do(t, env, "POST", "/v2/gc/up/blobs/uploads/", nil, true)
	resp.Body.Close()
	req, _ := http.NewRequest("PATCH", absolute(env, resp.Header.Get("Location")), bytes.NewReader(blob[:3000]))
	req.SetBasicAuth(registrytest.User, registrytest.Password)
	req.Header.Set("Content-Range", "0-2999")
	resp, err := env.Client().Do(req)
	if err != nil || resp.StatusCode != 202 {
		t.Fatalf("patch: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	ageStorage(t, env)
	if _, err := env.Registry.GC(context.Background(), registry.GCOptions{}); err != nil {
		t.Fatal(err)
	}
	req, _ = http.NewRequest("PUT", absolute(env, resp.Header.Get("Location"))+"&digest="+dgst, bytes.NewReader(blob[3000:]))
	req.SetBasicAuth(registrytest.User, registrytest.Password)
	req.Header.Set("Content-Range", "3000-4999")
	resp, err = env.Client().Do(req)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("finishing the upload after GC: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
}

// TestGCDuringPushes runs collections back to back while clients push,
// including pushes that reuse blobs GC considers garbage (orphans of a
// removed image: a client that finds a blob present does not upload it).
// Every push must succeed and every pushed image must survive.
func TestGCDuringPushes(t *testing.T) {
	const pushers, perPusher = 2, 8
	env := registrytest.Start(t, registrytest.Options{})
	ctx := context.Background()
	images := make([][]v1.Image, pushers)
	for p := range images {
		for i := range perPusher {
			img := randomImage(t, 2048, 2)
			images[p] = append(images[p], img)
			if i%2 == 0 {
				ref := fmt.Sprintf("orphan/p%d:%d", p, i)
				if err := crane.Push(img, env.Host+"/"+ref, env.Crane(true)...); err != nil {
					t.Fatal(err)
				}
				if _, err := env.Registry.RemoveImage(ctx, ref); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	ageStorage(t, env)

	var wg sync.WaitGroup
	var mu sync.Mutex
	var pushed []string
	for p := range pushers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, img := range images[p] {
				ref := fmt.Sprintf("%s/live/p%d:%d", env.Host, p, i)
				if err := crane.Push(img, ref, env.Crane(true)...); err != nil {
					t.Errorf("push %s during GC: %v", ref, err)
					continue
				}
				mu.Lock()
				pushed = append(pushed, ref)
				mu.Unlock()
			}
		}()
	}
	stop := make(chan struct{})
	gcDone := make(chan [2]int)
	go func() {
		runs, deleted := 0, 0
		for {
			select {
			case <-stop:
				gcDone <- [2]int{runs, deleted}
				return
			default:
			}
			res, err := env.Registry.GC(ctx, registry.GCOptions{})
			if err != nil {
				t.Errorf("gc: %v", err)
			}
			runs++
			deleted += res.BlobsDeleted
		}
	}()
	wg.Wait()
	close(stop)
	stats := <-gcDone
	t.Logf("%d pushes, %d collections deleting %d blobs", len(pushed), stats[0], stats[1])
	if stats[0] < 2 {
		t.Fatalf("only %d collections overlapped the pushes", stats[0])
	}
	// With everything aged, one more collection: what is referenced stays.
	ageStorage(t, env)
	if _, err := env.Registry.GC(ctx, registry.GCOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, ref := range pushed {
		if err := pullAndValidate(t, env, ref); err != nil {
			t.Errorf("%s lost content: %v", ref, err)
		}
	}
	assertNoBrokenImages(t, env)
}

func assertNoBrokenImages(t *testing.T, env *registrytest.Env) {
	t.Helper()
	images, err := env.Registry.Images(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range images {
		tree, err := env.Registry.Store().WalkImage(img.Digest)
		if err != nil || len(tree.Missing) > 0 {
			t.Errorf("%s:%s is broken: %v %+v", img.Repository, img.Tag, err, tree)
		}
	}
}

// TestGCRacesWithoutGracePeriod drives the races the grace period usually
// hides, deterministically, with requests made between mark and sweep.
func TestGCRacesWithoutGracePeriod(t *testing.T) {
	const accept = "application/vnd.docker.distribution.manifest.v2+json"
	setup := func(t *testing.T) (*registrytest.Env, v1.Image, []byte) {
		env := registrytest.Start(t, registrytest.Options{GCGracePeriod: time.Nanosecond})
		img := randomImage(t, 2048, 2)
		if err := crane.Push(img, env.Host+"/race/orphan:1", env.Crane(true)...); err != nil {
			t.Fatal(err)
		}
		if _, err := env.Registry.RemoveImage(context.Background(), "race/orphan:1"); err != nil {
			t.Fatal(err)
		}
		raw, _ := img.RawManifest()
		ageStorage(t, env)
		return env, img, raw
	}

	t.Run("manifest pushed during GC keeps its blobs", func(t *testing.T) {
		env, img, raw := setup(t)
		// The blobs exist only in the global store; upload them to
		// race/app so the manifest push is valid (content exists: the
		// registry links it without writing).
		pushBlobs(t, env, img)
		ageStorage(t, env)
		var status int
		registry.SetAfterMark(env.Registry, func() {
			resp := do(t, env, "PUT", "/v2/race/app/manifests/1", raw, true, "Content-Type", accept)
			resp.Body.Close()
			status = resp.StatusCode
		})
		res, err := env.Registry.GC(context.Background(), registry.GCOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if status != 201 {
			t.Fatalf("manifest push during GC: %d", status)
		}
		if res.BlobsProtected == 0 {
			t.Fatalf("nothing was protected: %+v", res)
		}
		if err := pullAndValidate(t, env, env.Host+"/race/app:1"); err != nil {
			t.Fatalf("image pushed during GC lost content: %v", err)
		}
	})

	t.Run("blob found present during GC is not deleted", func(t *testing.T) {
		env, img, raw := setup(t)
		pushBlobs(t, env, img)
		ageStorage(t, env)
		registry.SetAfterMark(env.Registry, func() {
			m, _ := img.Manifest()
			for _, l := range append(m.Layers, m.Config) {
				resp := do(t, env, "HEAD", "/v2/race/app/blobs/"+l.Digest.String(), nil, true)
				resp.Body.Close()
			}
		})
		if _, err := env.Registry.GC(context.Background(), registry.GCOptions{}); err != nil {
			t.Fatal(err)
		}
		registry.SetAfterMark(env.Registry, nil)
		resp := do(t, env, "PUT", "/v2/race/app/manifests/1", raw, true, "Content-Type", accept)
		resp.Body.Close()
		if resp.StatusCode != 201 {
			t.Fatalf("manifest push after GC: %d", resp.StatusCode)
		}
		if err := pullAndValidate(t, env, env.Host+"/race/app:1"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("blob found before GC is refused after it, never half-stored", func(t *testing.T) {
		env, img, raw := setup(t)
		pushBlobs(t, env, img)
		ageStorage(t, env)
		if _, err := env.Registry.GC(context.Background(), registry.GCOptions{}); err != nil {
			t.Fatal(err)
		}
		resp := do(t, env, "PUT", "/v2/race/app/manifests/1", raw, true, "Content-Type", accept)
		if code := registryError(t, resp); resp.StatusCode != 400 || code != "MANIFEST_BLOB_UNKNOWN" {
			t.Fatalf("manifest naming collected blobs: %d %s, want 400 MANIFEST_BLOB_UNKNOWN", resp.StatusCode, code)
		}
		assertNoBrokenImages(t, env)
	})
}

// pushBlobs uploads the config and layers of img to race/app (no manifest).
func pushBlobs(t *testing.T, env *registrytest.Env, img v1.Image) {
	t.Helper()
	cfg, _ := img.RawConfigFile()
	blobs := [][]byte{cfg}
	layers, _ := img.Layers()
	for _, l := range layers {
		rc, _ := l.Compressed()
		var b bytes.Buffer
		b.ReadFrom(rc)
		rc.Close()
		blobs = append(blobs, b.Bytes())
	}
	for _, b := range blobs {
		sum := sha256.Sum256(b)
		resp := do(t, env, "POST", "/v2/race/app/blobs/uploads/", nil, true)
		resp.Body.Close()
		req, _ := http.NewRequest("PUT", absolute(env, resp.Header.Get("Location"))+"&digest=sha256:"+hex.EncodeToString(sum[:]), bytes.NewReader(b))
		req.SetBasicAuth(registrytest.User, registrytest.Password)
		r, err := env.Client().Do(req)
		if err != nil || r.StatusCode != 201 {
			t.Fatalf("upload: %v %v", r.StatusCode, err)
		}
		r.Body.Close()
	}
}

// TestGCKeepsReuploadedOldBlobs: a client re-uploads content the registry
// already holds as old garbage (distribution then only adds a link, the
// blob keeps its old time) into a repository that has no manifest yet, and
// pushes the manifest after a collection: the grace period must cover the
// link, not just the blob's own age.
func TestGCKeepsReuploadedOldBlobs(t *testing.T) {
	env := registrytest.Start(t, registrytest.Options{})
	img := randomImage(t, 2048, 2)
	if err := crane.Push(img, env.Host+"/race/orphan:1", env.Crane(true)...); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Registry.RemoveImage(context.Background(), "race/orphan:1"); err != nil {
		t.Fatal(err)
	}
	ageStorage(t, env)
	pushBlobs(t, env, img) // into race/app: links only, the blobs stay old
	if _, err := env.Registry.GC(context.Background(), registry.GCOptions{}); err != nil {
		t.Fatal(err)
	}
	raw, _ := img.RawManifest()
	resp := do(t, env, "PUT", "/v2/race/app/manifests/1", raw, true, "Content-Type", "application/vnd.docker.distribution.manifest.v2+json")
	if code := resp.StatusCode; code != 201 {
		t.Fatalf("manifest push after GC: %d %s", code, registryError(t, resp))
	}
	resp.Body.Close()
	if err := pullAndValidate(t, env, env.Host+"/race/app:1"); err != nil {
		t.Fatal(err)
	}
}
