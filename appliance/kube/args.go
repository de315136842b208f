package kube

import (
	"strings"
)

// Flags is an ordered set of command-line flags. Outpost builds the defaults;
// user overrides (--kube-apiserver-arg etc.) replace a default of the same
// name or are appended.
type Flags struct {
	names  []string
	values map[string][]string
}

// Set sets name to value, replacing earlier values.
func (f *Flags) Set(name, value string) {
	if f.values == nil {
		f.values = map[string][]string{}
	}
	if _, ok := f.values[name]; !ok {
		f.names = append(f.names, name)
	}
	f.values[name] = []string{value}
}

// Override applies user arguments of the form "--name=value", "name=value"
// or "--name" (boolean true). A name given several times by the user keeps
// every value, so repeatable flags (--node-labels, --feature-gates) work.
func (f *Flags) Override(userArgs []string) {
	seen := map[string]bool{}
	for _, a := range userArgs {
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !hasValue {
			value = "true"
		}
		if f.values == nil {
			f.values = map[string][]string{}
		}
		if _, ok := f.values[name]; !ok {
			f.names = append(f.names, name)
		}
		if seen[name] {
			f.values[name] = append(f.values[name], value)
		} else {
			f.values[name] = []string{value}
			seen[name] = true
		}
	}
}

// Get returns the last value of name.
func (f *Flags) Get(name string) (string, bool) {
	v, ok := f.values[name]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[len(v)-1], true
}

// Args renders the flags as "--name=value" in the order they were first set.
func (f *Flags) Args() []string {
	out := make([]string, 0, len(f.names))
	for _, n := range f.names {
		for _, v := range f.values[n] {
			out = append(out, "--"+n+"="+v)
		}
	}
	return out
}
