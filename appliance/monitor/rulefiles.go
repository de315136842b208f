package monitor

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/outpost-platform/outpost/appliance/fsutil"
)

//go:embed rules/*.yaml
var builtinRules embed.FS

// rateWindowPlaceholder in built-in rule files is replaced by the rate
// window, so dashboards stay correct at any scrape interval.
const rateWindowPlaceholder = "${rate_window}"

// rateWindow is 4 scrape intervals, at least 1m: rate() needs two samples
// in its window even when a scrape is missed.
func rateWindow(scrapeInterval time.Duration) string {
	return model.Duration(max(time.Minute, 4*scrapeInterval)).String()
}

// ExpandBuiltinRule replaces the placeholders of a built-in rule file.
func ExpandBuiltinRule(data []byte, scrapeInterval time.Duration) []byte {
	return bytes.ReplaceAll(data, []byte(rateWindowPlaceholder), []byte(rateWindow(scrapeInterval)))
}

// BuiltinRuleFile returns a built-in rule file (outpost-alerts.yaml,
// outpost-recording.yaml) as it is loaded at the given scrape interval.
func BuiltinRuleFile(name string, scrapeInterval time.Duration) ([]byte, error) {
	data, err := builtinRules.ReadFile("rules/" + name)
	if err != nil {
		return nil, fmt.Errorf("built-in rule file %q: %w", name, err)
	}
	return ExpandBuiltinRule(data, scrapeInterval), nil
}

// BuiltinRuleFiles lists the names of the built-in rule files.
func BuiltinRuleFiles() []string {
	entries, _ := fs.ReadDir(builtinRules, "rules")
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// CheckRuleFile validates a rule file the way monitoring does before
// loading it; the error lists every problem as name:line:column: reason.
func CheckRuleFile(name string, data []byte) error {
	r := &ruleFiles{parser: parser.NewParser(parser.Options{}), logger: slog.New(slog.DiscardHandler)}
	return r.validateRules(name, data)
}

// RuleFileStatus describes one rule file as the API reports it.
type RuleFileStatus struct {
	// Name is the file name.
	Name string `json:"name"`
	// Source is "builtin" or "user".
	Source string `json:"source"`
	// Active is true when the file's rules are being evaluated; a refused
	// user file is active in its last good version, if it had one.
	Active bool `json:"active"`
	// Error says why the current content was refused, with file, line and
	// reason.
	Error string `json:"error,omitempty"`
	// Overridden is set on a built-in file replaced by a user file.
	Overridden bool `json:"overridden,omitempty"`
}

// ruleFiles keeps the rule files the rule manager loads: built-in files
// rendered into builtinDir, and user files from userDir copied into
// appliedDir only when they parse, so a broken edit never replaces rules
// that work.
type ruleFiles struct {
	userDir, builtinDir, appliedDir string
	scrapeInterval                  time.Duration
	parser                          parser.Parser
	logger                          *slog.Logger

	mu       sync.Mutex
	status   map[string]RuleFileStatus
	lastSeen string // digest of the user files at the last sync
}

func newRuleFiles(dir, userDir string, scrapeInterval time.Duration, p parser.Parser, logger *slog.Logger) *ruleFiles {
	return &ruleFiles{
		userDir: userDir, builtinDir: filepath.Join(dir, "rules-builtin"), appliedDir: filepath.Join(dir, "rules-applied"),
		scrapeInterval: scrapeInterval, parser: p, logger: logger, status: map[string]RuleFileStatus{},
	}
}

func isRuleFile(name string) bool {
	return !strings.HasPrefix(name, ".") && (strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml"))
}

// validateRules parses a rule file the way the rule manager will, and
// returns every problem prefixed with the file name and line.
func (r *ruleFiles) validateRules(name string, data []byte) error {
	_, errs := rulefmt.Parse(data, false, model.UTF8Validation, r.parser, r.logger)
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, 0, len(errs))
	for _, e := range errs {
		msgs = append(msgs, name+":"+e.Error())
	}
	return errors.New(strings.Join(msgs, "; "))
}

// sync renders built-ins, validates user files and returns the files to
// load and whether anything changed since the last sync.
func (r *ruleFiles) sync() (files []string, changed bool, err error) {
	for _, d := range []string{r.userDir, r.builtinDir, r.appliedDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, false, fmt.Errorf("creating rules dir: %w", err)
		}
	}
	user := map[string][]byte{}
	entries, err := os.ReadDir(r.userDir)
	if err != nil {
		return nil, false, fmt.Errorf("reading rules dir: %w", err)
	}
	digest := sha256.New()
	for _, e := range entries {
		if e.IsDir() || !isRuleFile(e.Name()) {
			continue
		}
		data, err := os.ReadFile(filepath.Join(r.userDir, e.Name()))
		if err != nil {
			return nil, false, fmt.Errorf("reading rule file: %w", err)
		}
		user[e.Name()] = data
		fmt.Fprintf(digest, "%s\x00%x\x00", e.Name(), sha256.Sum256(data))
	}
	sum := fmt.Sprintf("%x", digest.Sum(nil))

	r.mu.Lock()
	defer r.mu.Unlock()
	changed = sum != r.lastSeen
	r.lastSeen = sum
	status := map[string]RuleFileStatus{}

	builtins, err := fs.ReadDir(builtinRules, "rules")
	if err != nil {
		return nil, false, fmt.Errorf("reading built-in rules: %w", err)
	}
	for _, e := range builtins {
		dst := filepath.Join(r.builtinDir, e.Name())
		if _, overridden := user[e.Name()]; overridden {
			status["builtin/"+e.Name()] = RuleFileStatus{Name: e.Name(), Source: "builtin", Overridden: true}
			_ = os.Remove(dst)
			continue
		}
		data, err := builtinRules.ReadFile("rules/" + e.Name())
		if err != nil {
			return nil, false, fmt.Errorf("reading built-in rule file: %w", err)
		}
		if err := writeIfChanged(dst, ExpandBuiltinRule(data, r.scrapeInterval)); err != nil {
			return nil, false, fmt.Errorf("writing built-in rule file: %w", err)
		}
		status["builtin/"+e.Name()] = RuleFileStatus{Name: e.Name(), Source: "builtin", Active: true}
		files = append(files, dst)
	}

	applied, _ := os.ReadDir(r.appliedDir)
	for _, e := range applied {
		if _, ok := user[e.Name()]; !ok {
			_ = os.Remove(filepath.Join(r.appliedDir, e.Name())) // deleted by the user
		}
	}
	for _, name := range slices.Sorted(maps.Keys(user)) {
		dst := filepath.Join(r.appliedDir, name)
		st := RuleFileStatus{Name: name, Source: "user", Active: true}
		if verr := r.validateRules(name, user[name]); verr != nil {
			st.Error = verr.Error()
			if _, err := os.Stat(dst); err != nil {
				st.Active = false // never had a good version
			}
			if changed {
				r.logger.Error("rule file refused; its previous version, if any, stays active", "file", filepath.Join(r.userDir, name), "err", verr)
			}
		} else if err := writeIfChanged(dst, user[name]); err != nil {
			return nil, false, fmt.Errorf("copying rule file: %w", err)
		}
		if st.Active {
			files = append(files, dst)
		}
		status["user/"+name] = st
	}
	r.status = status
	return files, changed, nil
}

