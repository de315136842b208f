package node

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"testing/fstest"
)

func fakeAssets(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	sums := ""
	for name, content := range files {
		m["bin/"+name] = &fstest.MapFile{Data: []byte(content), Mode: 0o755}
		h := sha256.Sum256([]byte(content))
		sums += fmt.Sprintf("%s  %s\n", hex.EncodeToString(h[:]), name)
	}
	m["bin/SHA256SUMS"] = &fstest.MapFile{Data: []byte(sums)}
	return m
}

func TestExtractBinaries(t *testing.T) {
	dataDir := t.TempDir()
	v1 := fakeAssets(map[string]string{"runc": "runc-1", "bridge": "bridge-1"})
	dir1, err := ExtractBinaries(v1, dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir1, "runc")); string(b) != "runc-1" {
		t.Fatalf("runc content %q", b)
	}
	st, _ := os.Stat(filepath.Join(dir1, "runc"))
	if st.Mode().Perm()&0o100 == 0 {
		t.Fatal("extracted binary is not executable")
	}

	// Rerun: same directory, untouched.
	again, err := ExtractBinaries(v1, dataDir)
	if err != nil || again != dir1 {
		t.Fatalf("rerun: %q, %v", again, err)
	}

	// Tampered file on disk: repaired on next extraction.
	os.WriteFile(filepath.Join(dir1, "bridge"), []byte("evil"), 0o755)
	if _, err := ExtractBinaries(v1, dataDir); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir1, "bridge")); string(b) != "bridge-1" {
		t.Fatalf("tampered binary not repaired: %q", b)
	}

	// New build: new directory, links flipped.
	v2 := fakeAssets(map[string]string{"runc": "runc-2", "bridge": "bridge-1"})
	dir2, err := ExtractBinaries(v2, dataDir)
	if err != nil || dir2 == dir1 {
		t.Fatalf("v2: %q, %v", dir2, err)
	}
	base := filepath.Join(dataDir, "data")
	cur, _ := os.Readlink(filepath.Join(base, "current"))
	prev, _ := os.Readlink(filepath.Join(base, "previous"))
	if filepath.Join(base, cur, "bin") != dir2 || filepath.Join(base, prev, "bin") != dir1 {
		t.Fatalf("links current=%s previous=%s", cur, prev)
	}
	if m, _ := filepath.Glob(filepath.Join(base, ".tmp-*")); len(m) != 0 {
		t.Fatalf("temporary directories left behind: %v", m)
	}
}

func TestExtractBinariesConcurrentStarts(t *testing.T) {
	dataDir := t.TempDir()
	assets := fakeAssets(map[string]string{"runc": "r", "portmap": "p", "host-local": "h"})
	var wg sync.WaitGroup
	errs := make([]error, 8)
	dirs := make([]string, 8)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			dirs[i], errs[i] = ExtractBinaries(assets, dataDir)
		}(i)
	}
	wg.Wait()
	for i := range errs {
		if errs[i] != nil || dirs[i] != dirs[0] {
			t.Fatalf("start %d: %q, %v", i, dirs[i], errs[i])
		}
	}
}

func TestExtractBinariesBadInput(t *testing.T) {
	tests := []struct {
		name   string
		assets fstest.MapFS
		want   error
	}{
		{"no assets", fstest.MapFS{"README.md": {Data: []byte("x")}}, ErrNoAssets},
		{"checksum mismatch", func() fstest.MapFS {
			m := fakeAssets(map[string]string{"runc": "good"})
			m["bin/runc"] = &fstest.MapFile{Data: []byte("bad")}
			return m
		}(), nil},
		{"path in checksum file", fstest.MapFS{"bin/SHA256SUMS": {Data: []byte("0000000000000000000000000000000000000000000000000000000000000000  ../etc/passwd\n")}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dataDir := t.TempDir()
			_, err := ExtractBinaries(tt.assets, dataDir)
			if err == nil {
				t.Fatal("want error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
			if _, err := os.Lstat(filepath.Join(dataDir, "data", "current")); err == nil {
				t.Fatal("failed extraction flipped the current link")
			}
		})
	}
}
