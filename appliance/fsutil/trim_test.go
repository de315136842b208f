package fsutil

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// residentOfExecutable sums Rss over the test binary's own read-only
// mappings.
func residentOfExecutable(t *testing.T) int64 {
	t.Helper()
	exe, _ := os.Executable()
	exe, _ = filepath.EvalSymlinks(exe)
	ms, err := executableMappings(exe)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 {
		t.Fatal("no mappings of the test binary found")
	}
	var rss int64
	for _, m := range ms {
		if m.perms == "r--p" || m.perms == "r-xp" {
			rss += m.rss
		}
	}
	return rss
}

// On the test binary itself: resident code and read-only data shrink, and
// the process keeps working (code runs, types and strings still read).
func TestTrimExecutablePagesKeepsTheProcessWorking(t *testing.T) {
	// The go tool has just written the test binary: its pages are dirty
	// until written back, and dirty mappings are left alone.
	exe, _ := os.Executable()
	if f, err := os.Open(exe); err == nil {
		f.Sync()
		f.Close()
	}
	before := residentOfExecutable(t)
	dropped, err := TrimExecutablePages()
	if err != nil {
		t.Fatal(err)
	}
	after := residentOfExecutable(t)
	if dropped <= 0 || after >= before {
		t.Fatalf("resident %d → %d bytes, dropped %d", before, after, dropped)
	}
	t.Logf("resident read-only pages of the test binary: %d KiB → %d KiB", before>>10, after>>10)

	// Work that needs code, rodata (strings, type info) and the GC's
	// pointer maps, which are in the dropped mappings.
	runtime.GC()
	var b strings.Builder
	for i := 0; i < 1000; i++ {
		b.WriteString(filepath.Join("a", "b"))
	}
	if b.Len() != 3000 {
		t.Fatalf("built %d bytes", b.Len())
	}
	if _, err := TrimExecutablePages(); err != nil { // twice is fine
		t.Fatal(err)
	}
}