// markLoadFailure records that the rule manager refused the whole set (for
// reasons the per-file check cannot see, such as a template error).
func (r *ruleFiles) markLoadFailure(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lastSeen = "" // try again at the next sync
	for k, st := range r.status {
		if st.Source == "user" && st.Error == "" {
			st.Error = "rule set not loaded, previous rules keep running: " + err.Error()
			r.status[k] = st
		}
	}
}

// Status lists the rule files, built-in first.
func (r *ruleFiles) Status() []RuleFileStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]RuleFileStatus, 0, len(r.status))
	for _, k := range slices.Sorted(maps.Keys(r.status)) {
		out = append(out, r.status[k])
	}
	return out
}

// Put validates and writes a user rule file. Invalid content is refused and
// nothing is written.
func (r *ruleFiles) Put(name string, data []byte) error {
	if err := checkRuleFileName(name); err != nil {
		return err
	}
	if err := r.validateRules(name, data); err != nil {
		return &badRulesError{err}
	}
	if err := fsutil.WriteFileAtomic(filepath.Join(r.userDir, name), data, 0o644); err != nil {
		return fmt.Errorf("writing rule file: %w", err)
	}
	return nil
}

// Delete removes a user rule file.
func (r *ruleFiles) Delete(name string) error {
	if err := checkRuleFileName(name); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(r.userDir, name)); err != nil {
		return fmt.Errorf("deleting rule file: %w", err)
	}
	return nil
}

// Get returns a rule file: a user file, else the rendered built-in one.
func (r *ruleFiles) Get(name string) ([]byte, error) {
	if err := checkRuleFileName(name); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(r.userDir, name))
	if errors.Is(err, os.ErrNotExist) {
		data, err = os.ReadFile(filepath.Join(r.builtinDir, name))
	}
	return data, err
}

type badRulesError struct{ err error }

func (e *badRulesError) Error() string { return e.err.Error() }
func (e *badRulesError) Unwrap() error { return e.err }

func checkRuleFileName(name string) error {
	if name != filepath.Base(name) || !isRuleFile(name) || len(name) > 200 {
		return &badRulesError{fmt.Errorf("rule file name %q must be a plain file name ending in .yaml or .yml", name)}
	}
	return nil
}

func writeIfChanged(path string, data []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	return fsutil.WriteFileAtomic(path, data, 0o644)
}
