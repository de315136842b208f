// Command devconsole runs the console against a throwaway control plane
// (clustertest: kube-apiserver and controller-manager, no kubelet) for
// front-end development and browser tests before a full server is at hand:
//
//	go run ./appliance/console/clustertest/devconsole -listen 127.0.0.1:8443 -ui-dir webui/dist
//
// It prints the first admin password and the CA to trust.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/outpost-platform/outpost/appliance/console"
	"github.com/outpost-platform/outpost/appliance/kube/kubetest"
	"github.com/outpost-platform/outpost/appliance/state"
)

func main() {
	dir := flag.String("dir", "", "data directory (default: a new temporary one)")
	listen := flag.String("listen", "127.0.0.1:8443", "console HTTPS address")
	uiDir := flag.String("ui-dir", "", "serve the front end from this directory instead of the embedded build")
	monitoring := flag.String("monitoring-url", "", "Prometheus-compatible API for charts (empty: off)")
	flag.Parse()
	if err := run(*dir, *listen, *uiDir, *monitoring); err != nil {
		fmt.Fprintln(os.Stderr, "devconsole:", err)
		os.Exit(1)
	}
}

func run(dir, listen, uiDir, monitoring string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if dir == "" {
		d, err := os.MkdirTemp("", "devconsole-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	cluster, err := kubetest.Start(dir)
	if err != nil {
		return err
	}
	defer cluster.Stop()
	db, err := state.Open(filepath.Join(dir, "state", "outpost.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	cfg := console.DefaultConfig(dir)
	cfg.Listen, cfg.UIDir, cfg.MonitoringURL = listen, uiDir, monitoring
	c, err := console.New(cfg, console.Deps{DB: db, Kube: cluster.Admin, Versions: map[string]string{"outpost": "dev"},
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	if err != nil {
		return err
	}
	fmt.Printf("console: https://%s  (CA %s, data %s)\n", listen, filepath.Join(dir, "pki", "ca.crt"), dir)
	return c.Run(ctx)
}
