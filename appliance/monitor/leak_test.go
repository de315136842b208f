package monitor

import (
	"testing"

	"go.uber.org/goleak"
)

// TestRunLeavesNoGoroutines stops a Monitor that scraped, evaluated rules
// and served queries, and checks that every goroutine it started ended.
func TestRunLeavesNoGoroutines(t *testing.T) {
	exp := newExporter(t)
	before := goleak.IgnoreCurrent()
	tm := startMonitor(t, Config{Targets: []Target{{Name: "demo", URL: exp.URL + "/metrics"}}}, Deps{})
	eventually(t, "the demo target to be scraped", func() bool { return len(tm.query(t, `demo_value`)) == 1 })
	tm.stop()
	// Prometheus's scrape clients keep one idle keep-alive connection per
	// target after they stop; it ends when the target closes it. Both its
	// ends (client loops, the exporter's connection) are allowed; anything
	// else Run started must be gone.
	goleak.VerifyNone(t, before,
		goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreAnyFunction("net/http.(*conn).serve"))
}
