package main

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestGetPrintsBodyOfServedHandler(t *testing.T) {
	server := httptest.NewServer(newHandler("pod-a"))
	defer server.Close()

	var out bytes.Buffer
	if err := run(context.Background(), []string{"get", server.URL + "/"}, &out); err != nil {
		t.Fatalf("get /: %v", err)
	}
	if got, want := out.String(), "hello from pod-a\n"; got != want {
		t.Errorf("get / = %q, want %q", got, want)
	}

	out.Reset()
	if err := run(context.Background(), []string{"get", server.URL + "/healthz"}, &out); err != nil {
		t.Fatalf("get /healthz: %v", err)
	}
	if got := out.String(); got != "ok\n" {
		t.Errorf("get /healthz = %q, want ok", got)
	}
}

func TestGetFailsOnNotFound(t *testing.T) {
	server := httptest.NewServer(newHandler("pod-a"))
	defer server.Close()
	var out bytes.Buffer
	err := run(context.Background(), []string{"get", server.URL + "/missing"}, &out)
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("get /missing: err = %v, want a 404 failure", err)
	}
}

func TestWriteThenRead(t *testing.T) {
	file := filepath.Join(t.TempDir(), "data")
	if err := run(context.Background(), []string{"write", file, "persisted"}, nil); err != nil {
		t.Fatalf("write: %v", err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"read", file}, &out); err != nil {
		t.Fatalf("read: %v", err)
	}
	if got := out.String(); got != "persisted\n" {
		t.Errorf("read = %q, want %q", got, "persisted\n")
	}
}

func TestCrashExitsWithStatusOne(t *testing.T) {
	err := run(context.Background(), []string{"crash", "0"}, nil)
	var exit exitError
	if !errors.As(err, &exit) || exit.code != 1 {
		t.Fatalf("crash 0: err = %v, want exit status 1", err)
	}
}

func TestSleepAndBurnEndOnCancel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	for _, verb := range []string{"sleep", "burn"} {
		start := time.Now()
		if err := run(ctx, []string{verb}, nil); err != nil {
			t.Errorf("%s: %v", verb, err)
		}
		if elapsed := time.Since(start); elapsed > 5*time.Second {
			t.Errorf("%s took %v after cancellation", verb, elapsed)
		}
	}
}

func TestUnknownVerbIsUsageError(t *testing.T) {
	var exit exitError
	if err := run(context.Background(), []string{"dance"}, nil); !errors.As(err, &exit) || exit.code != 2 {
		t.Fatalf("dance: err = %v, want exit status 2", err)
	}
}

func TestZeroDurationsReturnAtOnce(t *testing.T) {
	for _, args := range [][]string{{"sleep", "0"}, {"burn", "0s"}} {
		done := make(chan error, 1)
		go func() { done <- run(context.Background(), args, nil) }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%v: %v", args, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%v did not return", args)
		}
	}
}
