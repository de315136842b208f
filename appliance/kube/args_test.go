package kube

import (
	"slices"
	"testing"
)

func TestFlagsOverride(t *testing.T) {
	tests := []struct {
		name     string
		defaults [][2]string
		user     []string
		want     []string
	}{
		{"defaults only", [][2]string{{"a", "1"}, {"b", "2"}}, nil, []string{"--a=1", "--b=2"}},
		{"user replaces in place", [][2]string{{"a", "1"}, {"b", "2"}}, []string{"--a=9"}, []string{"--a=9", "--b=2"}},
		{"user adds at end", [][2]string{{"a", "1"}}, []string{"c=3"}, []string{"--a=1", "--c=3"}},
		{"boolean without value", nil, []string{"--profiling"}, []string{"--profiling=true"}},
		{"repeated user flag keeps all", [][2]string{{"l", "x"}}, []string{"--l=a", "--l=b"}, []string{"--l=a", "--l=b"}},
		{"value containing =", nil, []string{"--feature-gates=A=true,B=false"}, []string{"--feature-gates=A=true,B=false"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f Flags
			for _, d := range tt.defaults {
				f.Set(d[0], d[1])
			}
			f.Override(tt.user)
			if got := f.Args(); !slices.Equal(got, tt.want) {
				t.Fatalf("Args() = %v, want %v", got, tt.want)
			}
		})
	}
}
