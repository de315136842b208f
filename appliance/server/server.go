package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/outpost-platform/outpost/appliance/addons"
	"github.com/outpost-platform/outpost/appliance/config"
	"github.com/outpost-platform/outpost/appliance/datastore"
	"github.com/outpost-platform/outpost/appliance/fsutil"
	"github.com/outpost-platform/outpost/appliance/kube"
	"github.com/outpost-platform/outpost/appliance/node"
	"github.com/outpost-platform/outpost/appliance/pki"
	"github.com/outpost-platform/outpost/appliance/preflight"
)

// RunDir holds sockets and runtime state that must not survive a reboot.
const RunDir = "/run/outpost"

// Options are what Run needs besides the user configuration.
type Options struct {
	Config config.Config
	// Ports are checked free before anything starts.
	Ports []preflight.Port
	Log   *slog.Logger
}

// Run starts the server and blocks until ctx is done or a component fails.
// The returned error names the component and reason.
func Run(ctx context.Context, opts Options) error {
	cfg, log := opts.Config, opts.Log
	start := time.Now()
	if cfg.NodeIP == "" {
		ip, err := config.DetectNodeIP()
		if err != nil {
			return err
		}
		cfg.NodeIP = ip
	}

	report := preflight.Run(ctx, preflight.Options{DataDir: cfg.DataDir, Ports: opts.Ports, ApplyFixes: true})
	if report.Failed() {
		var b strings.Builder
		report.WriteText(&b)
		return fmt.Errorf("the host is not ready for outpost; fix the FAIL lines and start again:\n%s", b.String())
	}
	release, err := preflight.LockDataDir(cfg.DataDir)
	if err != nil {
		return err
	}
	defer release()

	if cfg.PprofListen != "" {
		if err := servePprof(ctx, log, cfg.PprofListen); err != nil {
			return err
		}
	}

	svcIP, err := kube.APIServiceIP(cfg.ServiceCIDR)
	if err != nil {
		return err
	}
	certs, err := pki.Ensure(pki.Options{Dir: filepath.Join(cfg.DataDir, "pki"), NodeName: cfg.NodeName,
		NodeIP: net.ParseIP(cfg.NodeIP), APIServiceIP: svcIP.AsSlice(), ClusterDomain: cfg.ClusterDomain,
		APIServerPort: cfg.APIServerPort, WithoutMonitoring: cfg.Disabled(config.ComponentMonitoring)})
	if err != nil {
		return fmt.Errorf("preparing certificates: %w", err)
	}
	if err := publishKubeconfig(certs.AdminKubeconfig, filepath.Join(cfg.DataDir, "kubeconfig")); err != nil {
		return err
	}
	assets := node.Assets()
	binDir, err := node.ExtractBinaries(assets, cfg.DataDir)
	if err != nil {
		return fmt.Errorf("extracting embedded binaries: %w", err)
	}
	sysImages, err := node.ListSystemImages(assets)
	if err != nil {
		return fmt.Errorf("reading embedded system images: %w", err)
	}
	pauseRef, err := node.SystemImageRef(sysImages, "pause")
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s := &supervisor{log: log, exited: make(chan error, 16)}

	cd := node.ContainerdConfig{DataDir: cfg.DataDir, RunDir: RunDir, BinDir: binDir, SandboxImage: pauseRef}
	svc, err := openServices(ctx, s, cfg, certs, cd.CertsDir())
	if err != nil {
		return err
	}
	defer svc.close()

	// containerd: a supervised child process.
	containerdReady := make(chan struct{})
	s.goRun("containerd", func() error { return node.RunContainerd(ctx, log, cd, containerdReady) })

	// Datastore, then the apiserver.
	endpoint, err := datastore.Start(ctx, datastore.Config{Kind: cfg.Datastore, Dir: filepath.Join(cfg.DataDir, "db"),
		SocketPath: filepath.Join(RunDir, "kine.sock")})
	if err != nil {
		return err
	}
	kc := &kube.Config{DataDir: cfg.DataDir, NodeName: cfg.NodeName, NodeIP: cfg.NodeIP, ClusterCIDR: cfg.ClusterCIDR,
		ServiceCIDR: cfg.ServiceCIDR, ClusterDNS: cfg.ClusterDNS, ClusterDomain: cfg.ClusterDomain,
		APIServerPort: cfg.APIServerPort, PKI: certs, DatastoreEndpoint: endpoint, ContainerdSocket: cd.Socket(),
		LogLevel: cfg.LogLevel, APIServerArgs: cfg.KubeAPIServerArgs, ControllerManagerArgs: cfg.KubeControllerManagerArgs,
		SchedulerArgs: cfg.KubeSchedulerArgs, KubeletArgs: cfg.KubeletArgs, KubeProxyArgs: cfg.KubeProxyArgs}
	if err := kube.WriteConfigFiles(kc); err != nil {
		return err
	}
	apiFlags := kube.APIServerFlags(kc)
	kube.Start(ctx, log, kube.APIServer, apiFlags.Args(), s.exited)

	restCfg, err := clientcmd.BuildConfigFromFlags("", certs.SupervisorKubeconfig)
	if err != nil {
		return fmt.Errorf("loading supervisor kubeconfig: %w", err)
	}
	restCfg.UserAgent = "outpost"
	client, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return err
	}
	if err := s.waitFor(ctx, "kube-apiserver ready", func() bool { return apiserverReady(ctx, client) }); err != nil {
		return err
	}
	log.Info("component ready", "component", kube.APIServer, "since_start", time.Since(start).Round(time.Millisecond))

	// Add-ons are applied as soon as the apiserver answers, so their pods
	// are waiting for the node the moment it registers.
	s.goRun("add-ons", func() error {
		corednsRef, err := node.SystemImageRef(sysImages, "coredns")
		if err != nil {
			return err
		}
		metricsRef, err := node.SystemImageRef(sysImages, "metrics-server")
		if err != nil {
			return err
		}
		values := addons.Values{ClusterDomain: cfg.ClusterDomain, ClusterDNS: cfg.ClusterDNS,
			CoreDNSImage: corednsRef, MetricsServerImage: metricsRef}
		var enabled, disabled []string
		for _, a := range []struct{ addon, component string }{
			{"coredns", config.ComponentCoreDNS},
			{"metrics-server", config.ComponentMetricsServer},
			{"monitoring-rbac", config.ComponentMonitoring},
		} {
			if cfg.Disabled(a.component) {
				disabled = append(disabled, a.addon)
			} else {
				enabled = append(enabled, a.addon)
			}
		}
		if err := addons.Apply(ctx, log, restCfg, enabled, values); err != nil {
			return err
		}
		return addons.Remove(ctx, log, restCfg, disabled, values)
	})

	cmFlags, schedFlags, proxyFlags := kube.ControllerManagerFlags(kc), kube.SchedulerFlags(kc), kube.KubeProxyFlags(kc)
	kube.Start(ctx, log, kube.ControllerManager, cmFlags.Args(), s.exited)
	kube.Start(ctx, log, kube.Scheduler, schedFlags.Args(), s.exited)
	kube.Start(ctx, log, kube.KubeProxy, proxyFlags.Args(), s.exited)

	// The kubelet needs containerd and the pause image; importing before it
	// starts guarantees no component ever tries to pull a system image.
	if err := s.waitChan(ctx, "containerd ready", containerdReady); err != nil {
		return err
	}
	if err := node.ImportSystemImages(ctx, log, cd.Socket(), assets); err != nil {
		return err
	}
	kubeletFlags := kube.KubeletFlags(kc)
	if err := kube.SetCAdvisorContainerdSocket(cd.Socket()); err != nil {
		return err
	}
	// The kubelet starts after the controller-manager has built its
	// controllers: upstream's CSI volume plugin keeps its node-info manager
	// in a process-wide variable that every Init overwrites, and the
	// controller-manager's (which has no node name) replacing the
	// kubelet's made the kubelet fail "CSINode: resource name may not be
	// empty" and exit the whole process after 140 s.
	cmPort, _ := cmFlags.Get("secure-port")
	waitControllersBuilt(ctx, log, cmPort, start)
	kube.Start(ctx, log, kube.Kubelet, kubeletFlags.Args(), s.exited)

	// Pod networking: the node's pod CIDR is assigned by the
	// controller-manager once the kubelet has registered the node.
	s.goRun("pod network", func() error {
		podCIDR, err := waitPodCIDR(ctx, client, cfg.NodeName)
		if err != nil {
			return err
		}
		if err := node.WriteCNIConfig(cd, podCIDR); err != nil {
			return err
		}
		log.Info("pod network configured", "podCIDR", podCIDR, "since_start", time.Since(start).Round(time.Millisecond))
		return nil
	})

	if err := svc.start(ctx, s, cfg, certs, restCfg, client); err != nil {
		return err
	}

	// Start-up touched pages of the program that are not needed again:
	// every component's initialisation, the embedded binaries and images
	// read while extracting (≈ 100 MB of resident memory otherwise).
	fsutil.TrimExecutablePagesAfter(ctx, time.Minute, func(dropped int64, err error) {
		if err != nil {
			log.Warn("could not release the program's start-up pages", "err", err)
			return
		}
		log.Info("released the program's start-up pages", "resident_MB", dropped>>20)
	})
	log.Info("outpost server started", "node", cfg.NodeName, "ip", cfg.NodeIP,
		"kubeconfig", filepath.Join(cfg.DataDir, "kubeconfig"), "since_start", time.Since(start).Round(time.Millisecond))
	select {
	case <-ctx.Done():
		log.Info("shutting down", "reason", context.Cause(ctx))
		cancel()
		s.wait(15 * time.Second)
		return nil
	case err := <-s.exited:
		// The kubelet watches SIGTERM itself and may stop a moment before
		// this process sees the same signal: not a failure.
		select {
		case <-ctx.Done():
			log.Info("shutting down", "reason", context.Cause(ctx))
			cancel()
			s.wait(15 * time.Second)
			return nil
		case <-time.After(2 * time.Second):
		}
		log.Error("a component failed; shutting down", "err", err)
		cancel()
		s.wait(15 * time.Second)
		return err
	}
}

