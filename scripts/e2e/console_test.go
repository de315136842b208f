//go:build e2e

package e2e

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// consoleTestImage is the upstream-style reference the browser test's bundle
// carries; the console deploys it from the local registry.
const consoleTestImage = "docker.io/outpost-demo/shop-web:1.0"

// TestConsoleInBrowser runs a real server with the console on and drives the
// console with Debian's Chromium (scripts/e2e/console/console.e2e.mjs): first
// login and password change, a project, a bundle uploaded in the browser, a
// deployment from its image seen Running, its CPU chart, scaling, logs, a
// rollback, and a viewer who cannot delete. Screenshots of each page land in
// $OUTPOST_E2E_ARTIFACTS/console.
func TestConsoleInBrowser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the end-to-end test runs a real kubelet and containerd and needs root")
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("Chromium is needed for the browser test (apt-get install chromium): %v", err)
	}
	if _, err := os.Stat("../../webui/node_modules/playwright-core"); err != nil {
		t.Fatalf("playwright-core is needed (make webui runs npm ci in webui/): %v", err)
	}
	artifacts := os.Getenv("OUTPOST_E2E_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	}
	artifacts = filepath.Join(artifacts, "console")
	os.MkdirAll(artifacts, 0o755)

	dataDir, err := os.MkdirTemp("/var/lib", "outpost-e2e-console-")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, bin: binary(t), dataDir: dataDir, logPath: filepath.Join(artifacts, "server.log"),
		args: []string{"--node-name", "e2e-console"}}
	t.Cleanup(func() {
		s.stop()
		s.command(s.bin, "reset", "--data-dir", dataDir, "--purge", "--force").Run()
	})
	s.start()
	s.eventually("node Ready", 3*time.Minute, func() error {
		out, err := s.kubectl("get", "node", "e2e-console", "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
		if err != nil || out != "True" {
			return fmt.Errorf("ready=%q err=%v", out, err)
		}
		return nil
	})
	// The browser runs on this host: let the first pods' network churn
	// settle before it starts.
	s.eventually("CoreDNS Ready", 3*time.Minute, func() error {
		out, err := s.kubectl("-n", "kube-system", "get", "deploy", "coredns", "-o", "jsonpath={.status.readyReplicas}")
		if err != nil || out != "1" {
			return fmt.Errorf("ready replicas=%q err=%v", out, err)
		}
		return nil
	})
	insecure := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	s.eventually("console answers", 2*time.Minute, func() error {
		resp, err := insecure.Get("https://127.0.0.1:8443/healthz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if _, err := os.Stat(filepath.Join(dataDir, "console", "admin-password")); err != nil {
			return err
		}
		return nil
	})

	// An unsigned bundle carrying the test image under an upstream name; the
	// browser test accepts it unsigned (and that choice is audited).
	work := t.TempDir()
	spec := fmt.Sprintf("name: shop\nversion: 1.0.0\nkind: app\nimages:\n  - ref: %s\n    from: oci:%s\n", consoleTestImage, testImageLayout(t))
	os.WriteFile(filepath.Join(work, "bundle.yaml"), []byte(spec), 0o644)
	bundleFile := filepath.Join(work, "shop.bundle")
	if out, err := s.command(s.bin, "bundle", "create", "-f", filepath.Join(work, "bundle.yaml"), "-o", bundleFile).CombinedOutput(); err != nil {
		t.Fatalf("outpost bundle create: %v\n%s", err, out)
	}

	cmd := exec.Command("node", "scripts/e2e/console/console.e2e.mjs")
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(),
		"CONSOLE_URL=https://127.0.0.1:8443",
		"ADMIN_PASSWORD_FILE="+filepath.Join(dataDir, "console", "admin-password"),
		"ARTIFACTS="+artifacts,
		"BUNDLE_FILE="+bundleFile,
		"TEST_IMAGE="+consoleTestImage,
		"CHROMIUM="+chromium,
	)
	out, err := cmd.CombinedOutput()
	t.Logf("browser test:\n%s", out)
	if err != nil {
		t.Fatalf("browser test failed (%v); screenshots and report.json in %s; server log tail:\n%s", err, artifacts,
			tail(s.log.String(), 40))
	}
	if !strings.Contains(string(out), "ok   a viewer cannot delete") {
		t.Fatalf("the browser test did not reach its last checks")
	}
}
