package cli

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runAlerts(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newAlertsCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestAlertsCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(good, []byte("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n"), 0o644)
	os.WriteFile(bad, []byte("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up ==\n"), 0o644)
	out, err := runAlerts(t, "check", good, bad)
	if err == nil || !strings.Contains(out, "good.yaml: OK") || !strings.Contains(out, "bad.yaml:5:") {
		t.Fatalf("check: err %v, output:\n%s", err, out)
	}
	if _, err := runAlerts(t, "check", good); err != nil {
		t.Fatalf("check of a good file: %v", err)
	}
}

func TestAlertsTestRunsBuiltinRuleTests(t *testing.T) {
	files, _ := filepath.Glob("../../../appliance/monitor/testdata/rules/*_test.yaml")
	if len(files) == 0 {
		t.Fatal("built-in rule tests not found")
	}
	out, err := runAlerts(t, append([]string{"test"}, files...)...)
	if err != nil || strings.Count(out, "SUCCESS") != len(files) {
		t.Fatalf("test: err %v, output:\n%s", err, out)
	}
}

func TestAlertsBuiltinAndList(t *testing.T) {
	out, err := runAlerts(t, "builtin", "outpost-recording.yaml", "--scrape-interval", "30s")
	if err != nil || !strings.Contains(out, "[2m]") {
		t.Fatalf("builtin: err %v, want a 2m rate window for 30s scrapes", err)
	}
	if _, err := runAlerts(t, "builtin", "nope.yaml"); err == nil {
		t.Fatal("builtin of an unknown file must fail")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v2/alerts" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(`[{"labels":{"alertname":"KubeNodeNotReady","severity":"critical","node":"n1"},"annotations":{"summary":"Node n1 is not ready."},
			"startsAt":"2020-01-01T00:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"f","updatedAt":"2020-01-01T00:00:00Z",
			"receivers":[],"status":{"state":"active","silencedBy":[],"inhibitedBy":[]}},
			{"labels":{"alertname":"Quiet"},"annotations":{},"startsAt":"2020-01-01T00:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"",
			"fingerprint":"g","updatedAt":"2020-01-01T00:00:00Z","receivers":[],"status":{"state":"suppressed","silencedBy":["s"],"inhibitedBy":[]}}]`))
	}))
	defer srv.Close()
	out, err = runAlerts(t, "list", "--url", srv.URL)
	if err != nil || !strings.Contains(out, "KubeNodeNotReady") || !strings.Contains(out, "node=n1") || strings.Contains(out, "Quiet") {
		t.Fatalf("list: err %v, output:\n%s", err, out)
	}
	out, _ = runAlerts(t, "list", "--url", srv.URL, "--all")
	if !strings.Contains(out, "Quiet") {
		t.Fatalf("list --all lacks the silenced alert:\n%s", out)
	}
}
