package datastore

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

func startStore(t *testing.T, dir string) (string, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ep, err := Start(ctx, Config{Kind: "sqlite", Dir: dir, SocketPath: filepath.Join(dir, "kine.sock")})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	return ep, cancel
}

func client(t *testing.T, ep string) *clientv3.Client {
	t.Helper()
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{ep}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestDataSurvivesRestart stores a key through the etcd API, restarts the
// datastore on the same directory and reads it back.
func TestDataSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	ep, stop := startStore(t, dir)
	c := client(t, ep)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Put(ctx, "/registry/test/a", "one"); err != nil {
		t.Fatal(err)
	}
	c.Close()
	stop()
	time.Sleep(100 * time.Millisecond) // let the old server release the socket

	ep, stop = startStore(t, dir)
	defer stop()
	c = client(t, ep)
	defer c.Close()
	resp, err := c.Get(ctx, "/registry/test/a")
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "one" {
		t.Fatalf("after restart got %v", resp.Kvs)
	}
	if st, err := os.Stat(filepath.Join(dir, "kine.sock")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v, %v; want 0600", st.Mode().Perm(), err)
	}
}

func TestStartRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	if _, err := Start(context.Background(), Config{Kind: "etcd", Dir: dir, SocketPath: filepath.Join(dir, "s")}); err == nil {
		t.Fatal("unsupported kind accepted")
	}
	// A database file that is not SQLite must fail with its path, not be replaced.
	os.WriteFile(filepath.Join(dir, "state.db"), []byte("this is not a database file at all, but long enough to look like one"), 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := Start(ctx, Config{Kind: "sqlite", Dir: dir, SocketPath: filepath.Join(dir, "kine.sock")}); err == nil {
		t.Fatal("corrupt database accepted")
	}
}
