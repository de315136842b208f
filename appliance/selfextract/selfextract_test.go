package selfextract

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// buildStub compiles cmd/outpost-stub once per test binary.
var buildStub = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "stub-")
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "outpost-stub")
	cmd := exec.Command("go", "build", "-o", out, "../../cmd/outpost-stub")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", &exec.ExitError{Stderr: b}
	}
	return out, nil
})

// packed writes a packed binary whose program is a copy of /bin/echo.
func packed(t *testing.T) (path string, program []byte) {
	t.Helper()
	stub, err := buildStub()
	if err != nil {
		t.Fatalf("building the stub: %v", err)
	}
	program, err = os.ReadFile("/bin/echo")
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), "outpost")
	out, err := exec.Command(stub, "pack", path, "/bin/echo").CombinedOutput()
	if err != nil {
		t.Fatalf("pack: %v\n%s", err, out)
	}
	return path, program
}

func TestPackedBinaryUnpacksOnceAndExecs(t *testing.T) {
	bin, program := packed(t)
	binDir := t.TempDir()
	for i := 0; i < 2; i++ { // the second run uses the unpacked copy
		cmd := exec.Command(bin, "hello", "site")
		cmd.Env = append(os.Environ(), EnvBinDir+"="+binDir)
		out, err := cmd.CombinedOutput()
		if err != nil || string(out) != "hello site\n" {
			t.Fatalf("run %d: %q %v", i+1, out, err)
		}
	}
	matches, _ := filepath.Glob(filepath.Join(binDir, "*", "outpost"))
	if len(matches) != 1 {
		t.Fatalf("unpacked copies: %v", matches)
	}
	if got, _ := os.ReadFile(matches[0]); !bytes.Equal(got, program) {
		t.Fatal("unpacked program differs from the packed one")
	}
	fi, _ := os.Stat(bin)
	if fi.Size() >= int64(len(program))+stubSize(t) {
		t.Errorf("packed %d bytes is not smaller than stub + program", fi.Size())
	}
}

func stubSize(t *testing.T) int64 {
	stub, _ := buildStub()
	fi, err := os.Stat(stub)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func TestConcurrentFirstRunsUnpackOnce(t *testing.T) {
	bin, program := packed(t)
	binDir := t.TempDir()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := Unpack(bin, binDir)
			if err == nil {
				var got []byte
				if got, err = os.ReadFile(p); err == nil && !bytes.Equal(got, program) {
					err = os.ErrInvalid
				}
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	left, _ := filepath.Glob(filepath.Join(binDir, "*", ".unpack-*"))
	if len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

func TestDamagedPackedBinaries(t *testing.T) {
	bin, _ := packed(t)
	orig, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	p, err := func() (Payload, error) { f, _ := os.Open(bin); defer f.Close(); return Find(f) }()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		damage func([]byte) []byte
		want   string
	}{
		{"bare stub", func(b []byte) []byte { return b[:p.Offset] }, ErrNoPayload.Error()},
		{"truncated", func(b []byte) []byte { return b[:len(b)-200] }, ErrNoPayload.Error()},
		{"flipped byte in the program", func(b []byte) []byte {
			c := bytes.Clone(b)
			c[p.Offset+p.Length/2] ^= 0xff
			return c
		}, "download outpost again"},
		{"damaged trailer", func(b []byte) []byte {
			c := bytes.Clone(b)
			copy(c[len(c)-trailerSize+len(magic):], "xx")
			return c
		}, "trailer is damaged"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "outpost")
			os.WriteFile(path, tt.damage(orig), 0o755)
			binDir := t.TempDir()
			_, err := Unpack(path, binDir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
			if left, _ := filepath.Glob(filepath.Join(binDir, "*", "*")); len(left) != 0 {
				t.Fatalf("files left after a failed unpack: %v", left)
			}
		})
	}
}

// After an upgrade the previous version stays (it may still run), older
// ones go.
func TestKeepsCurrentAndPreviousVersion(t *testing.T) {
	binDir := t.TempDir()
	for _, old := range []string{"aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"} {
		os.MkdirAll(filepath.Join(binDir, old), 0o755)
		os.WriteFile(filepath.Join(binDir, old, "outpost"), []byte("x"), 0o755)
	}
	os.Chtimes(filepath.Join(binDir, "aaaaaaaaaaaaaaaa"), timeAgo(2), timeAgo(2))
	bin, _ := packed(t)
	if _, err := Unpack(bin, binDir); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(binDir)
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	if len(names) != 2 || !strings.Contains(strings.Join(names, ","), "bbbbbbbbbbbbbbbb") {
		t.Fatalf("kept %v", names)
	}
}

func timeAgo(hours int) time.Time { return time.Now().Add(-time.Duration(hours) * time.Hour) }
