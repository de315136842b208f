//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const testImage = "outpost.local/test/http:1.0"

// TestSingleNodeCluster brings up a real single-node cluster and checks what
// a user relies on, then restarts it and finally resets the host.
func TestSingleNodeCluster(t *testing.T) {
	runClusterScenario(t, "")
}

// TestSingleNodeClusterOffline runs the same scenario in a network namespace
// with no default route and no reachable DNS server: nothing may depend on
// the outside world.
func TestSingleNodeClusterOffline(t *testing.T) {
	ns := fmt.Sprintf("outpost-e2e-%d", os.Getpid())
	run := func(args ...string) {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	run("-n", ns, "link", "set", "lo", "up")
	// One interface with an address so the node has an IP, and no route
	// anywhere beyond its own /30: no default route, no DNS server.
	run("link", "add", "op-e2e-h", "type", "veth", "peer", "name", "op-e2e-n")
	t.Cleanup(func() { exec.Command("ip", "link", "del", "op-e2e-h").Run() })
	run("link", "set", "op-e2e-n", "netns", ns)
	run("-n", ns, "addr", "add", "198.51.100.2/30", "dev", "op-e2e-n")
	run("-n", ns, "link", "set", "op-e2e-n", "up")
	if out, _ := exec.Command("ip", "-n", ns, "route", "show", "default").Output(); len(out) != 0 {
		t.Fatalf("namespace has a default route: %s", out)
	}
	runClusterScenario(t, ns)
}

func runClusterScenario(t *testing.T, netns string) {
	if os.Geteuid() != 0 {
		t.Skip("the end-to-end test runs a real kubelet and containerd and needs root")
	}
	artifacts := os.Getenv("OUTPOST_E2E_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	}
	os.MkdirAll(artifacts, 0o755)
	name := "host"
	if netns != "" {
		name = "offline"
	}
	dataDir, err := os.MkdirTemp("/var/lib", "outpost-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, bin: binary(t), dataDir: dataDir, netns: netns,
		logPath: filepath.Join(artifacts, "server-"+name+".log"),
		args:    []string{"--node-name", "e2e-" + name, "--disable", "console"}}
	// The host-network run has monitoring with alerts to a local webhook
	// (configured in the YAML file); the offline run has it disabled.
	monitoring := netns == ""
	var hook *webhook
	if monitoring {
		hook = startWebhook(t)
		s.config = monitoringConfig(t, hook)
	} else {
		s.args = append(s.args, "--disable", "monitoring")
	}
	t.Cleanup(func() {
		s.stop()
		s.command(s.bin, "reset", "--data-dir", dataDir, "--purge", "--force").Run()
	})

	started := time.Now()
	s.start()
	node := "e2e-" + name
	s.eventually("node Ready", 3*time.Minute, func() error {
		out, err := s.kubectl("get", "node", node, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
		if err != nil || out != "True" {
			return fmt.Errorf("ready=%q err=%v", out, err)
		}
		return nil
	})
	t.Logf("node Ready %s after start", time.Since(started).Round(time.Second))
	s.eventually("CoreDNS Ready", 3*time.Minute, func() error {
		out, err := s.kubectl("-n", "kube-system", "get", "deploy", "coredns", "-o", "jsonpath={.status.readyReplicas}")
		if err != nil || out != "1" {
			return fmt.Errorf("ready replicas=%q err=%v", out, err)
		}
		return nil
	})
	if monitoring {
		// Started early so its crash loop overlaps the next steps.
		s.mustKubectl("run", "crasher", "--image="+testImage, "--restart=Always", "--command", "--", "/http", "crash", "1")
	}

	t.Run("deployment and service by DNS name", func(t *testing.T) {
		defer s.use(t)()
		s.mustKubectl("create", "deployment", "web", "--image="+testImage, "--replicas=2", "--port=8080")
		s.mustKubectl("expose", "deployment", "web", "--port=8080")
		s.eventually("web rolled out", 3*time.Minute, func() error {
			out, err := s.kubectl("get", "deploy", "web", "-o", "jsonpath={.status.readyReplicas}")
			if err != nil || out != "2" {
				return fmt.Errorf("ready replicas=%q err=%v", out, err)
			}
			return nil
		})
		s.mustKubectl("run", "client", "--image="+testImage, "--restart=Never", "--command", "--", "/http", "sleep")
		s.eventually("client running", 2*time.Minute, func() error {
			out, err := s.kubectl("get", "pod", "client", "-o", "jsonpath={.status.phase}")
			if err != nil || out != "Running" {
				return fmt.Errorf("phase=%q err=%v", out, err)
			}
			return nil
		})
		s.eventually("service answers by DNS name", time.Minute, func() error {
			out, err := s.kubectl("exec", "client", "--", "/http", "get", "http://web.default.svc.cluster.local:8080/")
			if err != nil || !strings.Contains(out, "hello from web-") {
				return fmt.Errorf("got %q, %v", out, err)
			}
			return nil
		})
	})

	t.Run("persistent volume outlives its pod", func(t *testing.T) {
		defer s.use(t)()
		s.apply(`apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 64Mi}}
`)
		s.apply(podWithVolume("writer", "write", "/data/greeting", "kept across pods"))
		s.waitPodPhase("writer", "Succeeded")
		if out := s.mustKubectl("get", "pvc", "data", "-o", "jsonpath={.status.phase}"); out != "Bound" {
			t.Fatalf("pvc phase %q", out)
		}
		s.mustKubectl("delete", "pod", "writer", "--wait=true")
		s.apply(podWithVolume("reader", "read", "/data/greeting", ""))
		s.waitPodPhase("reader", "Succeeded")
		if out := s.mustKubectl("logs", "reader"); !strings.Contains(out, "kept across pods") {
			t.Fatalf("reader got %q", out)
		}
	})

	t.Run("kubectl top", func(t *testing.T) {
		defer s.use(t)()
		s.eventually("node metrics", 3*time.Minute, func() error {
			out, err := s.kubectl("top", "node", "--no-headers")
			if err != nil || !strings.Contains(out, node) {
				return fmt.Errorf("%q %v", out, err)
			}
			return nil
		})
		s.eventually("pod metrics", 2*time.Minute, func() error {
			out, err := s.kubectl("top", "pod", "-n", "kube-system", "--no-headers")
			if err != nil || !strings.Contains(out, "coredns-") {
				return fmt.Errorf("%q %v", out, err)
			}
			return nil
		})
	})

	if monitoring {
		t.Run("monitoring has the test pods' usage by workload", func(t *testing.T) {
			defer s.use(t)()
			s.eventually("container CPU and memory of the web pods", 3*time.Minute, func() error {
				for _, q := range []string{
					`sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="default",pod=~"web-.*",container!=""}[1m]))`,
					`sum by (pod) (container_memory_working_set_bytes{namespace="default",pod=~"web-.*",container!=""})`,
					// The console's workload charts: recording rules by workload.
					`namespace_workload:container_cpu_usage_seconds:rate{namespace="default",workload="web",workload_type="deployment"}`,
					`namespace_workload:container_memory_working_set:bytes{namespace="default",workload="web",workload_type="deployment"}`,
					`namespace_workload:container_network_receive_bytes:rate{namespace="default",workload="web",workload_type="deployment"}`,
				} {
					if n, err := promQuery(q, time.Time{}); err != nil || n < 1 || (strings.HasPrefix(q, "sum by (pod)") && n < 2) {
						return fmt.Errorf("%s: %d series, %v", q, n, err)
					}
				}
				return nil
			})
		})
		t.Run("crash-looping pod alerts the webhook, then resolves", func(t *testing.T) {
			defer s.use(t)()
			s.eventually("KubePodCrashLooping firing at the webhook", 9*time.Minute, func() error {
				if !hook.alert("KubePodCrashLooping", "crasher", "firing") {
					return fmt.Errorf("%s", hook.summary())
				}
				return nil
			})
			s.mustKubectl("delete", "pod", "crasher", "--wait=true")
			s.eventually("KubePodCrashLooping resolved at the webhook", 3*time.Minute, func() error {
				if !hook.alert("KubePodCrashLooping", "crasher", "resolved") {
					return fmt.Errorf("%s", hook.summary())
				}
				return nil
			})
		})
	} else {
		t.Run("disabled monitoring leaves no trace", func(t *testing.T) {
			defer s.use(t)()
			checkMonitoringLeftNoTrace(t, s)
		})
	}

	t.Run("bundle import then a pod by its upstream reference", func(t *testing.T) {
		defer s.use(t)()
		bundleScenario(t, s)
	})

	t.Run("restart keeps pods and data", func(t *testing.T) {
		defer s.use(t)()
		before := s.mustKubectl("get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].metadata.uid}")
		beforeStop := time.Now().Add(-10 * time.Second)
		s.stop()
		s.start()
		s.eventually("node Ready after restart", 3*time.Minute, func() error {
			out, err := s.kubectl("get", "node", node, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
			if err != nil || out != "True" {
				return fmt.Errorf("ready=%q err=%v", out, err)
			}
			return nil
		})
		s.eventually("web ready after restart", 3*time.Minute, func() error {
			out, err := s.kubectl("get", "deploy", "web", "-o", "jsonpath={.status.readyReplicas}")
			if err != nil || out != "2" {
				return fmt.Errorf("ready replicas=%q err=%v", out, err)
			}
			return nil
		})
		after := s.mustKubectl("get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].metadata.uid}")
		if before != after {
			t.Errorf("pods replaced by restart: %q -> %q", before, after)
		}
		if monitoring {
			// Samples from before the restart are still there (WAL replay).
			s.eventually("monitoring answers for the time before the restart", 2*time.Minute, func() error {
				q := `container_memory_working_set_bytes{namespace="default",pod=~"web-.*",container!=""}`
				if n, err := promQuery(q, beforeStop); err != nil || n < 2 {
					return fmt.Errorf("%s at %s: %d series, %v", q, beforeStop.Format(time.TimeOnly), n, err)
				}
				return nil
			})
		}
		s.mustKubectl("delete", "pod", "reader", "--wait=true")
		s.apply(podWithVolume("reader2", "read", "/data/greeting", ""))
		s.waitPodPhase("reader2", "Succeeded")
		if out := s.mustKubectl("logs", "reader2"); !strings.Contains(out, "kept across pods") {
			t.Fatalf("after restart reader got %q", out)
		}
	})

	t.Run("SIGTERM then reset leaves nothing behind", func(t *testing.T) {
		defer s.use(t)()
		s.stop()
		out, err := s.command(s.bin, "reset", "--data-dir", dataDir).CombinedOutput()
		if err != nil {
			t.Fatalf("outpost reset: %v\n%s", err, out)
		}
		if procs := processesUsing(dataDir); len(procs) != 0 {
			t.Errorf("processes left after reset: %v", procs)
		}
		if m := mountsUnder(dataDir); len(m) != 0 {
			t.Errorf("mounts left after reset: %v", m)
		}
		link := exec.Command("ip", "link", "show", "cni0")
		if netns != "" {
			link = exec.Command("ip", "-n", netns, "link", "show", "cni0")
		}
		if err := link.Run(); err == nil {
			t.Errorf("cni0 still exists after reset")
		}
		out, err = s.command(s.bin, "reset", "--data-dir", dataDir, "--purge").CombinedOutput()
		if err != nil {
			t.Fatalf("outpost reset --purge: %v\n%s", err, out)
		}
		if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
			t.Errorf("data dir still exists after --purge")
		}
	})
}

func (s *server) apply(manifest string) {
	s.t.Helper()
	f := filepath.Join(s.t.TempDir(), "m.yaml")
	os.WriteFile(f, []byte(manifest), 0o644)
	s.mustKubectl("apply", "-f", f)
}

func (s *server) waitPodPhase(pod, phase string) {
	s.t.Helper()
	s.eventually("pod "+pod+" "+phase, 3*time.Minute, func() error {
		out, err := s.kubectl("get", "pod", pod, "-o", "jsonpath={.status.phase}")
		if err != nil || out != phase {
			return fmt.Errorf("phase=%q err=%v", out, err)
		}
		return nil
	})
}

func podWithVolume(name, verb, file, text string) string {
	args := fmt.Sprintf(`["/http", %q, %q]`, verb, file)
	if text != "" {
		args = fmt.Sprintf(`["/http", %q, %q, %q]`, verb, file, text)
	}
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: %s
    command: %s
    volumeMounts: [{name: data, mountPath: /data}]
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: data}
`, name, testImage, args)
}
