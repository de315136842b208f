package kubetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/outpost-platform/outpost/appliance/datastore"
	"github.com/outpost-platform/outpost/appliance/kube"
	"github.com/outpost-platform/outpost/appliance/pki"
)

// Cluster is a running control plane.
type Cluster struct {
	// Admin reaches the apiserver as system:masters (may impersonate).
	Admin *rest.Config
	// Dir is the data directory (pki/, db/, logs/).
	Dir    string
	cancel context.CancelFunc
}

// Start runs a control plane under dir until Stop. The apiserver and
// controller-manager register process-wide state, so a test binary can start
// only one: call it from TestMain.
func Start(dir string) (*Cluster, error) {
	ctx, cancel := context.WithCancel(context.Background())
	c := &Cluster{Dir: dir, cancel: cancel}
	fail := func(err error) (*Cluster, error) {
		cancel()
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return fail(err)
	}
	// The apiserver refuses to advertise a loopback address.
	nodeIP, err := hostIP()
	if err != nil {
		return fail(err)
	}
	files, err := pki.Ensure(pki.Options{Dir: filepath.Join(dir, "pki"), NodeName: "test-node", NodeIP: nodeIP,
		APIServiceIP: net.ParseIP("10.43.0.1"), ClusterDomain: "cluster.local", APIServerPort: port})
	if err != nil {
		return fail(fmt.Errorf("creating test PKI: %w", err))
	}
	endpoint, err := datastore.Start(ctx, datastore.Config{Kind: "sqlite", Dir: filepath.Join(dir, "db"), SocketPath: filepath.Join(dir, "kine.sock")})
	if err != nil {
		return fail(err)
	}
	cfg := &kube.Config{DataDir: dir, NodeName: "test-node", NodeIP: nodeIP.String(), ClusterCIDR: "10.42.0.0/16", ServiceCIDR: "10.43.0.0/16",
		ClusterDNS: "10.43.0.10", ClusterDomain: "cluster.local", APIServerPort: port, PKI: files, DatastoreEndpoint: endpoint,
		// Port 0: no fixed ports that a server on this host may hold.
		ControllerManagerArgs: []string{"--secure-port=0"}}
	if err := kube.WriteConfigFiles(cfg); err != nil {
		return fail(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	exited := make(chan error, 2)
	apiFlags := kube.APIServerFlags(cfg)
	kube.Start(ctx, log, kube.APIServer, apiFlags.Args(), exited)
	c.Admin, err = clientcmd.BuildConfigFromFlags("", files.AdminKubeconfig)
	if err != nil {
		return fail(err)
	}
	cs, err := kubernetes.NewForConfig(c.Admin)
	if err != nil {
		return fail(err)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err == nil && string(body) == "ok" {
			break
		}
		select {
		case err := <-exited:
			return fail(err)
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fail(errors.New("the test apiserver did not become ready within 3 minutes"))
		}
	}
	cmFlags := kube.ControllerManagerFlags(cfg)
	kube.Start(ctx, log, kube.ControllerManager, cmFlags.Args(), exited)
	go func() {
		if err := <-exited; err != nil && ctx.Err() == nil {
			fmt.Fprintln(os.Stderr, "kubetest: component exited:", err)
		}
	}()
	return c, nil
}

// Stop ends the control plane.
func (c *Cluster) Stop() { c.cancel() }

// hostIP returns the first global unicast IPv4 address of this host.
func hostIP() (net.IP, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("listing host addresses: %w", err)
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && ipn.IP.IsGlobalUnicast() {
			return ipn.IP.To4(), nil
		}
	}
	return nil, errors.New("the host has no global IPv4 address for the test apiserver to advertise")
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
