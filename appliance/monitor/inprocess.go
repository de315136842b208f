package monitor

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// Scrape pools of the in-process metric sources and of annotated pods.
const (
	jobMonitor   = "outpost-monitor"
	jobNode      = "node"
	jobKubeState = "kube-state-metrics"
	jobOutpost   = "outpost"
	jobPods      = "kubernetes-pods"
)

func isReservedJob(name string) bool {
	switch name {
	case jobMonitor, jobNode, jobKubeState, jobOutpost, jobPods:
		return true
	}
	return false
}

// inProcessAddr is the scrape address of metric sources inside this
// process. Scrapes of it never touch the network: the scrape client's dialer
// hands them to an in-memory listener, so Prometheus's scrape code (target
// health, staleness, limits) applies to them without opening a port.
const inProcessAddr = "outpost-in-process:80"

// memListener is a net.Listener whose connections are in-memory pipes.
type memListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newMemListener() *memListener {
	return &memListener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *memListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *memListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *memListener) Addr() net.Addr { return memAddr{} }

// dial connects to the listener.
func (l *memListener) dial(ctx context.Context) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.closed:
		return nil, errors.New("in-process metrics server is stopped")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type memAddr struct{}

func (memAddr) Network() string { return "memory" }
func (memAddr) String() string  { return inProcessAddr }

// dialContext routes inProcessAddr to the listener and everything else to
// the network, for the scrape manager's HTTP clients.
func (l *memListener) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if addr == inProcessAddr {
		return l.dial(ctx)
	}
	d := net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	return d.DialContext(ctx, network, addr)
}

// serveInProcess serves h on l until ctx is done.
func serveInProcess(ctx context.Context, l *memListener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		l.Close()
		_ = srv.Close()
	}()
	_ = srv.Serve(l)
}
