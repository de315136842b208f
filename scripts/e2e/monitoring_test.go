//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// webhook is a local receiver of Outpost's Alertmanager-compatible
// notifications, as a site's own alert gateway would be.
type webhook struct {
	url string
	mu  sync.Mutex
	got []notification
}

// notification is the part of the Alertmanager webhook payload (version 4)
// the test reads.
type notification struct {
	Version string `json:"version"`
	Status  string `json:"status"`
	Alerts  []struct {
		Status string            `json:"status"`
		Labels map[string]string `json:"labels"`
	} `json:"alerts"`
}

func startWebhook(t *testing.T) *webhook {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w := &webhook{url: "http://" + l.Addr().String() + "/alerts"}
	srv := &http.Server{Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var n notification
		if err := json.NewDecoder(r.Body).Decode(&n); err != nil || r.Header.Get("Authorization") != "Bearer e2e-token" {
			http.Error(rw, "bad notification", http.StatusBadRequest)
			return
		}
		w.mu.Lock()
		w.got = append(w.got, n)
		w.mu.Unlock()
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return w
}

// alert reports whether a notification carried alertname for pod with the
// given status ("firing" or "resolved").
func (w *webhook) alert(alertname, pod, status string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, n := range w.got {
		for _, a := range n.Alerts {
			if a.Labels["alertname"] == alertname && a.Labels["pod"] == pod && a.Status == status && n.Version == "4" {
				return true
			}
		}
	}
	return false
}

func (w *webhook) summary() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var lines []string
	for _, n := range w.got {
		for _, a := range n.Alerts {
			lines = append(lines, fmt.Sprintf("%s %s pod=%s", a.Status, a.Labels["alertname"], a.Labels["pod"]))
		}
	}
	return fmt.Sprintf("%d notifications: %s", len(w.got), strings.Join(lines, "; "))
}

// monitoringConfig writes the server's YAML config: the webhook as the only
// receiver of the crash-loop alert, with short grouping timers and a 5s
// scrape interval so that the test waits minutes, not tens of minutes.
func monitoringConfig(t *testing.T, hook *webhook) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	cfg := fmt.Sprintf(`monitoring-scrape-interval: 5s
alerting:
  group-wait: 1s
  group-interval: 5s
  receivers:
    - name: e2e-hook
      match: ['alertname="KubePodCrashLooping"']
      webhook: {url: %q, bearer-token: e2e-token}
`, hook.url)
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// promQuery runs an instant query against the server's Prometheus-compatible
// API, at a past time when at is not zero, and returns how many series
// answered.
func promQuery(query string, at time.Time) (int, error) {
	v := url.Values{"query": {query}}
	if !at.IsZero() {
		v.Set("time", strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64))
	}
	resp, err := http.Get("http://127.0.0.1:9190/api/v1/query?" + v.Encode())
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return 0, fmt.Errorf("HTTP %d: %w", resp.StatusCode, err)
	}
	if body.Status != "success" {
		return 0, fmt.Errorf("query failed: %s", body.Error)
	}
	return len(body.Data.Result), nil
}

// checkMonitoringLeftNoTrace is what --disable monitoring promises: nothing
// stored, served, issued or applied for it.
func checkMonitoringLeftNoTrace(t *testing.T, s *server) {
	t.Helper()
	for _, p := range []string{"monitor", "pki/monitor-client.crt", "pki/monitor-client.key"} {
		if _, err := os.Stat(filepath.Join(s.dataDir, p)); !os.IsNotExist(err) {
			t.Errorf("<data-dir>/%s exists with monitoring disabled (%v)", p, err)
		}
	}
	for _, kind := range []string{"clusterrole", "clusterrolebinding"} {
		out, err := s.kubectl("get", kind, "outpost:monitoring", "--ignore-not-found", "-o", "name")
		if err != nil || out != "" {
			t.Errorf("%s outpost:monitoring with monitoring disabled: %q %v", kind, out, err)
		}
	}
	out, err := s.command("ss", "-Hltn", "sport = :9190").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("something listens on the monitoring port with monitoring disabled: %q %v", out, err)
	}
}
