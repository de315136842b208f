package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/outpost-platform/outpost/appliance/monitor"
	"github.com/outpost-platform/outpost/appliance/monitor/store"
)

type storageResult struct {
	name           string
	series         int
	bytesPerSample float64
	samples        uint64
	bytes          int64
	blocks         int
}

// dashboardEnd is where the 24 h datasets end: the last full minute.
func dashboardEnd() time.Time { return time.Now().Truncate(time.Minute) }

// ruleEvaluationInterval is Outpost's default for a 15 s scrape interval.
const ruleEvaluationInterval = monitor.DefaultMinEvaluationInterval

// buildDataset writes 24 h of data into dir/tsdb through the store the
// appliance uses (appenders, head, WAL, compaction), one commit per 15 s
// step like a scrape. With withRules, Outpost's built-in recording rules are
// evaluated every 30 s too, as they are live.
func buildDataset(name, dir string, fams []*family, withRules bool, enc chunkenc.Encoding, samplesPerChunk int) (storageResult, error) {
	res := storageResult{name: name, series: countSeries(fams)}
	st, err := store.New(store.Options{Dir: filepath.Join(dir, "tsdb"), Logger: discard(), MinFreeBytes: 64 << 20,
		TuneTSDB: func(o *tsdb.Options) {
			o.FloatChunkEncoding = enc
			if samplesPerChunk > 0 {
				o.SamplesPerChunk = samplesPerChunk // else the store's default
			}
		}})
	if err != nil {
		return res, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { st.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	<-st.Ready()

	var groups []*rules.Group
	if withRules {
		if groups, err = recordingGroups(ctx, st, dir); err != nil {
			return res, err
		}
	}
	rng := rand.New(rand.NewPCG(7, 8))
	var all []*series
	for _, f := range fams {
		all = append(all, f.series...)
	}
	refs := make([]storage.SeriesRef, len(all))
	end := dashboardEnd()
	const interval = 15 * time.Second
	for t := end.Add(-24 * time.Hour); !t.After(end); t = t.Add(interval) {
		ts := t.UnixMilli()
		if rng.IntN(50) == 0 { // occasional scrape jitter beyond Prometheus's 2 ms timestamp alignment
			ts += int64(rng.IntN(7) - 3)
		}
		for _, f := range fams {
			f.step(rng)
		}
		app := st.Appender(ctx)
		for i, s := range all {
			ref, err := app.Append(refs[i], s.l, ts, s.v)
			if err != nil {
				_ = app.Rollback()
				return res, fmt.Errorf("appending: %w", err)
			}
			refs[i] = ref
		}
		if err := app.Commit(); err != nil {
			return res, err
		}
		if t.Sub(end.Add(-24*time.Hour))%ruleEvaluationInterval == 0 {
			for _, g := range groups {
				g.Eval(ctx, t)
			}
		}
	}
	db := st.DB()
	for i := 0; i < 4; i++ { // head → 2h blocks → 6h → 18h, as the background loop would
		if err := db.Compact(ctx); err != nil {
			return res, fmt.Errorf("compacting: %w", err)
		}
	}
	for _, b := range db.Blocks() {
		res.samples += b.Meta().Stats.NumSamples
		res.bytes += b.Size()
		res.blocks++
	}
	if res.samples > 0 {
		res.bytesPerSample = float64(res.bytes) / float64(res.samples)
	}
	return res, nil
}

// recordingGroups loads the built-in recording rules for evaluation at
// chosen timestamps.
func recordingGroups(ctx context.Context, st *store.Store, dir string) ([]*rules.Group, error) {
	data, err := monitor.BuiltinRuleFile("outpost-recording.yaml", 15*time.Second)
	if err != nil {
		return nil, err
	}
	file := filepath.Join(dir, "outpost-recording.yaml")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		return nil, err
	}
	p := parser.NewParser(parser.Options{})
	engine := promql.NewEngine(promql.EngineOpts{Logger: discard(), MaxSamples: 50_000_000, Timeout: time.Minute, LookbackDelta: 5 * time.Minute, Parser: p})
	mgr := rules.NewManager(&rules.ManagerOptions{Appendable: st, Queryable: st, QueryFunc: rules.EngineQueryFunc(engine, st),
		Context: ctx, Logger: discard(), NotifyFunc: func(context.Context, string, ...*rules.Alert) {}, Parser: p})
	gm, errs := mgr.LoadGroups(ruleEvaluationInterval, labels.EmptyLabels(), "", nil, false, file)
	if errs != nil {
		return nil, fmt.Errorf("loading recording rules: %v", errs)
	}
	var out []*rules.Group
	for _, name := range []string{"outpost.node", "outpost.pod", "outpost.workload", "outpost.namespace", "outpost.cluster"} {
		if g, ok := gm[rules.GroupKey(file, name)]; ok {
			out = append(out, g)
		}
	}
	return out, nil
}

func measureStorage(o options, dir string) ([]storageResult, error) {
	n := o.dashSeries
	mix := func(r *rand.Rand) []*family { return applianceMix(n, r) }
	builds := []struct {
		name  string
		fams  func(*rand.Rand) []*family
		rules bool
		enc   chunkenc.Encoding
		spc   int
	}{
		{"appliance mix: 60% histograms, 20% cAdvisor, 15% state, 5% node", mix, false, chunkenc.EncXOR, o.samplesPerChunk},
		{"  same, 120 samples per chunk (TSDB default)", mix, false, chunkenc.EncXOR, 120},
		// XOR2 is measured at the TSDB's 120 samples per chunk: with longer
		// chunks it was twice the size.
		{"  same, XOR2 chunks, 120 samples (experimental upstream)", mix, false, chunkenc.EncXOR2, 120},
		{"  control-plane histograms only", func(r *rand.Rand) []*family { return histograms(n/14, r) }, false, chunkenc.EncXOR, o.samplesPerChunk},
		{"  cAdvisor pods only", func(r *rand.Rand) []*family { return cadvisorPods(n/5, r) }, false, chunkenc.EncXOR, o.samplesPerChunk},
		{"  object state only", func(r *rand.Rand) []*family { return states(n, r) }, false, chunkenc.EncXOR, o.samplesPerChunk},
		{"  node only", func(r *rand.Rand) []*family { return nodeSeries(n, r) }, false, chunkenc.EncXOR, o.samplesPerChunk},
		{"dashboard dataset: cAdvisor pods + recording rules", func(r *rand.Rand) []*family { return cadvisorPods(n/4, r) }, true, chunkenc.EncXOR, o.samplesPerChunk},
	}
	if o.onlyMix {
		builds = builds[:1]
	}
	var out []storageResult
	for i, b := range builds {
		fmt.Printf("storage: 24 h of %s ...\n", strings.TrimSpace(b.name))
		sub := "set" + strconv.Itoa(i)
		if b.rules {
			sub = "dash"
		}
		r, err := buildDataset(b.name, filepath.Join(dir, sub), b.fams(rand.New(rand.NewPCG(3, uint64(i)))), b.rules, b.enc, b.spc)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

type queryStat struct {
	name     string
	p50, p99 time.Duration
}

type queryResult struct {
	perQuery       []queryStat
	p50, p99       time.Duration
	rawP50, rawP99 time.Duration
}

// dashboardQueries are what the console's dashboards ask for over 24 h at
// a 5 m step (288 points): the console reads the recording rules. The raw
// forms compute the same views from raw series, the worst case.
func dashboardQueries() []struct {
	name, expr string
	raw        bool
} {
	return []struct {
		name, expr string
		raw        bool
	}{
		{"cluster CPU", `cluster:container_cpu_usage_seconds:rate`, false},
		{"CPU by namespace", `namespace:container_cpu_usage_seconds:rate`, false},
		{"CPU by workload in a namespace", `namespace_workload:container_cpu_usage_seconds:rate{namespace="ns-3"}`, false},
		{"memory by namespace", `namespace:container_memory_working_set:bytes`, false},
		{"top 10 workloads by memory", `topk(10, namespace_workload:container_memory_working_set:bytes)`, false},
		{"network of one workload", `namespace_workload:container_network_receive_bytes:rate{namespace="ns-3", workload="web-3"}`, false},
		{"pods of one workload (CPU)", `namespace_pod:container_cpu_usage_seconds:rate{namespace="ns-7", pod=~"web-7-.*"}`, false},
		{"raw: cluster CPU", `sum(rate(container_cpu_usage_seconds_total{container!=""}[5m]))`, true},
		{"raw: CPU by namespace", `sum by (namespace) (rate(container_cpu_usage_seconds_total{container!=""}[5m]))`, true},
		{"raw: CPU by workload", `sum by (namespace, workload) (rate(container_cpu_usage_seconds_total{container!=""}[5m]) * on (namespace, pod) group_left (workload) outpost_pod_workload_info)`, true},
		{"raw: top 10 pods by memory", `topk(10, sum by (namespace, pod) (container_memory_working_set_bytes{container!=""}))`, true},
		{"raw: one pod's CPU", `sum by (container) (rate(container_cpu_usage_seconds_total{namespace="ns-7", pod=~"web-7-.*-2"}[5m]))`, true},
	}
}

func measureQueries(o options, dir string) (queryResult, error) {
	var res queryResult
	m, err := monitor.New(monitor.Config{Dir: dir, MinFreeDiskBytes: 64 << 20}, monitor.Deps{Logger: discard(), NodeName: "bench"})
	if err != nil {
		return res, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() { cancel(); <-done }()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	if err := waitFor("monitor ready", time.Minute, func() (bool, error) {
		_, err := httpGet(srv.URL + "/-/ready")
		return err == nil, err
	}); err != nil {
		return res, err
	}
	fmt.Printf("queries: %d dashboard queries x %d runs over 24 h ...\n", len(dashboardQueries()), o.dashRuns)
	end := dashboardEnd()
	params := func(expr string) string {
		return url.Values{"query": {expr}, "start": {strconv.FormatInt(end.Add(-24*time.Hour).Unix(), 10)},
			"end": {strconv.FormatInt(end.Unix(), 10)}, "step": {"300"}}.Encode()
	}
	var all, raw []time.Duration
	client := &http.Client{}
	for _, q := range dashboardQueries() {
		// One unmeasured run checks that the query returns data.
		body, err := httpGet(srv.URL + "/api/v1/query_range?" + params(q.expr))
		if err != nil || len(body) < 200 {
			return res, fmt.Errorf("query %q returned no data: %v %.200s", q.name, err, body)
		}
		var lat []time.Duration
		for i := 0; i < o.dashRuns; i++ {
			start := time.Now()
			resp, err := client.Get(srv.URL + "/api/v1/query_range?" + params(q.expr))
			if err != nil {
				return res, err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			lat = append(lat, time.Since(start))
		}
		if q.raw {
			raw = append(raw, lat...)
		} else {
			all = append(all, lat...)
		}
		res.perQuery = append(res.perQuery, queryStat{q.name, percentile(lat, 0.5), percentile(lat, 0.99)})
	}
	res.p50, res.p99 = percentile(all, 0.5), percentile(all, 0.99)
	res.rawP50, res.rawP99 = percentile(raw, 0.5), percentile(raw, 0.99)
	return res, nil
}
