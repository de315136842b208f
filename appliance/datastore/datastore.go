package datastore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/k3s-io/kine/pkg/drivers"
	"github.com/k3s-io/kine/pkg/drivers/sqlite"
	"github.com/k3s-io/kine/pkg/server"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

// Config says where the datastore lives.
type Config struct {
	// Kind is "sqlite" (the default and, for now, the only kind).
	Kind string
	// Dir holds the database file (<data-dir>/db).
	Dir string
	// SocketPath is the unix socket the etcd API is served on.
	SocketPath string
	// Metrics receives kine's SQL metrics; nil disables them.
	Metrics prometheus.Registerer
}

// Start serves the etcd API until ctx is done and returns the endpoint the
// apiserver must use (--etcd-servers).
//
// kine's own endpoint package is not used: it links every driver kine has
// (NATS server, PostgreSQL, MySQL, t4), tens of megabytes Outpost never runs.
func Start(ctx context.Context, cfg Config) (string, error) {
	if cfg.Kind != "sqlite" {
		return "", fmt.Errorf("starting datastore: kind %q is not supported", cfg.Kind)
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return "", fmt.Errorf("creating datastore directory: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(cfg.SocketPath), 0o700); err != nil {
		return "", fmt.Errorf("creating datastore socket directory: %w", err)
	}
	// A socket left by a killed server would make listen fail.
	if err := os.Remove(cfg.SocketPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("removing stale datastore socket: %w", err)
	}
	dbPath := filepath.Join(cfg.Dir, "state.db")
	if err := checkSQLiteFile(dbPath); err != nil {
		return "", err
	}
	var wg sync.WaitGroup
	_, backend, err := sqlite.New(ctx, &wg, &drivers.Config{
		MetricsRegisterer: cfg.Metrics,
		// _txlock=immediate serialises writers up front instead of failing
		// them with SQLITE_BUSY at commit.
		DataSourceName: dbPath + "?_journal=WAL&cache=shared&_busy_timeout=30000&_txlock=immediate",
		// kine's own command-line defaults; the library has none.
		PollInterval:     time.Second,
		CompactInterval:  5 * time.Minute,
		CompactTimeout:   5 * time.Second,
		CompactMinRetain: 1000,
		CompactBatchSize: 1000,
		PollBatchSize:    500,
	})
	if err != nil {
		return "", fmt.Errorf("opening datastore %s: %w", dbPath, err)
	}
	if err := backend.Start(ctx); err != nil {
		return "", fmt.Errorf("starting datastore %s: %w", dbPath, err)
	}
	srv := grpc.NewServer(
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 2 * time.Hour, Timeout: 20 * time.Second}),
		grpc.MaxConcurrentStreams(math.MaxUint32),
		// etcd's request limit (1.5 MiB) plus framing; responses (large
		// lists) are unbounded like etcd's.
		grpc.MaxRecvMsgSize(int(1.5*1024*1024)+512*1024),
		grpc.MaxSendMsgSize(math.MaxInt32),
	)
	server.New(backend, "unix", 5*time.Second, "3.6.11").Register(srv)
	l, err := net.Listen("unix", cfg.SocketPath)
	if err != nil {
		return "", fmt.Errorf("listening on datastore socket: %w", err)
	}
	if err := os.Chmod(cfg.SocketPath, 0o600); err != nil {
		l.Close()
		return "", err
	}
	go func() {
		<-ctx.Done()
		// Give in-flight requests a moment, then stop hard.
		t := time.AfterFunc(5*time.Second, srv.Stop)
		srv.GracefulStop()
		t.Stop()
	}()
	go srv.Serve(l)
	return "unix://" + cfg.SocketPath, nil
}

// checkSQLiteFile refuses a database file that is not SQLite: kine would
// retry opening it forever, and the server would hang instead of saying why.
func checkSQLiteFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("opening datastore %s: %w", path, err)
	}
	defer f.Close()
	header := make([]byte, 16)
	n, _ := io.ReadFull(f, header)
	if n == 0 {
		return nil // created but never written: SQLite initialises it
	}
	if string(header[:n]) != "SQLite format 3\x00" {
		return fmt.Errorf("datastore %s is not a SQLite database (damaged?); restore it from a backup, or move it away to start with an empty cluster", path)
	}
	return nil
}
