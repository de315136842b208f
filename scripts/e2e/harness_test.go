//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the outpost binary under test.
func binary(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs("../../bin/outpost")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("bin/outpost not built (run make): %v", err)
	}
	return p
}

// server is one running `outpost server` process.
type server struct {
	t       *testing.T
	bin     string
	dataDir string
	netns   string // empty: host network
	args    []string
	config  string // --config file; empty: /dev/null
	cmd     *exec.Cmd
	log     *syncBuffer
	logPath string
	done    chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *server) command(name string, args ...string) *exec.Cmd {
	if s.netns != "" {
		// nsenter enters only the network namespace (ip netns exec would
		// also give the server a private mount namespace, hiding its mounts
		// from the checks and from outpost reset).
		return exec.Command("nsenter", append([]string{"--net=/run/netns/" + s.netns, "--", name}, args...)...)
	}
	return exec.Command(name, args...)
}

// use makes helpers report failures on t (a subtest) until the returned
// function restores the previous test.
func (s *server) use(t *testing.T) func() {
	prev := s.t
	s.t = t
	return func() { s.t = prev }
}

// start launches the server and returns once the process runs.
func (s *server) start() {
	s.t.Helper()
	config := s.config
	if config == "" {
		config = "/dev/null"
	}
	args := append([]string{"server", "--data-dir", s.dataDir, "--config", config}, s.args...)
	s.cmd = s.command(s.bin, args...)
	s.log = &syncBuffer{}
	f, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	s.cmd.Stdout = f
	s.cmd.Stderr = io2(f, s.log)
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.done = make(chan error, 1)
	go func() { s.done <- s.cmd.Wait(); f.Close() }()
}

func io2(a, b interface{ Write([]byte) (int, error) }) *teeWriter { return &teeWriter{a, b} }

type teeWriter struct {
	a, b interface{ Write([]byte) (int, error) }
}

func (w *teeWriter) Write(p []byte) (int, error) {
	w.a.Write(p)
	return w.b.Write(p)
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop() {
	s.t.Helper()
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	syscall.Kill(s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			s.t.Errorf("outpost server exited with %v after SIGTERM; log tail:\n%s", err, tail(s.log.String(), 40))
		}
	case <-time.After(60 * time.Second):
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		s.t.Fatalf("outpost server did not stop within 60s of SIGTERM")
	}
	s.cmd = nil
}

// kubectl runs the embedded kubectl against this server.
func (s *server) kubectl(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := s.command(s.bin, append([]string{"kubectl"}, args...)...)
	cmd := exec.CommandContext(ctx, c.Path, c.Args[1:]...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+filepath.Join(s.dataDir, "kubeconfig"))
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func (s *server) mustKubectl(args ...string) string {
	s.t.Helper()
	out, err := s.kubectl(args...)
	if err != nil {
		s.t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// eventually polls fn until it returns nil or the deadline passes.
func (s *server) eventually(what string, timeout time.Duration, fn func() error) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		if err = fn(); err == nil {
			return
		}
		select {
		case exitErr := <-s.done:
			s.done <- exitErr
			s.t.Fatalf("%s: outpost server exited (%v); log tail:\n%s", what, exitErr, tail(s.log.String(), 60))
		case <-time.After(2 * time.Second):
		}
	}
	s.t.Fatalf("%s: not true after %s: %v\nserver log tail:\n%s", what, timeout, err, tail(s.log.String(), 60))
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// processesUsing lists processes whose command line mentions dir.
func processesUsing(dir string) []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		c := strings.ReplaceAll(string(cmdline), "\x00", " ")
		if strings.Contains(c, dir) {
			out = append(out, e.Name()+": "+c)
		}
	}
	return out
}

func mountsUnder(dir string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && strings.HasPrefix(fields[4], dir) {
			out = append(out, fields[4])
		}
	}
	return out
}
