package ruletest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/tsdb"
	"go.yaml.in/yaml/v2"
)

// File is a promtool rule test file.
type File struct {
	RuleFiles          []string       `yaml:"rule_files"`
	EvaluationInterval model.Duration `yaml:"evaluation_interval,omitempty"`
	Tests              []Test         `yaml:"tests"`
}

// Test is one test group: input series and the checks on them.
type Test struct {
	Name           string            `yaml:"name,omitempty"`
	Interval       model.Duration    `yaml:"interval,omitempty"`
	InputSeries    []Series          `yaml:"input_series"`
	AlertRuleTests []AlertTest       `yaml:"alert_rule_test,omitempty"`
	PromQLTests    []PromQLTest      `yaml:"promql_expr_test,omitempty"`
	ExternalLabels map[string]string `yaml:"external_labels,omitempty"`
}

// Series is an input series in the promql test notation, e.g.
// values: "0+10x100".
type Series struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

// AlertTest checks which alerts of one rule fire at EvalTime.
type AlertTest struct {
	EvalTime  model.Duration  `yaml:"eval_time"`
	Alertname string          `yaml:"alertname"`
	ExpAlerts []ExpectedAlert `yaml:"exp_alerts"`
}

// ExpectedAlert is one firing alert; alertname is implied.
type ExpectedAlert struct {
	ExpLabels      map[string]string `yaml:"exp_labels"`
	ExpAnnotations map[string]string `yaml:"exp_annotations"`
}

// PromQLTest checks an expression's result at EvalTime, after the rules
// have been evaluated.
type PromQLTest struct {
	Expr       string           `yaml:"expr"`
	EvalTime   model.Duration   `yaml:"eval_time"`
	ExpSamples []ExpectedSample `yaml:"exp_samples"`
}

// ExpectedSample is one result series, written like `metric{a="b"}`.
type ExpectedSample struct {
	Labels string  `yaml:"labels"`
	Value  float64 `yaml:"value"`
}

// Options adjust a run.
type Options struct {
	// RuleContent, when set, rewrites each rule file before it is loaded
	// (Outpost's built-in rules have a ${rate_window} placeholder).
	RuleContent func(path string, data []byte) ([]byte, error)
	// Logger receives rule evaluation warnings; default discards them.
	Logger *slog.Logger
}