// supervisor tracks the goroutines of Run.
type supervisor struct {
	log    *slog.Logger
	wg     sync.WaitGroup
	exited chan error
}

// goRun runs fn; an error from it becomes a shutdown request. A nil return
// means the task is done (one-shot tasks) or ctx ended.
func (s *supervisor) goRun(name string, fn func() error) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := fn(); err != nil && !errors.Is(err, context.Canceled) {
			s.exited <- fmt.Errorf("%s: %w", name, err)
		}
	}()
}

func (s *supervisor) wait(grace time.Duration) {
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
		s.log.Warn("components still stopping after grace period; exiting anyway")
	}
}

// waitFor polls cond until it holds, a component fails, or ctx ends.
func (s *supervisor) waitFor(ctx context.Context, what string, cond func() bool) error {
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-s.exited:
			return fmt.Errorf("waiting for %s: %w", what, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
	return nil
}

func (s *supervisor) waitChan(ctx context.Context, what string, ch <-chan struct{}) error {
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case err := <-s.exited:
		return fmt.Errorf("waiting for %s: %w", what, err)
	}
}

// waitControllersBuilt waits until the controller-manager's /healthz lists
// its controllers' checks, which it registers once every controller is
// built. After 60 s it gives up with a warning, so a controller-manager
// configured in an unexpected way delays the node but never stops it.
func waitControllersBuilt(ctx context.Context, log *slog.Logger, port string, start time.Time) {
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		// Loopback, self-signed serving certificate; /healthz is public.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	defer hc.CloseIdleConnections()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := hc.Get("https://127.0.0.1:" + port + "/healthz?verbose"); err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			if strings.Contains(string(body), "-controller ok") {
				log.Info("component ready", "component", kube.ControllerManager, "since_start", time.Since(start).Round(time.Millisecond))
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
	log.Warn("kube-controller-manager did not list its controllers within 60s; starting the kubelet anyway", "port", port)
}

func apiserverReady(ctx context.Context, client kubernetes.Interface) bool {
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	body, err := client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(rctx)
	return err == nil && string(body) == "ok"
}

func waitPodCIDR(ctx context.Context, client kubernetes.Interface, nodeName string) (string, error) {
	for {
		n, err := client.CoreV1().Nodes().Get(ctx, nodeName, metav1.GetOptions{})
		if err == nil && n.Spec.PodCIDR != "" {
			return n.Spec.PodCIDR, nil
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// publishKubeconfig copies the admin kubeconfig to <data-dir>/kubeconfig,
// where `outpost kubectl` and users find it.
func publishKubeconfig(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("reading admin kubeconfig: %w", err)
	}
	return fsutil.WriteFileAtomic(dst, data, 0o600)
}
