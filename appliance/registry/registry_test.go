package registry_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/crane"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/outpost-platform/outpost/appliance/registry"
	"github.com/outpost-platform/outpost/appliance/registry/registrytest"
)

func randomImage(t *testing.T, size int64, layers int) v1.Image {
	t.Helper()
	img, err := random.Image(size, int64(layers))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func digestOf(t *testing.T, img v1.Image) string {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// registryError decodes the first error code of a distribution error body.
func registryError(t *testing.T, resp *http.Response) string {
	t.Helper()
	var body struct {
		Errors []struct{ Code string } `json:"errors"`
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := json.Unmarshal(b, &body); err != nil || len(body.Errors) == 0 {
		return fmt.Sprintf("<no error code in %q>", b)
	}
	return body.Errors[0].Code
}

func do(t *testing.T, env *registrytest.Env, method, path string, body []byte, auth bool, header ...string) *http.Response {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, env.URL(path), r)
	if err != nil {
		t.Fatal(err)
	}
	if auth {
		req.SetBasicAuth(registrytest.User, registrytest.Password)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := env.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestPushThenAnonymousPullWithCrane(t *testing.T) {
	env := registrytest.Start(t, registrytest.Options{})
	img := randomImage(t, 2048, 3)
	ref := env.Host + "/team/app:1.0"
	if err := crane.Push(img, ref, env.Crane(true)...); err != nil {
		t.Fatalf("push: %v", err)
	}
	got, err := crane.Pull(ref, env.Crane(false)...)
	if err != nil {
		t.Fatalf("anonymous pull: %v", err)
	}
	if digestOf(t, got) != digestOf(t, img) {
		t.Fatalf("pulled %s, pushed %s", digestOf(t, got), digestOf(t, img))
	}
	if err := validate.Image(got); err != nil {
		t.Fatalf("pulled image is not valid: %v", err)
	}
}

func TestAuthorization(t *testing.T) {
	env := registrytest.Start(t, registrytest.Options{})
	img := randomImage(t, 512, 1)
	if err := crane.Push(img, env.Host+"/team/app:1", env.Crane(true)...); err != nil {
		t.Fatal(err)
	}
	wrong := func(req *http.Request) { req.SetBasicAuth(registrytest.User, "wrong-password") }
	tests := []struct {
		name     string
		method   string
		path     string
		auth     func(*http.Request)
		wantCode int
	}{
		{"anonymous manifest read", "GET", "/v2/team/app/manifests/1", nil, 200},
		{"anonymous tag list", "GET", "/v2/team/app/tags/list", nil, 200},
		{"anonymous login check is challenged", "GET", "/v2/", nil, 401},
		{"anonymous catalog is challenged", "GET", "/v2/_catalog", nil, 401},
		{"anonymous upload is refused", "POST", "/v2/team/app/blobs/uploads/", nil, 401},
		{"anonymous delete is refused", "DELETE", "/v2/team/app/manifests/" + digestOf(t, img), nil, 401},
		{"wrong password refused even for reads", "GET", "/v2/team/app/manifests/1", wrong, 401},
		{"empty basic credentials are anonymous", "GET", "/v2/team/app/manifests/1", func(r *http.Request) { r.SetBasicAuth("", "") }, 200},
		{"account login check", "GET", "/v2/", func(r *http.Request) { r.SetBasicAuth(registrytest.User, registrytest.Password) }, 200},
		{"non-API path", "GET", "/admin", nil, 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, env.URL(tc.path), nil)
			req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.v2+json")
			if tc.auth != nil {
				tc.auth(req)
			}
			resp, err := env.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.wantCode {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.wantCode)
			}
			if tc.wantCode == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
				t.Fatalf("401 without a Basic challenge: %q", resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
	// crane without credentials must fail to push with an auth error.
	err := crane.Push(img, env.Host+"/team/other:1", env.Crane(false)...)
	if err == nil || !strings.Contains(err.Error(), "UNAUTHORIZED") {
		t.Fatalf("anonymous push: got %v, want UNAUTHORIZED", err)
	}
}

func TestUserRemovalRevokesPush(t *testing.T) {
	env := registrytest.Start(t, registrytest.Options{})
	img := randomImage(t, 256, 1)
	if err := crane.Push(img, env.Host+"/a/b:1", env.Crane(true)...); err != nil {
		t.Fatal(err)
	}
	if err := env.Registry.Users().Remove(context.Background(), registrytest.User); err != nil {
		t.Fatal(err)
	}
	if err := crane.Push(img, env.Host+"/a/b:2", env.Crane(true)...); err == nil {
		t.Fatal("push with a removed account succeeded")
	}
}

// TestMirrorNamespaces pushes two different images to the same path under
// two upstream hosts and reads them back the way containerd does through a
// mirror (?ns=<host>).
func TestMirrorNamespaces(t *testing.T) {
	env := registrytest.Start(t, registrytest.Options{})
	dockerImg := randomImage(t, 512, 1)
	quayImg := randomImage(t, 512, 1)
	if err := crane.Push(dockerImg, env.Host+"/docker.io/library/nginx:1.27", env.Crane(true)...); err != nil {
		t.Fatal(err)
	}
	if err := crane.Push(quayImg, env.Host+"/quay.io/library/nginx:1.27", env.Crane(true)...); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want string
	}{
		{"/v2/library/nginx/manifests/1.27?ns=docker.io", digestOf(t, dockerImg)},
		{"/v2/nginx/manifests/1.27?ns=docker.io", digestOf(t, dockerImg)}, // short Docker Hub name
		{"/v2/library/nginx/manifests/1.27?ns=quay.io", digestOf(t, quayImg)},
		{"/v2/library/nginx/manifests/1.27?ns=ghcr.io", ""},
	}
	for _, tc := range tests {
		resp := do(t, env, "HEAD", tc.path, nil, false, "Accept", "application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.v2+json")
		resp.Body.Close()
		if tc.want == "" {
			if resp.StatusCode != 404 {
				t.Errorf("%s: status %d, want 404", tc.path, resp.StatusCode)
			}
			continue
		}
		if got := resp.Header.Get("Docker-Content-Digest"); resp.StatusCode != 200 || got != tc.want {
			t.Errorf("%s: status %d digest %s, want %s", tc.path, resp.StatusCode, got, tc.want)
		}
	}
	// Blobs resolve the same way.
	layers, _ := quayImg.Layers()
	ld, _ := layers[0].Digest()
	resp := do(t, env, "GET", "/v2/library/nginx/blobs/"+ld.String()+"?ns=quay.io", nil, false)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("blob through mirror: status %d", resp.StatusCode)
	}
}

// TestOCIPushWorkflow covers the distribution-spec push workflow in raw
// HTTP: monolithic and chunked uploads, cross-repository mount, manifest
// push, and the error codes for bad input.
func TestOCIPushWorkflow(t *testing.T) {
	env := registrytest.Start(t, registrytest.Options{})
	blob := bytes.Repeat([]byte("outpost"), 10000)
	sum := sha256.Sum256(blob)
	dgst := "sha256:" + hex.EncodeToString(sum[:])

	// Chunked upload: POST, two PATCHes with Content-Range, PUT ?digest=.
	resp := do(t, env, "POST", "/v2/spec/chunked/blobs/uploads/", nil, true)
	resp.Body.Close()
	if resp.StatusCode != 202 {
		t.Fatalf("open upload: %d", resp.StatusCode)
	}
	loc := resp.Header.Get("Location")
	half := len(blob) / 2
	for i, part := range [][]byte{blob[:half], blob[half:]} {
		start := i * half
		req, _ := http.NewRequest("PATCH", absolute(env, loc), bytes.NewReader(part))
		req.SetBasicAuth(registrytest.User, registrytest.Password)
		req.Header.Set("Content-Type", "application/octet-stream")
		req.Header.Set("Content-Range", fmt.Sprintf("%d-%d", start, start+len(part)-1))
		r, err := env.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != 202 {
			t.Fatalf("chunk %d: status %d", i, r.StatusCode)
		}
		loc = r.Header.Get("Location")
	}
	// Closing with the wrong digest is DIGEST_INVALID.
	bad := "sha256:" + strings.Repeat("0", 64)
	req, _ := http.NewRequest("PUT", absolute(env, loc)+"&digest="+bad, nil)
	req.SetBasicAuth(registrytest.User, registrytest.Password)
	r, err := env.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if code := registryError(t, r); r.StatusCode != 400 || code != "DIGEST_INVALID" {
		t.Fatalf("wrong digest: %d %s, want 400 DIGEST_INVALID", r.StatusCode, code)
	}
	// Start again and close correctly (the failed upload was cancelled).
	resp = do(t, env, "POST", "/v2/spec/chunked/blobs/uploads/", nil, true)
	resp.Body.Close()
	req, _ = http.NewRequest("PUT", absolute(env, resp.Header.Get("Location"))+"&digest="+dgst, bytes.NewReader(blob))
	req.SetBasicAuth(registrytest.User, registrytest.Password)
	req.Header.Set("Content-Type", "application/octet-stream")
	r, err = env.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 201 {
		t.Fatalf("monolithic upload: %d", r.StatusCode)
	}

	// Cross-repository mount.
	resp = do(t, env, "POST", "/v2/spec/mounted/blobs/uploads/?mount="+dgst+"&from=spec/chunked", nil, true)
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("mount: status %d, want 201", resp.StatusCode)
	}
	resp = do(t, env, "HEAD", "/v2/spec/mounted/blobs/"+dgst, nil, false)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Length") != fmt.Sprint(len(blob)) {
		t.Fatalf("mounted blob: status %d length %s", resp.StatusCode, resp.Header.Get("Content-Length"))
	}

	// A manifest naming an unknown blob is MANIFEST_BLOB_UNKNOWN.
	manifest := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
		"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},
		"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":7}]}`, dgst, len(blob), bad)
	resp = do(t, env, "PUT", "/v2/spec/chunked/manifests/v1", []byte(manifest), true, "Content-Type", "application/vnd.oci.image.manifest.v1+json")
	if code := registryError(t, resp); resp.StatusCode != 400 || code != "MANIFEST_BLOB_UNKNOWN" {
		t.Fatalf("manifest with unknown blob: %d %s", resp.StatusCode, code)
	}

	errorCases := []struct {
		name, method, path, code string
		status                   int
	}{
		{"unknown blob", "GET", "/v2/spec/chunked/blobs/" + bad, "BLOB_UNKNOWN", 404},
		{"unknown manifest", "GET", "/v2/spec/chunked/manifests/nope", "MANIFEST_UNKNOWN", 404},
		{"invalid digest", "GET", "/v2/spec/chunked/blobs/sha256:xyz", "DIGEST_INVALID", 400},
		{"invalid name", "GET", "/v2/Spec/UPPER/tags/list", "NAME_INVALID", 400},
		{"unknown repository", "GET", "/v2/spec/none/tags/list", "NAME_UNKNOWN", 404},
	}
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			resp := do(t, env, tc.method, tc.path, nil, true)
			if code := registryError(t, resp); resp.StatusCode != tc.status || code != tc.code {
				t.Fatalf("%s %s: %d %s, want %d %s", tc.method, tc.path, resp.StatusCode, code, tc.status, tc.code)
			}
		})
	}
}

func absolute(env *registrytest.Env, loc string) string {
	if strings.HasPrefix(loc, "http") {
		return loc
	}
	return env.URL(loc)
}

// TestContentDiscoveryAndManagement: tag listing with pagination, catalog,
// manifest and blob deletes, and tag deletion semantics, through crane.
func TestContentDiscoveryAndManagement(t *testing.T) {
	env := registrytest.Start(t, registrytest.Options{})
	img := randomImage(t, 256, 1)
	repo := env.Host + "/disc/app"
	for _, tag := range []string{"a", "b", "c", "d", "e"} {
		if err := crane.Push(img, repo+":"+tag, env.Crane(true)...); err != nil {
			t.Fatal(err)
		}
	}
	tags, err := crane.ListTags(repo, env.Crane(false)...)
	if err != nil || strings.Join(tags, ",") != "a,b,c,d,e" {
		t.Fatalf("tags = %v, %v", tags, err)
	}
	// Pagination: n=2 returns two tags and a Link to the next page.
	var pages [][]string
	next := "/v2/disc/app/tags/list?n=2"
	for next != "" && len(pages) < 10 {
		resp := do(t, env, "GET", next, nil, false)
		var body struct{ Tags []string }
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		pages = append(pages, body.Tags)
		next = ""
		if link := resp.Header.Get("Link"); link != "" {
			next = strings.TrimSuffix(strings.TrimPrefix(strings.Split(link, ";")[0], "<"), ">")
		}
	}
	if fmt.Sprint(pages) != "[[a b] [c d] [e]]" {
		t.Fatalf("pages = %v", pages)
	}
	resp := do(t, env, "GET", "/v2/disc/app/tags/list?n=2&last=b", nil, false)
	var body struct{ Tags []string }
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if fmt.Sprint(body.Tags) != "[c d]" {
		t.Fatalf("last=b page = %v", body.Tags)
	}
	catalog, err := crane.Catalog(env.Host, env.Crane(true)...)
	if err != nil || fmt.Sprint(catalog) != "[disc/app]" {
		t.Fatalf("catalog = %v, %v", catalog, err)
	}

	// Delete a blob, then the manifest by digest: both become unknown.
	layers, _ := img.Layers()
	ld, _ := layers[0].Digest()
	resp = do(t, env, "DELETE", "/v2/disc/app/blobs/"+ld.String(), nil, true)
	resp.Body.Close()
	if resp.StatusCode != 202 {
		t.Fatalf("delete blob: %d", resp.StatusCode)
	}
	resp = do(t, env, "HEAD", "/v2/disc/app/blobs/"+ld.String(), nil, false)
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("deleted blob: %d", resp.StatusCode)
	}
	if err := crane.Delete(repo+"@"+digestOf(t, img), env.Crane(true)...); err != nil {
		t.Fatalf("delete manifest: %v", err)
	}
	_, err = crane.Manifest(repo+":a", env.Crane(false)...)
	if err == nil || !strings.Contains(err.Error(), "MANIFEST_UNKNOWN") {
		t.Fatalf("manifest after delete: %v", err)
	}
}

// TestSkopeo drives the registry with skopeo, a second independent client:
// copy from an OCI layout with credentials over TLS, inspect anonymously,
// list tags, delete.
func TestSkopeo(t *testing.T) {
	skopeo, err := exec.LookPath("skopeo")
	if err != nil {
		t.Skip("skopeo is not installed (apt-get install skopeo); CI installs it")
	}
	env := registrytest.Start(t, registrytest.Options{})
	certDir := t.TempDir()
	ca, _ := os.ReadFile(env.CAFile)
	os.WriteFile(filepath.Join(certDir, "ca.crt"), ca, 0o644)

	layoutDir := filepath.Join(t.TempDir(), "layout")
	// skopeo's OCI layout reader wants OCI media types.
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	for range 2 {
		l, err := random.Layer(4096, types.OCILayer)
		if err != nil {
			t.Fatal(err)
		}
		if img, err = mutate.AppendLayers(img, l); err != nil {
			t.Fatal(err)
		}
	}
	lp, err := layout.Write(layoutDir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "v1"})); err != nil {
		t.Fatal(err)
	}
	dest := "docker://" + env.Host + "/skopeo/app:v1"
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(skopeo, args...)
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("skopeo %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	creds := registrytest.User + ":" + registrytest.Password
	run("copy", "--dest-creds", creds, "--dest-cert-dir", certDir, "oci:"+layoutDir+":v1", dest)
	out := run("inspect", "--raw", "--cert-dir", certDir, dest)
	if d := sha256.Sum256([]byte(out)); "sha256:"+hex.EncodeToString(d[:]) != digestOf(t, img) {
		t.Fatalf("skopeo inspect returned another manifest:\n%s", out)
	}
	if out := run("list-tags", "--cert-dir", certDir, "docker://"+env.Host+"/skopeo/app"); !strings.Contains(out, `"v1"`) {
		t.Fatalf("list-tags: %s", out)
	}
	run("delete", "--creds", creds, "--cert-dir", certDir, dest)
	if _, err := crane.Head(env.Host+"/skopeo/app:v1", env.Crane(false)...); err == nil {
		t.Fatal("image still present after skopeo delete")
	}
	// Anonymous skopeo pushes are refused.
	cmd := exec.Command(skopeo, "copy", "--dest-cert-dir", certDir, "oci:"+layoutDir+":v1", dest)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("anonymous skopeo copy succeeded:\n%s", out)
	}
}

func TestImagesListAndRemove(t *testing.T) {
	env := registrytest.Start(t, registrytest.Options{})
	shared := randomImage(t, 1024, 1)
	other, err := mutate.AppendLayers(shared, mustLayer(t))
	if err != nil {
		t.Fatal(err)
	}
	for ref, img := range map[string]v1.Image{"/docker.io/library/nginx:1.27": shared, "/docker.io/library/nginx:1.28": other, "/team/app:1": other} {
		if err := crane.Push(img, env.Host+ref, env.Crane(true)...); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	images, err := env.Registry.Images(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, img := range images {
		listed = append(listed, img.Repository+":"+img.Tag+"="+img.Source)
		if img.Size <= 0 {
			t.Errorf("%s:%s has size %d", img.Repository, img.Tag, img.Size)
		}
	}
	want := "[docker.io/library/nginx:1.27=push by alice docker.io/library/nginx:1.28=push by alice team/app:1=push by alice]"
	if fmt.Sprint(listed) != want {
		t.Fatalf("images = %v\nwant %v", listed, want)
	}
	// Upstream reference form: nginx:1.28 is docker.io/library/nginx:1.28.
	if _, err := env.Registry.RemoveImage(ctx, "nginx:1.28"); err != nil {
		t.Fatal(err)
	}
	if _, err := crane.Head(env.Host+"/docker.io/library/nginx:1.28", env.Crane(false)...); err == nil {
		t.Fatal("1.28 still resolves")
	}
	// 1.27 shares the base layer: it must still pull completely.
	img, err := crane.Pull(env.Host+"/docker.io/library/nginx:1.27", env.Crane(false)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(img); err != nil {
		t.Fatalf("remaining image broken: %v", err)
	}
	if _, err := env.Registry.RemoveImage(ctx, "team/app:2"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("removing a missing tag: %v", err)
	}
	if _, err := env.Registry.RemoveImage(ctx, "team/app@"+digestOf(t, other)); err != nil {
		t.Fatal(err)
	}
	images, _ = env.Registry.Images(ctx)
	if len(images) != 1 {
		t.Fatalf("after removals: %v", images)
	}
	if _, err := os.Stat(filepath.Join(env.DataDir, "registry/docker/registry/v2/repositories/team")); !os.IsNotExist(err) {
		t.Fatalf("empty repository directory left behind: %v", err)
	}
}

func mustLayer(t *testing.T) v1.Layer {
	l, err := random.Layer(2048, "application/vnd.docker.image.rootfs.diff.tar.gzip")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

var _ = name.ParseReference
var _ = registry.ResolveRef
