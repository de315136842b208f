package kube

import (
	"testing"

	"github.com/outpost-platform/outpost/appliance/console/problem"
)

// asProblem returns the field reasons of an invalid-input error.
func asProblem(t *testing.T, err error) map[string]string {
	t.Helper()
	p, ok := problem.As(err)
	if !ok || p.Kind != problem.KindInvalid {
		t.Fatalf("want an invalid-input error, got %v", err)
	}
	return p.Fields
}