// RunFile runs every test in the test file at path. Rule files are
// resolved relative to it. The result has one error per failed check; an
// error reading or parsing the files is returned alone.
func RunFile(path string, o Options) []error {
	data, err := os.ReadFile(path)
	if err != nil {
		return []error{fmt.Errorf("reading rule test file: %w", err)}
	}
	var f File
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		return []error{fmt.Errorf("%s: %w", path, err)}
	}
	if f.EvaluationInterval == 0 {
		f.EvaluationInterval = model.Duration(time.Minute)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	tmp, err := os.MkdirTemp("", "outpost-ruletest-")
	if err != nil {
		return []error{fmt.Errorf("creating temp dir: %w", err)}
	}
	defer os.RemoveAll(tmp)
	var ruleFiles []string
	for _, rf := range f.RuleFiles {
		if !filepath.IsAbs(rf) {
			rf = filepath.Join(filepath.Dir(path), rf)
		}
		matches, err := filepath.Glob(rf)
		if err != nil || len(matches) == 0 {
			return []error{fmt.Errorf("%s: rule file %s not found", path, rf)}
		}
		for _, m := range matches {
			content, err := os.ReadFile(m)
			if err != nil {
				return []error{fmt.Errorf("reading rule file: %w", err)}
			}
			if o.RuleContent != nil {
				if content, err = o.RuleContent(m, content); err != nil {
					return []error{fmt.Errorf("preparing rule file %s: %w", m, err)}
				}
			}
			// Keep the base name: rule groups are identified by file.
			dst := filepath.Join(tmp, fmt.Sprintf("%d-%s", len(ruleFiles), filepath.Base(m)))
			if err := os.WriteFile(dst, content, 0o644); err != nil {
				return []error{fmt.Errorf("writing rule file copy: %w", err)}
			}
			ruleFiles = append(ruleFiles, dst)
		}
	}
	var errs []error
	for i, t := range f.Tests {
		name := t.Name
		if name == "" {
			name = fmt.Sprintf("test %d", i+1)
		}
		for _, err := range runTest(t, ruleFiles, time.Duration(f.EvaluationInterval), filepath.Join(tmp, fmt.Sprintf("db%d", i)), o) {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	return errs
}

func runTest(t Test, ruleFiles []string, evalInterval time.Duration, dbDir string, o Options) []error {
	if t.Interval == 0 {
		t.Interval = model.Duration(time.Minute)
	}
	db, err := tsdb.Open(dbDir, o.Logger, nil, tsdb.DefaultOptions(), nil)
	if err != nil {
		return []error{fmt.Errorf("opening test TSDB: %w", err)}
	}
	defer db.Close()
	p := parser.NewParser(parser.Options{})
	if err := loadSeries(db, p, t); err != nil {
		return []error{err}
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	engine := promql.NewEngine(promql.EngineOpts{
		Logger: o.Logger, MaxSamples: 50_000_000, Timeout: time.Minute,
		LookbackDelta: 5 * time.Minute, EnableAtModifier: true, EnableNegativeOffset: true, Parser: p,
	})
	mgr := rules.NewManager(&rules.ManagerOptions{
		Appendable: db, Queryable: db, QueryFunc: rules.EngineQueryFunc(engine, db), Context: ctx,
		Logger: o.Logger, NotifyFunc: func(context.Context, string, ...*rules.Alert) {}, Parser: p,
	})
	groups, loadErrs := mgr.LoadGroups(evalInterval, labels.FromMap(t.ExternalLabels), "", nil, false, ruleFiles...)
	if loadErrs != nil {
		return loadErrs
	}
	ordered := make([]*rules.Group, 0, len(groups))
	for _, g := range groups {
		ordered = append(ordered, g)
	}
	sort.Slice(ordered, func(i, j int) bool {
		if ordered[i].File() != ordered[j].File() {
			return ordered[i].File() < ordered[j].File()
		}
		return ordered[i].Name() < ordered[j].Name()
	})

	var maxEval time.Duration
	for _, at := range t.AlertRuleTests {
		maxEval = max(maxEval, time.Duration(at.EvalTime))
	}
	for _, pt := range t.PromQLTests {
		maxEval = max(maxEval, time.Duration(pt.EvalTime))
	}
	var errs []error
	for ts := time.Duration(0); ts <= maxEval; ts += evalInterval {
		for _, g := range ordered {
			g.Eval(ctx, time.Unix(0, 0).UTC().Add(ts))
		}
		// Alerts are checked at the last evaluation at or before eval_time.
		for _, at := range t.AlertRuleTests {
			et := time.Duration(at.EvalTime)
			if et >= ts && et < ts+evalInterval {
				if err := checkAlerts(ordered, at); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	for _, pt := range t.PromQLTests {
		if err := checkExpr(ctx, engine, db, p, pt); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

func loadSeries(db *tsdb.DB, p parser.Parser, t Test) error {
	app := db.Appender(context.Background())
	for _, s := range t.InputSeries {
		lset, values, err := p.ParseSeriesDesc(s.Series + " " + s.Values)
		if err != nil {
			return fmt.Errorf("input series %s: %w", s.Series, err)
		}
		for i, v := range values {
			if v.Omitted {
				continue
			}
			ts := int64(i) * time.Duration(t.Interval).Milliseconds()
			if v.Histogram != nil {
				_, err = app.AppendHistogram(0, lset, ts, nil, v.Histogram)
			} else {
				_, err = app.Append(0, lset, ts, v.Value)
			}
			if err != nil {
				return fmt.Errorf("loading input series %s: %w", s.Series, err)
			}
		}
	}
	if err := app.Commit(); err != nil {
		return fmt.Errorf("committing input series: %w", err)
	}
	return nil
}

func checkAlerts(groups []*rules.Group, at AlertTest) error {
	var got []string
	for _, g := range groups {
		for _, r := range g.AlertingRules() {
			if r.Name() != at.Alertname {
				continue
			}
			for _, a := range r.ActiveAlerts() {
				if a.State == rules.StateFiring {
					got = append(got, describeAlert(a.Labels.Map(), a.Annotations.Map()))
				}
			}
		}
	}
	var want []string
	for _, ea := range at.ExpAlerts {
		l := map[string]string{"alertname": at.Alertname}
		for k, v := range ea.ExpLabels {
			l[k] = v
		}
		ann := ea.ExpAnnotations
		if ann == nil {
			ann = map[string]string{}
		}
		want = append(want, describeAlert(l, ann))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		return fmt.Errorf("alert %s at %s:\n  want %s\n   got %s", at.Alertname, at.EvalTime, listOrNone(want), listOrNone(got))
	}
	return nil
}

// describeAlert renders an alert for comparison. Annotations are compared
// only when the expectation names some, like promtool does for absent ones.
func describeAlert(lbls, annotations map[string]string) string {
	return labels.FromMap(lbls).String() + " " + labels.FromMap(annotations).String()
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	return strings.Join(s, "\n       ")
}

func checkExpr(ctx context.Context, engine *promql.Engine, db *tsdb.DB, p parser.Parser, pt PromQLTest) error {
	q, err := engine.NewInstantQuery(ctx, db, nil, pt.Expr, time.Unix(0, 0).UTC().Add(time.Duration(pt.EvalTime)))
	if err != nil {
		return fmt.Errorf("expr %q: %w", pt.Expr, err)
	}
	defer q.Close()
	res := q.Exec(ctx)
	if res.Err != nil {
		return fmt.Errorf("expr %q at %s: %w", pt.Expr, pt.EvalTime, res.Err)
	}
	got := map[string]float64{}
	switch v := res.Value.(type) {
	case promql.Vector:
		for _, s := range v {
			got[s.Metric.String()] = s.F
		}
	case promql.Scalar:
		got["{}"] = v.V
	default:
		return fmt.Errorf("expr %q: unsupported result type %s", pt.Expr, res.Value.Type())
	}
	var errs []error
	want := map[string]bool{}
	for _, es := range pt.ExpSamples {
		lset, err := p.ParseMetric(es.Labels)
		if err != nil {
			return fmt.Errorf("expr %q: expected labels %q: %w", pt.Expr, es.Labels, err)
		}
		key := lset.String()
		want[key] = true
		v, ok := got[key]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("expr %q at %s: missing %s", pt.Expr, pt.EvalTime, key))
		case !almostEqual(v, es.Value):
			errs = append(errs, fmt.Errorf("expr %q at %s: %s = %v, want %v", pt.Expr, pt.EvalTime, key, v, es.Value))
		}
	}
	for key := range got {
		if !want[key] {
			errs = append(errs, fmt.Errorf("expr %q at %s: unexpected %s = %v", pt.Expr, pt.EvalTime, key, got[key]))
		}
	}
	return errors.Join(errs...)
}

func almostEqual(a, b float64) bool {
	if math.IsNaN(a) && math.IsNaN(b) {
		return true
	}
	diff := math.Abs(a - b)
	return diff <= 1e-9 || diff <= 1e-6*math.Max(math.Abs(a), math.Abs(b))
}
