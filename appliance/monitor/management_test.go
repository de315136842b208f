package monitor

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func do(t *testing.T, method, url, contentType string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func TestBadRuleFileIsRefusedAndPreviousRulesKeepRunning(t *testing.T) {
	exp := newExporter(t)
	exp.value.Store(9)
	dir := t.TempDir()
	rulesDir := filepath.Join(dir, "rules")
	if err := os.MkdirAll(rulesDir, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(rulesDir, "demo.yaml")
	if err := os.WriteFile(file, []byte(demoRules), 0o644); err != nil {
		t.Fatal(err)
	}
	tm := startMonitor(t, Config{Dir: dir, Targets: []Target{{Name: "demo", URL: exp.URL + "/metrics"}}}, Deps{})
	firing := func() bool {
		return len(tm.query(t, `ALERTS{alertname="DemoValueHigh", alertstate="firing"}`)) == 1
	}
	eventually(t, "DemoValueHigh to fire", firing)

	// A broken edit on disk: an invalid PromQL expression on line 5.
	broken := strings.Replace(demoRules, "demo_value > 5", "demo_value >", 1)
	if err := os.WriteFile(file, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	var st RuleFileStatus
	eventually(t, "the broken file to be reported", func() bool {
		for _, s := range tm.ruleFiles.Status() {
			if s.Name == "demo.yaml" && s.Error != "" {
				st = s
				return true
			}
		}
		return false
	})
	if !strings.Contains(st.Error, "demo.yaml:5:") || !strings.Contains(st.Error, "parse error") || !st.Active {
		t.Fatalf("status of broken file = %+v; want file:line, reason, and still active", st)
	}
	// The previous version keeps being evaluated.
	time.Sleep(3 * tm.cfg.EvaluationInterval)
	if !firing() {
		t.Fatal("the previous rules stopped running after a bad edit")
	}

	// Through the API, a bad file is refused with 400 and nothing is written.
	code, body := do(t, http.MethodPut, tm.api.URL+"/api/outpost/v1/rules/other.yaml", "application/yaml", []byte("groups:\n  - name: x\n    rules:\n      - alert: X\n        expr: up ==\n"))
	if code != http.StatusBadRequest || !strings.Contains(string(body), "other.yaml:5:") {
		t.Fatalf("PUT bad rule file: %d %s", code, body)
	}
	if _, err := os.Stat(filepath.Join(rulesDir, "other.yaml")); !os.IsNotExist(err) {
		t.Fatalf("refused rule file was written: %v", err)
	}
	// A good file is accepted and loaded.
	good := "groups:\n  - name: extra\n    rules:\n      - record: demo:value:max\n        expr: max(demo_value)\n"
	code, body = do(t, http.MethodPut, tm.api.URL+"/api/outpost/v1/rules/other.yaml", "application/yaml", []byte(good))
	if code != http.StatusOK {
		t.Fatalf("PUT good rule file: %d %s", code, body)
	}
	eventually(t, "the new recording rule to produce samples", func() bool { return len(tm.query(t, `demo:value:max`)) == 1 })
	code, body = do(t, http.MethodGet, tm.api.URL+"/api/outpost/v1/rules/outpost-recording.yaml", "", nil)
	if code != http.StatusOK || !strings.Contains(string(body), "[1m]") {
		t.Fatalf("GET built-in rule file: %d; want the rendered file with a 1m rate window", code)
	}
	code, _ = do(t, http.MethodPut, tm.api.URL+"/api/outpost/v1/rules/..%2Fescape.yaml", "application/yaml", []byte(good))
	if code != http.StatusBadRequest && code != http.StatusNotFound {
		t.Fatalf("path traversal in rule file name: %d", code)
	}
}

func TestReceiversAPIKeepsSecretsAndRespectsConfigFile(t *testing.T) {
	hook := newWebhook(t)
	cfg := Config{Alerting: fastAlerting(hook.URL)}
	tm := startMonitor(t, cfg, Deps{})
	base := tm.api.URL + "/api/outpost/v1/receivers/"

	// Raw JSON: marshalling a settings.Receiver would redact the secrets.
	body := []byte(`{"name":"ding","dingtalk":{"url":"https://oapi.dingtalk.com/robot/send?access_token=tok123","secret":"SECabc"}}`)
	if code, out := do(t, http.MethodPut, base+"ding", "application/json", body); code != http.StatusOK {
		t.Fatalf("PUT receiver: %d %s", code, out)
	}
	code, out := do(t, http.MethodGet, tm.api.URL+"/api/outpost/v1/receivers", "", nil)
	if code != http.StatusOK || strings.Contains(string(out), "tok123") || strings.Contains(string(out), "SECabc") || !strings.Contains(string(out), `"source":"api"`) {
		t.Fatalf("GET receivers leaked secrets or lacks the receiver: %d %s", code, out)
	}
	// Edit with the redacted values sent back: secrets are kept.
	var list struct {
		Receivers []ReceiverView `json:"receivers"`
	}
	if err := json.Unmarshal(out, &list); err != nil {
		t.Fatal(err)
	}
	for _, r := range list.Receivers {
		if r.Name == "ding" {
			r.Match = []string{"severity=critical"}
			body, _ = json.Marshal(r.Receiver)
		}
	}
	if code, out := do(t, http.MethodPut, base+"ding", "application/json", body); code != http.StatusOK {
		t.Fatalf("PUT edited receiver: %d %s", code, out)
	}
	if r, _ := tm.receivers.get("ding"); r.DingTalk.Secret != "SECabc" || !strings.Contains(r.DingTalk.URL.Reveal(), "tok123") || len(r.Match) != 1 {
		t.Fatalf("stored receiver after edit = %+v", r.DingTalk)
	}
	// The file on disk is private.
	if fi, err := os.Stat(filepath.Join(tm.cfg.Dir, "receivers.yaml")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("receivers file: %v %v", fi, err)
	}
	// Config-file receivers are read-only through the API.
	body = []byte(`{"name":"hook","webhook":{"url":"http://127.0.0.1:1/x"}}`)
	if code, out := do(t, http.MethodPut, base+"hook", "application/json", body); code != http.StatusConflict {
		t.Fatalf("PUT over a config receiver: %d %s, want 409", code, out)
	}
	// Bad input.
	for _, tc := range []struct{ name, body string }{
		{"bad", `{"name":"bad","webhook":{"url":"not a url"}}`},
		{"bad", `{"name":"bad"}`},
		{"bad", `{"name":"bad","webhook":{"url":"http://x"},"unknown":1}`},
		{"bad", `{"name":"other","webhook":{"url":"http://x"}}`},
	} {
		if code, out := do(t, http.MethodPut, base+tc.name, "application/json", []byte(tc.body)); code != http.StatusBadRequest {
			t.Errorf("PUT %s: %d %s, want 400", tc.body, code, out)
		}
	}
	// Test notification through a configured receiver reaches it.
	if code, out := do(t, http.MethodPost, base+"hook/test", "", nil); code != http.StatusOK {
		t.Fatalf("test notification: %d %s", code, out)
	}
	hook.waitFor(t, "OutpostTestNotification", "firing")
	// A receiver that fails to deliver answers 502 with the reason.
	body = []byte(`{"name":"dead","webhook":{"url":"http://127.0.0.1:1/x"}}`)
	if code, out := do(t, http.MethodPost, tm.api.URL+"/api/outpost/v1/receivers-test", "application/json", body); code != http.StatusBadGateway || !strings.Contains(string(out), "connection refused") {
		t.Fatalf("test of a dead receiver: %d %s", code, out)
	}
	if code, _ := do(t, http.MethodDelete, base+"ding", "", nil); code != http.StatusNoContent {
		t.Fatalf("DELETE receiver: %d", code)
	}
	if code, _ := do(t, http.MethodDelete, base+"ding", "", nil); code != http.StatusNotFound {
		t.Fatalf("DELETE missing receiver: %d", code)
	}
}

func TestReceiversPersistAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	tm := startMonitor(t, Config{Dir: dir}, Deps{})
	body := []byte(`{"name":"wecom","wecom":{"url":"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k1"}}`)
	if code, out := do(t, http.MethodPut, tm.api.URL+"/api/outpost/v1/receivers/wecom", "application/json", body); code != http.StatusOK {
		t.Fatalf("PUT: %d %s", code, out)
	}
	tm.stop()
	tm2 := startMonitor(t, Config{Dir: dir}, Deps{})
	names := []string{}
	for _, r := range tm2.dispatcher.Config().Receivers {
		names = append(names, r.Name)
	}
	if len(names) != 1 || names[0] != "wecom" {
		t.Fatalf("receivers after restart = %v", names)
	}
}

func TestSilencesAPI(t *testing.T) {
	tm := startMonitor(t, Config{}, Deps{})
	code, out := do(t, http.MethodPost, tm.api.URL+"/api/v2/silences", "application/json",
		[]byte(`{"matchers":[{"name":"alertname","value":"KubeNodeNotReady","isRegex":false}],"startsAt":"2020-01-01T00:00:00Z","endsAt":"2999-01-01T00:00:00Z","createdBy":"ops","comment":"maintenance"}`))
	if code != http.StatusOK {
		t.Fatalf("POST silence: %d %s", code, out)
	}
	var created struct {
		SilenceID string `json:"silenceID"`
	}
	_ = json.Unmarshal(out, &created)
	code, out = do(t, http.MethodGet, tm.api.URL+"/api/v2/silence/"+created.SilenceID, "", nil)
	if code != http.StatusOK || !strings.Contains(string(out), `"state":"active"`) {
		t.Fatalf("GET silence: %d %s", code, out)
	}
	if code, _ := do(t, http.MethodDelete, tm.api.URL+"/api/v2/silence/"+created.SilenceID, "", nil); code != http.StatusOK {
		t.Fatalf("DELETE silence: %d", code)
	}
	code, out = do(t, http.MethodGet, tm.api.URL+"/api/v2/silences", "", nil)
	if code != http.StatusOK || !strings.Contains(string(out), `"state":"expired"`) {
		t.Fatalf("GET silences: %d %s", code, out)
	}
	for _, bad := range []string{`{"matchers":[],"endsAt":"2999-01-01T00:00:00Z"}`, `{"matchers":[{"name":"a","value":".*","isRegex":true}],"endsAt":"2999-01-01T00:00:00Z"}`, `not json`} {
		if code, out := do(t, http.MethodPost, tm.api.URL+"/api/v2/silences", "application/json", []byte(bad)); code != http.StatusBadRequest {
			t.Errorf("POST %s: %d %s, want 400", bad, code, out)
		}
	}
	if code, _ := do(t, http.MethodDelete, tm.api.URL+"/api/v2/silence/nope", "", nil); code != http.StatusNotFound {
		t.Errorf("DELETE unknown silence: %d, want 404", code)
	}
}

func TestListenerIsReadOnlyByDefault(t *testing.T) {
	tm := startMonitor(t, Config{}, Deps{})
	srv := httptest.NewServer(tm.listenerHandler())
	defer srv.Close()
	if code, _ := do(t, http.MethodGet, srv.URL+"/api/v1/query?query=1", "", nil); code != http.StatusOK {
		t.Fatalf("query on listener: %d", code)
	}
	for _, w := range []struct{ method, path string }{
		{http.MethodPost, "/api/v2/silences"}, {http.MethodPut, "/api/outpost/v1/receivers/x"},
		{http.MethodPut, "/api/outpost/v1/rules/x.yaml"}, {http.MethodPost, "/-/reload"},
		{http.MethodPost, "/api/v1/admin/tsdb/delete_series"}, {http.MethodPost, "/api/v1/write"},
		{http.MethodGet, "/api/outpost/v1/receivers"},
	} {
		code, _ := do(t, w.method, srv.URL+w.path, "application/json", []byte(`{}`))
		if code < 400 || code == http.StatusBadRequest {
			t.Errorf("%s %s on the read-only listener: %d, want it refused", w.method, w.path, code)
		}
	}
}

func TestBrokenStorageDegradesMonitoringOnly(t *testing.T) {
	dir := t.TempDir()
	// The TSDB path is a file: opening fails until it is fixed.
	if err := os.WriteFile(filepath.Join(dir, "tsdb"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	tm := startMonitorNoWait(t, Config{Dir: dir}, Deps{})
	code, r := tm.get(t, "/api/v1/query", map[string][]string{"query": {"up"}})
	if code != http.StatusServiceUnavailable || r.ErrorType != "unavailable" {
		t.Fatalf("query with a broken TSDB: %d %+v, want 503 unavailable", code, r)
	}
	if code, _ := do(t, http.MethodGet, tm.api.URL+"/-/ready", "", nil); code != http.StatusServiceUnavailable {
		t.Fatalf("/-/ready: %d", code)
	}
	if code, _ := do(t, http.MethodGet, tm.api.URL+"/-/healthy", "", nil); code != http.StatusOK {
		t.Fatalf("/-/healthy: %d", code)
	}
	// Monitoring's own metrics say so.
	code, out := do(t, http.MethodGet, tm.api.URL+"/metrics", "", nil)
	if code != http.StatusOK || !strings.Contains(string(out), "outpost_monitor_storage_ready 0") {
		t.Fatalf("/metrics: %d, want outpost_monitor_storage_ready 0", code)
	}
	// Stopping works while the TSDB never opened.
	tm.stop()
}
