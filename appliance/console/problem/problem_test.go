package problem

import (
	"errors"
	"fmt"
	"testing"
)

func TestIsMatchesKindThroughWrapping(t *testing.T) {
	err := fmt.Errorf("loading project: %w", NotFound("project"))
	if !errors.Is(err, ErrNotFound) {
		t.Fatal("wrapped NotFound does not match ErrNotFound")
	}
	if errors.Is(err, ErrConflict) {
		t.Fatal("NotFound matches ErrConflict")
	}
}

func TestFieldsErr(t *testing.T) {
	f := Fields{}
	if f.Err() != nil {
		t.Fatal("empty Fields must give nil")
	}
	f.Add("name", "is required")
	f.Add("name", "second reason is ignored")
	p, ok := As(f.Err())
	if !ok || p.Kind != KindInvalid || p.Fields["name"] != "is required" {
		t.Fatalf("got %#v", p)
	}
}
