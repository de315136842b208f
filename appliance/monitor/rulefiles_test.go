package monitor

import (
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/outpost-platform/outpost/appliance/monitor/ruletest"
)

// TestBuiltinRules runs the promtool-format tests of the built-in rules
// with the rate window of a 15s scrape interval.
func TestBuiltinRules(t *testing.T) {
	tests, err := filepath.Glob("testdata/rules/*_test.yaml")
	if err != nil || len(tests) == 0 {
		t.Fatalf("no rule tests found: %v", err)
	}
	for _, f := range tests {
		t.Run(filepath.Base(f), func(t *testing.T) {
			errs := ruletest.RunFile(f, ruletest.Options{RuleContent: func(_ string, data []byte) ([]byte, error) {
				return ExpandBuiltinRule(data, 15*time.Second), nil
			}})
			for _, err := range errs {
				t.Error(err)
			}
		})
	}
}

func TestRuleTestHarnessCatchesWrongExpectations(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("r.yaml", "groups:\n- name: g\n  rules:\n  - alert: Up\n    expr: up == 1\n  - record: job:up:sum\n    expr: sum by (job) (up)\n")
	f := write("t.yaml", `rule_files: [r.yaml]
tests:
  - input_series:
      - {series: 'up{job="a"}', values: '1x5'}
    alert_rule_test:
      - eval_time: 2m
        alertname: Up
        exp_alerts: []
    promql_expr_test:
      - expr: job:up:sum
        eval_time: 2m
        exp_samples:
          - {labels: 'job:up:sum{job="a"}', value: 2}
`)
	errs := ruletest.RunFile(f, ruletest.Options{})
	if len(errs) != 2 {
		t.Fatalf("want 2 failures (alert fires, value is 1 not 2), got %d: %v", len(errs), errs)
	}
	if !strings.Contains(errs[0].Error(), "alert Up") || !strings.Contains(errs[1].Error(), "want 2") {
		t.Fatalf("unexpected failures: %v", errs)
	}
}

func TestBuiltinRuleFilesParse(t *testing.T) {
	r := newRuleFiles(t.TempDir(), t.TempDir(), 15*time.Second, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
	err := fs.WalkDir(builtinRules, "rules", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, _ := builtinRules.ReadFile(path)
		if verr := r.validateRules(d.Name(), ExpandBuiltinRule(data, 15*time.Second)); verr != nil {
			t.Errorf("built-in %s: %v", path, verr)
		}
		if strings.Contains(string(ExpandBuiltinRule(data, time.Second)), rateWindowPlaceholder) {
			t.Errorf("built-in %s: placeholder left after expansion", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
