// Command consolebench measures the console API under load: 50 concurrent
// users (each with its own browser session) reading a project of 500 pods,
// beside the same pod list read directly from the apiserver by the same
// number of clients. It starts its own control plane (clustertest: no
// kubelet, so the pods stay Pending, which does not change what the API
// serves) and console, prints the figures and exits.
//
//	go run ./appliance/console/clustertest/consolebench [-users 50] [-pods 500] [-duration 30s]
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/outpost-platform/outpost/appliance/console"
	"github.com/outpost-platform/outpost/appliance/console/identity"
	"github.com/outpost-platform/outpost/appliance/console/tenancy"
	"github.com/outpost-platform/outpost/appliance/kube/kubetest"
	"github.com/outpost-platform/outpost/appliance/state"
)

func main() {
	users := flag.Int("users", 50, "concurrent console users")
	pods := flag.Int("pods", 500, "pods in the project (deployments of 10 replicas)")
	duration := flag.Duration("duration", 30*time.Second, "measuring time per scenario")
	image := flag.String("image", "registry.local/outpost/testhttp:1", "image of the pods")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the measuring phase to this file")
	flag.DurationVar(&think, "think", time.Second, "pause of a paced user between two requests")
	flag.Parse()
	profile = *cpuProfile
	if err := run(*users, *pods, *duration, *image); err != nil {
		fmt.Fprintln(os.Stderr, "consolebench:", err)
		os.Exit(1)
	}
}

func run(users, pods int, duration time.Duration, image string) error {
	dir, err := os.MkdirTemp("", "consolebench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Println("starting control plane and console...")
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := console.DefaultConfig(dir)
	cfg.Listen, cfg.MonitoringURL = addr, ""
	// The production argon2 cost: logins are part of what users do, but
	// they happen once per user here, before measuring.
	c, err := console.New(cfg, console.Deps{DB: db, Kube: cluster.Admin, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Run(ctx)

	admin, err := kubernetes.NewForConfig(cluster.Admin)
	if err != nil {
		return err
	}
	const project = "bench"
	store, err := identity.NewStore(db.DB, identity.Options{})
	if err != nil {
		return err
	}
	ten := tenancy.NewStore(db.DB, nil)
	if _, err := ten.CreateWorkspace(ctx, "bench", ""); err != nil {
		return err
	}
	if _, err := ten.CreateProject(ctx, "bench", project, ""); err != nil {
		return err
	}
	names := make([]string, users)
	for i := range names {
		names[i] = fmt.Sprintf("user%02d", i)
		u, err := store.CreateLocal(ctx, identity.NewLocalUser{Name: names[i], Password: names[i] + "-password"})
		if err != nil {
			return err
		}
		role := tenancy.RoleViewer
		if i%5 == 0 {
			role = tenancy.RoleOperator
		}
		if err := ten.SetBinding(ctx, tenancy.Binding{UserID: u.ID, Scope: tenancy.ScopeProject, ScopeName: project, Role: role}); err != nil {
			return err
		}
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, "pki", "ca.crt"))
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	transport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: 4 * users}
	base := "https://" + addr + "/api/v1"
	waitFor(func() bool {
		resp, err := (&http.Client{Transport: transport}).Get("https://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})

	fmt.Printf("creating %d pods...\n", pods)
	// The namespace and RBAC come from the console's project sync.
	waitFor(func() bool {
		_, err := admin.CoreV1().Namespaces().Get(ctx, project, metav1.GetOptions{})
		return err == nil
	})
	replicas := int32(10)
	for i := 0; i < (pods+9)/10; i++ {
		name := fmt.Sprintf("app-%02d", i)
		labels := map[string]string{"app.kubernetes.io/name": name}
		_, err := admin.AppsV1().Deployments(project).Create(ctx, &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
			Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}}}}}, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("creating deployment %s: %w", name, err)
		}
	}
	clients := make([]*http.Client, users)
	for i, n := range names {
		jar, _ := cookiejar.New(nil)
		clients[i] = &http.Client{Jar: jar, Transport: transport}
		body, _ := json.Marshal(map[string]string{"username": n, "password": n + "-password"})
		resp, err := clients[i].Post(base+"/auth/login", "application/json", bytes.NewReader(body))
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("login of %s: %s", n, resp.Status)
		}
	}
	waitFor(func() bool {
		var list struct{ Items []json.RawMessage }
		if getJSON(clients[0], base+"/projects/"+project+"/pods", &list) != nil {
			return false
		}
		fmt.Printf("\r  console sees %d pods", len(list.Items))
		return len(list.Items) >= pods
	})
	fmt.Println()

	// What a console page load asks for, in the proportions the UI does.
	paths := []string{
		"/projects/" + project + "/workloads",
		"/projects/" + project + "/pods",
		"/projects/" + project + "/workloads/deployments/app-07",
		"/projects/" + project + "/events",
		"/projects/" + project + "/resources/services",
		"/auth/session",
		"/projects",
	}
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	// Users read a page, look at it, and move on: a request then a pause
	// of think time, as a person does.
	fmt.Printf("measuring the console: %d users with %s think time, %s\n", users, think, duration)
	pagedLat, pagedErr := load(users, duration, think, func(i, n int) error {
		return getJSON(clients[i], base+paths[n%len(paths)], nil)
	})
	report("console API, paced users", pagedLat, pagedErr, duration)
	fmt.Printf("measuring the console: %d users without pause (saturation), %s\n", users, duration)
	consoleLat, consoleErr := load(users, duration, 0, func(i, n int) error {
		return getJSON(clients[i], base+paths[n%len(paths)], nil)
	})
	report("console API, no pause", consoleLat, consoleErr, duration)

	fmt.Printf("measuring the apiserver directly: %d clients listing the project's pods, %s\n", users, duration)
	direct := make([]kubernetes.Interface, users)
	for i := range direct {
		rc := rest.CopyConfig(cluster.Admin)
		rc.QPS, rc.Burst = 1000, 1000
		rc.Impersonate = rest.ImpersonationConfig{UserName: "outpost:" + names[i], Groups: []string{tenancy.ProjectGroup(project, tenancy.RoleViewer)}}
		if direct[i], err = kubernetes.NewForConfig(rc); err != nil {
			return err
		}
	}
	apiLat, apiErr := load(users, duration, 0, func(i, _ int) error {
		_, err := direct[i].CoreV1().Pods(project).List(ctx, metav1.ListOptions{})
		return err
	})
	report("apiserver LIST pods (no cache)", apiLat, apiErr, duration)
	podsOnly, podsErr := load(users, duration, 0, func(i, _ int) error {
		return getJSON(clients[i], base+"/projects/"+project+"/pods", nil)
	})
	report("console GET pods (same data)", podsOnly, podsErr, duration)
	return nil
}

