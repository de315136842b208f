package adapt_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/outpost-platform/outpost/appliance/bundle"
	"github.com/outpost-platform/outpost/appliance/console"
	"github.com/outpost-platform/outpost/appliance/console/adapt"
	"github.com/outpost-platform/outpost/appliance/registry/registrytest"
	"github.com/outpost-platform/outpost/appliance/trust"
)

// admin is a logged-in platform admin over HTTPS.
type admin struct {
	t    *testing.T
	base string
	hc   *http.Client
	csrf string
}

func (a *admin) do(method, path string, body any, out any) int {
	a.t.Helper()
	var rd io.Reader
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case []byte:
		rd, ctype = bytes.NewReader(b), "application/octet-stream"
	default:
		data, _ := json.Marshal(b)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, a.base+"/api/v1"+path, rd)
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("X-CSRF-Token", a.csrf)
	resp, err := a.hc.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			a.t.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	}
	if resp.StatusCode >= 300 {
		a.t.Logf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	return resp.StatusCode
}

// startConsole runs a console over HTTPS with the registry test PKI and
// logs in as admin with a changed password.
func startConsole(t *testing.T, env *registrytest.Env, deps console.Deps) *admin {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := console.DefaultConfig(env.DataDir)
	cfg.Listen, cfg.MonitoringURL = addr, ""
	cfg.TLSCertFile, cfg.TLSKeyFile = filepath.Join(env.DataDir, "pki", "registry.crt"), filepath.Join(env.DataDir, "pki", "registry.key")
	if _, err := os.Stat(cfg.TLSCertFile); err != nil {
		cfg.TLSCertFile, cfg.TLSKeyFile = findPair(t, filepath.Join(env.DataDir, "pki"))
	}
	deps.DB = env.DB
	deps.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	c, err := console.New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	jar, _ := cookiejar.New(nil)
	a := &admin{t: t, base: "https://" + addr, hc: &http.Client{Jar: jar, Transport: env.Transport}}
	for i := 0; ; i++ {
		resp, err := a.hc.Get(a.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if i > 200 {
			t.Fatalf("console did not start: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	pw, err := os.ReadFile(filepath.Join(env.DataDir, console.AdminPasswordFile))
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		CSRFToken string `json:"csrfToken"`
	}
	if a.do("POST", "/auth/login", map[string]string{"username": "admin", "password": strings.TrimSpace(string(pw))}, &s) != 200 {
		t.Fatal("admin login failed")
	}
	a.csrf = s.CSRFToken
	if a.do("POST", "/auth/password", map[string]string{"currentPassword": strings.TrimSpace(string(pw)), "newPassword": "admin-password-1"}, &s) != 200 {
		t.Fatal("password change failed")
	}
	a.csrf = s.CSRFToken
	return a
}

func findPair(t *testing.T, dir string) (string, string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	var crt, key string
	for _, e := range entries {
		switch {
		case strings.HasSuffix(e.Name(), ".crt") && !strings.Contains(e.Name(), "ca"):
			crt = filepath.Join(dir, e.Name())
		case strings.HasSuffix(e.Name(), ".key") && !strings.Contains(e.Name(), "ca"):
			key = filepath.Join(dir, e.Name())
		}
	}
	if crt == "" || key == "" {
		t.Fatalf("no serving certificate in %s", dir)
	}
	return crt, key
}

// TestBundleUploadedInTheConsoleLandsInTheRegistry uploads a real bundle
// through the console API in chunks, lets the real importer verify and
// import it, and sees its image in the console's image list, then deletes
// it and collects garbage.
func TestBundleUploadedInTheConsoleLandsInTheRegistry(t *testing.T) {
	env := registrytest.Start(t, registrytest.Options{})
	importer, err := bundle.NewImporter(env.Registry, env.DB, trust.StaticKeys{})
	if err != nil {
		t.Fatal(err)
	}
	a := startConsole(t, env, console.Deps{Registry: adapt.Registry(env.Registry), Bundles: adapt.Bundles(importer)})

	img, err := random.Image(3<<20, 3)
	if err != nil {
		t.Fatal(err)
	}
	lp, err := layout.Write(filepath.Join(t.TempDir(), "layout"), empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	spec := &bundle.Spec{Name: "shop", Version: "1.0.0", Kind: "app", Images: []bundle.ImageSpec{{Ref: "docker.io/acme/shop:1.0", From: "oci:" + string(lp)}}}
	file := filepath.Join(t.TempDir(), "shop.bundle")
	if _, err := bundle.Create(context.Background(), spec, file, bundle.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}

	upload := func(allowUnsigned bool) console.Upload {
		var up console.Upload
		if a.do("POST", "/bundles/uploads", map[string]any{"fileName": "shop.bundle", "size": len(data), "allowUnsigned": allowUnsigned}, &up) != 201 {
			t.Fatal("starting upload failed")
		}
		for off := 0; off < len(data); off += up.ChunkSize {
			end := min(off+up.ChunkSize, len(data))
			if a.do("PUT", fmt.Sprintf("/bundles/uploads/%s/chunk?offset=%d", up.ID, off), data[off:end], &up) != 200 {
				t.Fatalf("chunk at %d refused", off)
			}
		}
		for up.State == "importing" || up.State == "receiving" {
			time.Sleep(50 * time.Millisecond)
			a.do("GET", "/bundles/uploads/"+up.ID, nil, &up)
		}
		return up
	}
	up := upload(false)
	if up.State != "failed" || !strings.Contains(strings.ToLower(up.Message), "sign") {
		t.Fatalf("unsigned bundle without consent: %+v", up)
	}
	up = upload(true)
	if up.State != "imported" || up.Result == nil || len(up.Result.Images) != 1 || up.Result.Name != "shop" {
		t.Fatalf("import: %+v", up)
	}

	var images struct{ Items []console.Image }
	a.do("GET", "/images", nil, &images)
	found := false
	for _, im := range images.Items {
		if strings.HasSuffix(im.Repository, "acme/shop") && im.Tag == "1.0" {
			found = true
			if im.Size == 0 || !strings.HasPrefix(im.Digest, "sha256:") || !strings.Contains(im.Source, "shop") {
				t.Fatalf("image row = %+v", im)
			}
		}
	}
	if !found {
		t.Fatalf("imported image not listed: %+v", images.Items)
	}
	if code := a.do("DELETE", "/images?ref=docker.io/acme/nothing:9", nil, nil); code != 404 {
		t.Fatalf("deleting a missing image answered %d", code)
	}
	if code := a.do("DELETE", "/images?ref=docker.io/acme/shop:1.0", nil, nil); code != 204 {
		t.Fatalf("delete answered %d", code)
	}
	var gc console.GCResult
	if code := a.do("POST", "/images/gc", nil, &gc); code != 200 {
		t.Fatalf("gc answered %d", code)
	}
	a.do("GET", "/images", nil, &images)
	for _, im := range images.Items {
		if strings.HasSuffix(im.Repository, "acme/shop") {
			t.Fatalf("deleted image still listed: %+v", im)
		}
	}
}
