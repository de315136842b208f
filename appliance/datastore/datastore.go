package datastore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/k3s-io/kine/pkg/endpoint"
	"github.com/prometheus/client_golang/prometheus"
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
	if err := os.Remove(cfg.SocketPath); err != nil && !os.IsNotExist(err) {
		return "", fmt.Errorf("removing stale datastore socket: %w", err)
	}
	dbPath := filepath.Join(cfg.Dir, "state.db")
	etcd, err := endpoint.Listen(ctx, endpoint.Config{
		Listener: "unix://" + cfg.SocketPath,
		// _txlock=immediate serialises writers up front instead of failing
		// them with SQLITE_BUSY at commit.
		Endpoint:          "sqlite://" + dbPath + "?_journal=WAL&cache=shared&_busy_timeout=30000&_txlock=immediate",
		MetricsRegisterer: cfg.Metrics,
		// kine's own command-line defaults; the library has none.
		PollInterval:        time.Second,
		NotifyInterval:      5 * time.Second,
		EmulatedETCDVersion: "3.6.11",
		CompactInterval:     5 * time.Minute,
		CompactTimeout:      5 * time.Second,
		CompactMinRetain:    1000,
		CompactBatchSize:    1000,
		PollBatchSize:       500,
	})
	if err != nil {
		return "", fmt.Errorf("starting datastore (kine over %s): %w", dbPath, err)
	}
	if len(etcd.Endpoints) == 0 {
		return "", fmt.Errorf("starting datastore: kine returned no endpoint")
	}
	return strings.Join(etcd.Endpoints, ","), nil
}
