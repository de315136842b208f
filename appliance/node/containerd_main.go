package node

import (
	"context"
	"fmt"
	"time"

	"github.com/containerd/containerd/v2/cmd/containerd/command"
	// The plugins containerd registers: CRI, overlayfs, runc shim v2 support.
	_ "github.com/containerd/containerd/v2/cmd/containerd/builtins"

	"github.com/outpost-platform/outpost/appliance/fsutil"
)

// ContainerdMain runs containerd in this process with the given arguments;
// it is what `outpost containerd` executes in the child process.
func ContainerdMain(ctx context.Context, args []string) error {
	// This child runs the whole outpost program, whose start-up touched
	// pages it never needs again (see fsutil.TrimExecutablePages).
	fsutil.TrimExecutablePagesAfter(ctx, time.Minute, func(int64, error) {})
	if err := command.App().Run(ctx, append([]string{"containerd"}, args...)); err != nil {
		return fmt.Errorf("containerd: %w", err)
	}
	return nil
}
