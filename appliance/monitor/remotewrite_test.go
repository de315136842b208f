package monitor

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"

	"github.com/outpost-platform/outpost/appliance/monitor/settings"
)

// TestRemoteWrite runs a real remote-write receiver (snappy-compressed
// protobuf over HTTP, as a central Prometheus takes it) and checks that
// scraped samples reach it with the configured credentials.
func TestRemoteWrite(t *testing.T) {
	exp := newExporter(t)
	exp.value.Store(11)
	var mu sync.Mutex
	received := map[string]float64{}
	var auth string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		compressed, _ := io.ReadAll(r.Body)
		raw, err := snappy.Decode(nil, compressed)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var req prompb.WriteRequest
		if err := req.Unmarshal(raw); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		auth = r.Header.Get("Authorization")
		for _, ts := range req.Timeseries {
			name, site := "", ""
			for _, l := range ts.Labels {
				switch l.Name {
				case "__name__":
					name = l.Value
				case "site":
					site = l.Value
				}
			}
			if len(ts.Samples) > 0 && site == "plant-1" {
				received[name] = ts.Samples[len(ts.Samples)-1].Value
			}
		}
	}))
	defer recv.Close()

	start := time.Now()
	tm := startMonitor(t, Config{
		Targets:        []Target{{Name: "demo", URL: exp.URL + "/metrics"}},
		ExternalLabels: map[string]string{"site": "plant-1"},
		RemoteWrite:    []settings.RemoteWrite{{URL: recv.URL + "/api/v1/write", BearerToken: "central-token"}},
	}, Deps{})
	eventually(t, "demo_value to reach the remote-write receiver", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return received["demo_value"] == 11
	})
	t.Logf("received after %s", time.Since(start))
	mu.Lock()
	if auth != "Bearer central-token" {
		t.Fatalf("Authorization = %q", auth)
	}
	mu.Unlock()
	start = time.Now()
	tm.stop()
	t.Logf("stopped in %s", time.Since(start))
}
