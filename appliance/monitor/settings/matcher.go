package settings

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// MatchType is the operator of a label matcher.
type MatchType string

// The four operators of PromQL and Alertmanager label matchers.
const (
	MatchEqual     MatchType = "="
	MatchNotEqual  MatchType = "!="
	MatchRegexp    MatchType = "=~"
	MatchNotRegexp MatchType = "!~"
)

// Matcher selects alerts by one label, written `name="value"`, `name!=value`,
// `name=~"regex"` or `name!~regex` (quotes optional). Regexps are anchored
// like PromQL's.
type Matcher struct {
	Name  string
	Type  MatchType
	Value string
	re    *regexp.Regexp
}

// ParseMatcher parses one matcher such as `severity="critical"`.
func ParseMatcher(s string) (Matcher, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexAny(s, "=!")
	if i <= 0 {
		return Matcher{}, fmt.Errorf("matcher %q: expected name=value, name!=value, name=~regex or name!~regex", s)
	}
	name, rest := strings.TrimSpace(s[:i]), s[i:]
	var m Matcher
	switch {
	case strings.HasPrefix(rest, "=~"):
		m.Type, rest = MatchRegexp, rest[2:]
	case strings.HasPrefix(rest, "!~"):
		m.Type, rest = MatchNotRegexp, rest[2:]
	case strings.HasPrefix(rest, "!="):
		m.Type, rest = MatchNotEqual, rest[2:]
	case strings.HasPrefix(rest, "="):
		m.Type, rest = MatchEqual, rest[1:]
	default:
		return Matcher{}, fmt.Errorf("matcher %q: unknown operator", s)
	}
	value := strings.TrimSpace(rest)
	if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
		var unq string
		if err := json.Unmarshal([]byte(value), &unq); err != nil {
			return Matcher{}, fmt.Errorf("matcher %q: bad quoted value: %w", s, err)
		}
		value = unq
	}
	return NewMatcher(name, m.Type, value)
}

// NewMatcher builds a matcher, compiling the regexp of =~ and !~.
func NewMatcher(name string, typ MatchType, value string) (Matcher, error) {
	if !validLabelName(name) {
		return Matcher{}, fmt.Errorf("matcher on %q: not a valid label name", name)
	}
	m := Matcher{Name: name, Type: typ, Value: value}
	switch typ {
	case MatchEqual, MatchNotEqual:
	case MatchRegexp, MatchNotRegexp:
		re, err := regexp.Compile("^(?:" + value + ")$")
		if err != nil {
			return Matcher{}, fmt.Errorf("matcher %s%s%q: bad regexp: %w", name, typ, value, err)
		}
		m.re = re
	default:
		return Matcher{}, fmt.Errorf("matcher %s: unknown operator %q", name, typ)
	}
	return m, nil
}

// Matches reports whether the label value v (empty when absent) matches.
func (m Matcher) Matches(v string) bool {
	switch m.Type {
	case MatchEqual:
		return v == m.Value
	case MatchNotEqual:
		return v != m.Value
	case MatchRegexp:
		return m.re.MatchString(v)
	case MatchNotRegexp:
		return !m.re.MatchString(v)
	}
	return false
}

// String writes the matcher back in the form ParseMatcher reads.
func (m Matcher) String() string {
	b, _ := json.Marshal(m.Value)
	return m.Name + string(m.Type) + string(b)
}

// Matchers is a conjunction: all must match.
type Matchers []Matcher

// ParseMatchers parses each string with ParseMatcher.
func ParseMatchers(ss []string) (Matchers, error) {
	ms := make(Matchers, 0, len(ss))
	for _, s := range ss {
		m, err := ParseMatcher(s)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// Matches reports whether every matcher matches the label set.
func (ms Matchers) Matches(labels map[string]string) bool {
	for _, m := range ms {
		if !m.Matches(labels[m.Name]) {
			return false
		}
	}
	return true
}

func validLabelName(s string) bool {
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}
