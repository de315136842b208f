package main

import (
	"slices"
	"testing"

	"github.com/coredns/coredns/core/dnsserver"
)

func TestSelectDirectivesKeepsCanonicalOrder(t *testing.T) {
	got, err := selectDirectives(dnsserver.Directives, clusterDNSPlugins())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(clusterDNSPlugins()) {
		t.Fatalf("selected %v, want all of %v", got, clusterDNSPlugins())
	}
	// Each selected directive must appear in the same relative order as in
	// upstream's list: plugin chaining depends on it.
	last := -1
	for _, name := range got {
		i := slices.Index(dnsserver.Directives, name)
		if i <= last {
			t.Fatalf("directive %q out of canonical order in %v", name, got)
		}
		last = i
	}
}

func TestSelectDirectivesRejectsUnknownPlugin(t *testing.T) {
	if _, err := selectDirectives([]string{"cache"}, []string{"cache", "nosuch"}); err == nil {
		t.Fatal("want an error for a plugin missing from the canonical list")
	}
}
