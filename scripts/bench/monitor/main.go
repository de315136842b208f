// Command monitor benchmarks Outpost's monitoring (make bench): ingestion
// samples/s per CPU core through the real scrape path, resident memory per
// active series, bytes per sample on disk, and the latency of the console's
// dashboard queries over 24 h of data. When a Prometheus binary is
// available (-prometheus, or built from the module cache with
// -build-prometheus) the same targets are scraped by it in the same run as
// the anchor. Method and results: BENCHMARKS.md, "Monitoring".
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

type options struct {
	targets, series  int
	interval, window time.Duration
	dir              string
	prometheus       string
	buildPrometheus  bool
	dashSeries       int
	dashRuns         int
	skipIngest       bool
	skipStorage      bool
	samplesPerChunk  int
	onlyMix          bool
}

func main() {
	var o options
	role := flag.String("role", "", "internal: 'targets' serves the scrape targets")
	flag.IntVar(&o.targets, "targets", 20, "scrape targets")
	flag.IntVar(&o.series, "series", 2500, "series per target")
	flag.DurationVar(&o.interval, "interval", time.Second, "scrape interval")
	flag.DurationVar(&o.window, "duration", 2*time.Minute, "measurement window of each ingestion run")
	flag.StringVar(&o.dir, "dir", "", "work directory (default: a new temp dir, removed afterwards)")
	flag.StringVar(&o.prometheus, "prometheus", os.Getenv("PROMETHEUS_BIN"), "Prometheus binary for the anchor run")
	flag.BoolVar(&o.buildPrometheus, "build-prometheus", true, "build Prometheus from the Go module cache when -prometheus is not given")
	flag.IntVar(&o.dashSeries, "dashboard-series", 1000, "series in the 24 h dashboard dataset")
	flag.IntVar(&o.dashRuns, "dashboard-runs", 40, "runs of each dashboard query")
	flag.BoolVar(&o.skipIngest, "skip-ingest", false, "skip the ingestion measurements")
	flag.BoolVar(&o.skipStorage, "skip-storage", false, "skip the storage and query measurements")
	flag.IntVar(&o.samplesPerChunk, "samples-per-chunk", 0, "override the samples per chunk (0: Outpost's default; 120 is the TSDB's own)")
	flag.BoolVar(&o.onlyMix, "only-mix", false, "storage: only the appliance mix (experiments)")
	flag.Parse()

	if *role == "targets" {
		if err := serveTargets(o.targets, o.series); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "monitor bench:", err)
		os.Exit(1)
	}
}

type ingestResult struct {
	name           string
	samplesPerCore float64
	samplesPerSec  float64
	cpuCores       float64
	series         float64
	rssPerSeriesKB float64
	rssIdleMB      float64
	rssLoadedMB    float64
}

func run(o options) error {
	dir := o.dir
	if dir == "" {
		d, err := os.MkdirTemp("/var/tmp", "outpost-monitor-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	fmt.Printf("Outpost monitoring benchmark — %d CPUs, %s, work dir %s\n\n", runtime.NumCPU(), runtime.Version(), dir)

	var results []ingestResult
	if !o.skipIngest {
		addr, stopTargets, err := startTargets(o)
		if err != nil {
			return fmt.Errorf("starting targets: %w", err)
		}
		defer stopTargets()
		r, err := ingestOutpost(o, addr, filepath.Join(dir, "outpost"))
		if err != nil {
			return fmt.Errorf("outpost ingestion: %w", err)
		}
		results = append(results, r)
		if bin := findPrometheus(o, dir); bin != "" {
			r, err := ingestPrometheus(o, addr, bin, filepath.Join(dir, "prometheus"))
			if err != nil {
				fmt.Printf("Prometheus anchor run failed: %v\n", err)
			} else {
				results = append(results, r)
			}
		}
	}

	var storage []storageResult
	var queries queryResult
	if !o.skipStorage {
		var err error
		if storage, err = measureStorage(o, dir); err != nil {
			return fmt.Errorf("storage: %w", err)
		}
		if !o.onlyMix {
			if queries, err = measureQueries(o, filepath.Join(dir, "dash")); err != nil {
				return fmt.Errorf("queries: %w", err)
			}
		}
	}
	report(o, results, storage, queries)
	return nil
}

// startTargets runs the targets child process and returns its address.
func startTargets(o options) (string, func(), error) {
	self, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(self, "-role=targets", "-targets="+strconv.Itoa(o.targets), "-series="+strconv.Itoa(o.series))
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		stop()
		return "", nil, fmt.Errorf("reading targets address: %w", err)
	}
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "LISTEN ")
	if !ok {
		stop()
		return "", nil, fmt.Errorf("unexpected targets output %q", line)
	}
	return addr, stop, nil
}

// selfCPU is the CPU time (user+system) this process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procCPU reads utime+stime of pid (clock ticks of 10 ms on Linux).
func procCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(fields[11], 10, 64)
	st, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond, nil
}

