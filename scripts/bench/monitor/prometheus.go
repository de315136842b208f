package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// prometheusVersion is the Prometheus release whose libraries Outpost
// embeds: the anchor is built from the same source.
const prometheusModule = "github.com/prometheus/prometheus@v0.315.0"

// findPrometheus returns a Prometheus binary: the one given, or one built
// from the module cache (the Go module proxy is the only network access).
func findPrometheus(o options, dir string) string {
	if o.prometheus != "" {
		return o.prometheus
	}
	if !o.buildPrometheus {
		return ""
	}
	modDir, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		return ""
	}
	src := filepath.Join(strings.TrimSpace(string(modDir)), "github.com/prometheus/prometheus@v0.315.0")
	if _, err := os.Stat(src); err != nil {
		fmt.Printf("Prometheus anchor skipped: %s is not in the module cache\n", prometheusModule)
		return ""
	}
	bin := filepath.Join(os.TempDir(), "outpost-bench-prometheus-v3.15.0")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	fmt.Println("building Prometheus v3.15.0 from the module cache for the anchor run (once, a few minutes) ...")
	work := filepath.Join(dir, "prometheus-src")
	if out, err := exec.Command("cp", "-r", src, work).CombinedOutput(); err != nil {
		fmt.Printf("Prometheus anchor skipped: copying source: %v %s\n", err, out)
		return ""
	}
	_ = exec.Command("chmod", "-R", "u+w", work).Run()
	// The module has replace directives, so it must be the main module:
	// build inside a copy of it.
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/prometheus")
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Printf("Prometheus anchor skipped: build failed: %v\n%s\n", err, lastLines(out, 10))
		return ""
	}
	return bin
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

type promScraper struct {
	pid  int
	base string
}

func (s promScraper) query(q string) (float64, error) { return apiQuery(nil, s.base, q) }
func (s promScraper) cpu() (time.Duration, error)     { return procCPU(s.pid) }
func (s promScraper) rss() float64                    { return rss(s.pid) }

func (s promScraper) samplesAppended() (float64, error) {
	return s.metric("prometheus_tsdb_head_samples_appended_total")
}

func (s promScraper) headSeries() (float64, error) { return s.metric("prometheus_tsdb_head_series") }

// metric sums a metric of Prometheus's own /metrics.
func (s promScraper) metric(name string) (float64, error) {
	body, err := httpGet(s.base + "/metrics")
	if err != nil {
		return 0, err
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	var sum float64
	if mf, ok := mfs[name]; ok {
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue() + m.GetUntyped().GetValue()
		}
	}
	return sum, nil
}

func ingestPrometheus(o options, targetsAddr, bin, dir string) (ingestResult, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return ingestResult{}, err
	}
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "global:\n  scrape_interval: %s\n  scrape_timeout: %s\nscrape_configs:\n", model.Duration(o.interval), model.Duration(min(o.interval, 10*time.Second)))
	for i, u := range targetURLs(targetsAddr, o.targets) {
		rest := strings.TrimPrefix(u, "http://")
		host, path, _ := strings.Cut(rest, "/")
		// The same target labels as Outpost gives (metrics_path tells the
		// targets on one host:port apart).
		fmt.Fprintf(&cfg, "  - job_name: bench-%d\n    metrics_path: /%s\n    static_configs: [{targets: [%q], labels: {job: bench, metrics_path: /%s}}]\n", i, path, host, path)
	}
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o644); err != nil {
		return ingestResult{}, err
	}
	port, err := freePort()
	if err != nil {
		return ingestResult{}, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(bin, "--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return ingestResult{}, err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	if err := waitFor("Prometheus ready", time.Minute, func() (bool, error) {
		_, err := httpGet("http://" + addr + "/-/ready")
		return err == nil, err
	}); err != nil {
		return ingestResult{}, err
	}
	fmt.Println("ingestion: Prometheus v3.15.0 (separate process, same targets) ...")
	return ingest("Prometheus v3.15.0 (anchor, same run)", promScraper{pid: cmd.Process.Pid, base: "http://" + addr}, o, targetsAddr)
}