// profile is the -cpuprofile file; think the -think pause.
var (
	profile string
	think   time.Duration
)

func waitFor(cond func() bool) {
	for !cond() {
		time.Sleep(200 * time.Millisecond)
	}
}

func getJSON(c *http.Client, url string, out any) error {
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// load runs fn from n workers for d, each pausing between calls, and
// returns every call's latency (pauses excluded).
func load(n int, d, pause time.Duration, fn func(worker, iteration int) error) ([]time.Duration, int) {
	var mu sync.Mutex
	var all []time.Duration
	errs := 0
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var mine []time.Duration
			bad := 0
			// People do not click in step: start at a random moment and
			// pause between half and one and a half times the think time.
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			if pause > 0 {
				time.Sleep(time.Duration(rng.Int64N(int64(pause))))
			}
			for i := w; time.Now().Before(deadline); i++ {
				start := time.Now()
				if err := fn(w, i); err != nil {
					bad++
				}
				mine = append(mine, time.Since(start))
				if pause > 0 {
					time.Sleep(pause/2 + time.Duration(rng.Int64N(int64(pause))))
				}
			}
			mu.Lock()
			all = append(all, mine...)
			errs += bad
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	return all, errs
}

func report(name string, lat []time.Duration, errs int, d time.Duration) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	fmt.Printf("%-32s requests %6d (%5.0f/s)  errors %d  p50 %6.1f ms  p95 %6.1f ms  p99 %6.1f ms  max %6.1f ms\n",
		name, len(lat), float64(len(lat))/d.Seconds(), errs, ms(q(0.50)), ms(q(0.95)), ms(q(0.99)), ms(q(1)))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