// rss is VmRSS of pid in bytes.
func rss(pid int) float64 {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb * 1024
		}
	}
	return 0
}

func waitFor(what string, timeout time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("timed out waiting for %s: %w", what, err)
			}
			return fmt.Errorf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// scraper abstracts the system under test for the ingestion run.
type scraper interface {
	query(q string) (float64, error)
	samplesAppended() (float64, error)
	headSeries() (float64, error)
	cpu() (time.Duration, error)
	rss() float64
}

func ingest(name string, s scraper, o options, targetsAddr string) (ingestResult, error) {
	r := ingestResult{name: name}
	n := float64(o.targets)
	if err := waitFor("targets configured", 2*time.Minute, func() (bool, error) {
		v, err := s.query(`count(up{job="bench"})`)
		return v == n, err
	}); err != nil {
		return r, err
	}
	time.Sleep(3 * o.interval)
	r.rssIdleMB = s.rss() / 1e6
	idle := s.rss()
	if err := setTargets(targetsAddr, true); err != nil {
		return r, err
	}
	defer setTargets(targetsAddr, false)
	want := n * float64(o.series)
	if err := waitFor("all series ingested", 3*time.Minute, func() (bool, error) {
		v, err := s.query(`count({job="bench", __name__=~"bench_.*"})`)
		return v >= want, err
	}); err != nil {
		return r, err
	}
	time.Sleep(2 * o.interval)
	c0, err := s.cpu()
	if err != nil {
		return r, err
	}
	a0, err := s.samplesAppended()
	if err != nil {
		return r, err
	}
	t0 := time.Now()
	time.Sleep(o.window)
	c1, _ := s.cpu()
	a1, err := s.samplesAppended()
	if err != nil {
		return r, err
	}
	elapsed := time.Since(t0)
	r.series, _ = s.headSeries()
	r.rssLoadedMB = s.rss() / 1e6
	samples := a1 - a0
	r.samplesPerSec = samples / elapsed.Seconds()
	r.cpuCores = (c1 - c0).Seconds() / elapsed.Seconds()
	r.samplesPerCore = samples / (c1 - c0).Seconds()
	r.rssPerSeriesKB = (s.rss() - idle) / r.series / 1024
	return r, nil
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func dirSize(dir string) int64 {
	var n int64
	_ = filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	idx := int(p*float64(len(s))+0.5) - 1
	return s[max(0, min(idx, len(s)-1))]
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func httpGet(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return body, err
}

var errNoResult = errors.New("empty result")

func report(o options, ingest []ingestResult, st []storageResult, q queryResult) {
	fmt.Println()
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	if len(ingest) > 0 {
		fmt.Fprintf(w, "Ingestion (%d targets x %d series, %s interval, %s window)\tsamples/s per core\tsamples/s\tCPU cores\tactive series\tRSS per series\tRSS idle -> loaded\n",
			o.targets, o.series, o.interval, o.window)
		for _, r := range ingest {
			fmt.Fprintf(w, "  %s\t%.0f\t%.0f\t%.2f\t%.0f\t%.2f KB\t%.0f -> %.0f MB\n", r.name, r.samplesPerCore, r.samplesPerSec, r.cpuCores, r.series, r.rssPerSeriesKB, r.rssIdleMB, r.rssLoadedMB)
		}
		fmt.Fprintf(w, "  anchor: Prometheus (Percona 2018)\t≈ 47000\t\t\t\t1.5–3 KB\t\n")
		fmt.Fprintf(w, "  goal\t≥ 100000\t\t\t\t\t\n")
	}
	if len(st) == 0 {
		w.Flush()
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Storage (24 h, 15 s interval, compacted blocks)\tbytes/sample\tseries\tsamples in blocks\tblock bytes\tblocks\n")
	for _, s := range st {
		fmt.Fprintf(w, "  %s\t%.3f\t%d\t%d\t%d\t%d\n", s.name, s.bytesPerSample, s.series, s.samples, s.bytes, s.blocks)
	}
	fmt.Fprintf(w, "  anchor: Prometheus\t1–2\t\t\t\t\n")
	fmt.Fprintf(w, "  goal\t≤ 1.5\t\t\t\t\n")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Dashboard queries over 24 h (%d runs each, via the HTTP API)\tp50\tp99\n", o.dashRuns)
	for _, qq := range q.perQuery {
		fmt.Fprintf(w, "  %s\t%s\t%s\n", qq.name, qq.p50.Round(10*time.Microsecond), qq.p99.Round(10*time.Microsecond))
	}
	fmt.Fprintf(w, "  all dashboard queries (recording rules)\t%s\t%s\n", q.p50.Round(10*time.Microsecond), q.p99.Round(10*time.Microsecond))
	fmt.Fprintf(w, "  all raw queries (no recording rules)\t%s\t%s\n", q.rawP50.Round(10*time.Microsecond), q.rawP99.Round(10*time.Microsecond))
	fmt.Fprintf(w, "  goal\t\t≤ 50ms\n")
	w.Flush()
}
