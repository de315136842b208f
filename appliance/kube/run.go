package kube

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/spf13/pflag"
	"k8s.io/component-base/cli/globalflag"
	basecompatibility "k8s.io/component-base/compatibility"
	logsapi "k8s.io/component-base/logs/api/v1"
	apiserverapp "k8s.io/kubernetes/cmd/kube-apiserver/app"
	apiserveroptions "k8s.io/kubernetes/cmd/kube-apiserver/app/options"
	cmapp "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	proxyapp "k8s.io/kubernetes/cmd/kube-proxy/app"
	schedulerapp "k8s.io/kubernetes/cmd/kube-scheduler/app"
	scheduleroptions "k8s.io/kubernetes/cmd/kube-scheduler/app/options"
	kubeletapp "k8s.io/kubernetes/cmd/kubelet/app"
)

// Several upstream components apply the process-wide klog configuration; the
// second application must be accepted as long as it is identical.
func init() { //nolint:gochecknoinits // must precede any component start
	logsapi.ReapplyHandling = logsapi.ReapplyHandlingIgnoreUnchanged
}

// runFunc runs one component until it fails or ctx is done.
type runFunc func(ctx context.Context, args []string) error

// Component names, used in logs and shutdown reasons.
const (
	APIServer         = "kube-apiserver"
	ControllerManager = "kube-controller-manager"
	Scheduler         = "kube-scheduler"
	Kubelet           = "kubelet"
	KubeProxy         = "kube-proxy"
)

// Start runs the named component in a goroutine with args and reports its
// exit on exited. Each component is constructed here, once, only when it is
// started: constructing several upstream commands up front registers their
// feature gates and flags twice.
func Start(ctx context.Context, log *slog.Logger, name string, args []string, exited chan<- error) {
	var run runFunc
	switch name {
	case APIServer:
		run = runAPIServer
	case ControllerManager:
		run = runCommand(func() command { return cmapp.NewControllerManagerCommand() })
	case Scheduler:
		run = runScheduler
	case Kubelet:
		run = runCommand(func() command { return kubeletapp.NewKubeletCommand(ctx) })
	case KubeProxy:
		run = runCommand(func() command { return proxyapp.NewProxyCommand() })
	default:
		exited <- fmt.Errorf("unknown component %q", name)
		return
	}
	log.Info("starting component", "component", name, "args", args)
	go func() {
		err := run(ctx, args)
		if ctx.Err() != nil {
			return // shutting down: an exit is expected
		}
		if err == nil {
			err = fmt.Errorf("%s exited", name)
		} else {
			err = fmt.Errorf("%s exited: %w", name, err)
		}
		exited <- err
	}()
}

// command is the part of *cobra.Command used here; naming it keeps the
// appliance free of a direct CLI-library dependency.
type command interface {
	SetArgs([]string)
	ExecuteContext(context.Context) error
}

func runCommand(newCmd func() command) runFunc {
	return func(ctx context.Context, args []string) error {
		cmd := newCmd()
		cmd.SetArgs(args)
		return cmd.ExecuteContext(ctx)
	}
}

// runAPIServer runs kube-apiserver from its options rather than its cobra
// command: the command installs a process-wide signal handler at
// construction, which may exist only once per process and would bind the
// apiserver's lifetime to signals instead of ctx.
func runAPIServer(ctx context.Context, args []string) error {
	s := apiserveroptions.NewServerRunOptions()
	fs := pflag.NewFlagSet(APIServer, pflag.ContinueOnError)
	named := s.Flags()
	globalflag.AddGlobalFlags(named.FlagSet("global"), APIServer)
	for _, set := range named.FlagSets {
		fs.AddFlagSet(set)
	}
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("parsing arguments: %w", err)
	}
	if err := s.GenericServerRunOptions.ComponentGlobalsRegistry.Set(); err != nil {
		return err
	}
	featureGate := s.GenericServerRunOptions.ComponentGlobalsRegistry.FeatureGateFor(basecompatibility.DefaultKubeComponent)
	if err := logsapi.ValidateAndApply(s.Logs, featureGate); err != nil {
		return err
	}
	completed, err := s.Complete(ctx)
	if err != nil {
		return err
	}
	if errs := completed.Validate(); len(errs) != 0 {
		return fmt.Errorf("invalid arguments: %v", errs)
	}
	return apiserverapp.Run(ctx, completed)
}

// runScheduler runs kube-scheduler through Setup and Run for the same reason
// as runAPIServer: its command starts a signal handler in a goroutine.
func runScheduler(ctx context.Context, args []string) error {
	opts := scheduleroptions.NewOptions()
	fs := pflag.NewFlagSet(Scheduler, pflag.ContinueOnError)
	globalflag.AddGlobalFlags(opts.Flags.FlagSet("global"), Scheduler)
	for _, set := range opts.Flags.FlagSets {
		fs.AddFlagSet(set)
	}
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("parsing arguments: %w", err)
	}
	if err := opts.ComponentGlobalsRegistry.Set(); err != nil {
		return err
	}
	fg := opts.ComponentGlobalsRegistry.FeatureGateFor(basecompatibility.DefaultKubeComponent)
	if err := logsapi.ValidateAndApply(opts.Logs, fg); err != nil {
		return err
	}
	cc, sched, err := schedulerapp.Setup(ctx, opts)
	if err != nil {
		return err
	}
	return schedulerapp.Run(ctx, cc, sched)
}
