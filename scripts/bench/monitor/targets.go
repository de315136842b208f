package main

import (
	"bufio"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// The scrape targets run in a child process so that the CPU they spend
// rendering metrics is not charged to the scraper being measured.

// targetSet serves n targets of s series each at /t/<i>/metrics. Until
// /enable is posted every target answers 503, which lets the benchmark
// measure a scraper's idle memory with its targets configured.
type targetSet struct {
	n, s    int
	enabled atomic.Bool
	targets []*target
}

// target keeps per-series state so values evolve like real metrics:
// counters grow by irregular amounts, gauges drift, histograms fill.
type target struct {
	mu     sync.Mutex
	rng    *rand.Rand
	names  []string // full series text up to the value, e.g. `x_total{a="b"} `
	kinds  []int
	values []float64
}

const (
	kindIntCounter = iota
	kindFloatCounter
	kindGauge
	kindState
)

func newTarget(id, series int) *target {
	t := &target{rng: rand.New(rand.NewPCG(uint64(id), 42))}
	families := []struct {
		name string
		kind int
		help string
	}{
		{"bench_http_requests_total", kindIntCounter, "counter"},
		{"bench_cpu_seconds_total", kindFloatCounter, "counter"},
		{"bench_memory_bytes", kindGauge, "gauge"},
		{"bench_replicas", kindState, "gauge"},
	}
	for i := 0; i < series; i++ {
		f := families[(i/50)%len(families)]
		t.names = append(t.names, fmt.Sprintf(`%s{pod="pod-%d",container="c-%d",path="/api/v%d"} `, f.name, i/50, i%10, i%50))
		t.kinds = append(t.kinds, f.kind)
		t.values = append(t.values, float64(t.rng.IntN(1<<20)))
	}
	return t
}

func (t *target) render(w *bufio.Writer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, name := range t.names {
		v := &t.values[i]
		switch t.kinds[i] {
		case kindIntCounter:
			*v += float64(t.rng.IntN(200))
		case kindFloatCounter:
			*v += t.rng.Float64() * 0.5
		case kindGauge:
			if t.rng.IntN(3) == 0 {
				*v += float64((t.rng.IntN(21) - 10) * 4096)
			}
		case kindState:
			if t.rng.IntN(500) == 0 {
				*v = float64(t.rng.IntN(5))
			}
		}
		w.WriteString(name)
		w.WriteString(strconv.FormatFloat(math.Abs(*v), 'g', -1, 64))
		w.WriteByte('\n')
	}
}

func serveTargets(n, s int) error {
	ts := &targetSet{n: n, s: s}
	for i := 0; i < n; i++ {
		ts.targets = append(ts.targets, newTarget(i, s))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /enable", func(http.ResponseWriter, *http.Request) { ts.enabled.Store(true) })
	mux.HandleFunc("POST /disable", func(http.ResponseWriter, *http.Request) { ts.enabled.Store(false) })
	mux.HandleFunc("GET /t/{id}/metrics", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.Atoi(r.PathValue("id"))
		if err != nil || id < 0 || id >= n {
			http.NotFound(w, r)
			return
		}
		if !ts.enabled.Load() {
			http.Error(w, "not yet", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		bw := bufio.NewWriterSize(w, 64<<10)
		ts.targets[id].render(bw)
		bw.Flush()
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stdout, "LISTEN %s\n", ln.Addr())
	return http.Serve(ln, mux)
}

// targetURLs lists the target URLs of a child listening at addr.
func targetURLs(addr string, n int) []string {
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, "http://"+addr+"/t/"+strconv.Itoa(i)+"/metrics")
	}
	return out
}

func setTargets(addr string, enabled bool) error {
	path := "/disable"
	if enabled {
		path = "/enable"
	}
	resp, err := http.Post("http://"+addr+path, "text/plain", strings.NewReader(""))
	if err != nil {
		return err
	}
	return resp.Body.Close()
}
