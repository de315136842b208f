package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/prometheus/prometheus/model/labels"
)

// series is one synthetic series: its labels and how its value moves at
// each 15 s scrape.
type series struct {
	l    labels.Labels
	v    float64
	step func(rng *rand.Rand, v float64) float64
}

// A group of series that change together (a histogram's buckets).
type family struct {
	series []*series
	step   func(rng *rand.Rand)
}

func single(s *series) *family {
	return &family{series: []*series{s}, step: func(rng *rand.Rand) { s.v = s.step(rng, s.v) }}
}

const scrapeSeconds = 15.0

// cadvisorPods models what the kubelet's cAdvisor endpoint gives for a pod,
// plus the pod→workload info series: CPU seconds with nanosecond precision
// (a float that changes in every mantissa bit at every scrape), memory in
// pages, network counters in bytes. Workloads have 5 pods in one namespace.
func cadvisorPods(n int, rng *rand.Rand) []*family {
	var out []*family
	for i := 0; i < n; i++ {
		w := i / 5
		ns := "ns-" + strconv.Itoa(w%10)
		workload := fmt.Sprintf("web-%d", w)
		pod := fmt.Sprintf("%s-%05x-%d", workload, rng.Uint32()&0xfffff, i%5)
		uid := fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", rng.Uint32(), rng.Uint32()&0xffff, rng.Uint32()&0xffff, rng.Uint32()&0xffff, rng.Uint64()&0xffffffffffff)
		common := []string{"namespace", ns, "pod", pod, "job", "kubelet", "instance", "10.0.0.5:10250", "node", "edge-1", "metrics_path", "/metrics/cadvisor"}
		ctr := append([]string{"container", "app", "image", "registry.local/" + workload + ":1.4.2",
			"id", "/kubepods/burstable/pod" + uid + "/" + fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64()), "name", fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64())}, common...)
		netl := append([]string{"interface", "eth0", "id", "/kubepods/burstable/pod" + uid}, common...)
		name := func(n string, rest []string) labels.Labels {
			return labels.FromStrings(append([]string{"__name__", n}, rest...)...)
		}
		cpuRate, rxRate, txRate := 0.01+rng.Float64()*0.8, 1e3+rng.Float64()*2e5, 1e3+rng.Float64()*1e5
		out = append(out,
			single(&series{l: name("container_cpu_usage_seconds_total", ctr), step: func(rng *rand.Rand, v float64) float64 {
				return math.Round((v+cpuRate*scrapeSeconds*(0.7+0.6*rng.Float64()))*1e9) / 1e9
			}}),
			single(&series{l: name("container_memory_working_set_bytes", ctr), v: float64((12800 + rng.IntN(250000)) * 4096), step: func(rng *rand.Rand, v float64) float64 {
				if rng.IntN(10) < 3 {
					v = max(4096*1000, v+float64((rng.IntN(513)-256)*4096))
				}
				return v
			}}),
			single(&series{l: name("container_network_receive_bytes_total", netl), step: func(rng *rand.Rand, v float64) float64 {
				return v + math.Round(rxRate*scrapeSeconds*(0.5+rng.Float64()))
			}}),
			single(&series{l: name("container_network_transmit_bytes_total", netl), step: func(rng *rand.Rand, v float64) float64 {
				return v + math.Round(txRate*scrapeSeconds*(0.5+rng.Float64()))
			}}),
			single(&series{l: labels.FromStrings("__name__", "outpost_pod_workload_info", "namespace", ns, "pod", pod, "workload", workload,
				"workload_type", "deployment", "job", "kube-state-metrics", "instance", "edge-1"), v: 1, step: func(_ *rand.Rand, v float64) float64 { return v }}),
		)
	}
	return out
}

// zipfRate is the request rate of one (verb, resource) histogram family:
// an appliance's apiserver serves about 20 requests/s in all (leases,
// status updates, watches of a handful of workloads) spread over about 400
// label combinations with Zipf weights, so the busiest family sees about
// 3/s and most see a request every few minutes.
func zipfRate(rng *rand.Rand) float64 {
	const families, total = 400, 20.0
	h := 0.0
	for k := 1; k <= families; k++ {
		h += 1 / float64(k)
	}
	return total / (float64(1+rng.IntN(families)) * h)
}

func poisson(rng *rand.Rand, lambda float64) int {
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// histograms models a control-plane request-duration histogram (the bulk
// of what the apiserver, kubelet, scheduler and controller-manager
// expose): 12 cumulative buckets, _sum and _count, at a low request rate.
func histograms(n int, rng *rand.Rand) []*family {
	bounds := []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, math.Inf(1)}
	verbs := []string{"GET", "LIST", "WATCH", "PATCH", "POST", "PUT", "DELETE"}
	var out []*family
	for i := 0; i < n; i++ {
		base := []string{"job", "apiserver", "instance", "127.0.0.1:6443", "node", "edge-1", "verb", verbs[i%len(verbs)],
			"resource", "resource-" + strconv.Itoa(i), "group", "apps", "version", "v1", "scope", "namespace", "component", "apiserver"}
		f := &family{}
		for _, b := range bounds {
			le := strconv.FormatFloat(b, 'g', -1, 64)
			if math.IsInf(b, 1) {
				le = "+Inf"
			}
			f.series = append(f.series, &series{l: labels.FromStrings(append([]string{"__name__", "apiserver_request_duration_seconds_bucket", "le", le}, base...)...)})
		}
		sum := &series{l: labels.FromStrings(append([]string{"__name__", "apiserver_request_duration_seconds_sum"}, base...)...)}
		count := &series{l: labels.FromStrings(append([]string{"__name__", "apiserver_request_duration_seconds_count"}, base...)...)}
		f.series = append(f.series, sum, count)
		rate := zipfRate(rng)
		median := 0.005 + rng.Float64()*0.1
		f.step = func(rng *rand.Rand) {
			for k := poisson(rng, rate*scrapeSeconds); k > 0; k-- {
				d := median * math.Exp(rng.NormFloat64()*0.8)
				for j, b := range bounds {
					if d <= b {
						f.series[j].v++
					}
				}
				sum.v += d
				count.v++
			}
		}
		out = append(out, f)
	}
	return out
}

// states models object-state and info series: constant, rarely changing.
func states(n int, rng *rand.Rand) []*family {
	var out []*family
	for i := 0; i < n; i++ {
		v := float64(rng.IntN(4))
		out = append(out, single(&series{l: labels.FromStrings("__name__", "kube_deployment_status_replicas_available", "namespace", "ns-"+strconv.Itoa(i%10),
			"deployment", "app-"+strconv.Itoa(i), "job", "kube-state-metrics", "instance", "edge-1"), v: v, step: func(rng *rand.Rand, v float64) float64 {
			if rng.IntN(2000) == 0 {
				return float64(rng.IntN(4))
			}
			return v
		}}))
	}
	return out
}

// nodeSeries models what node metrics give for a host, series by series:
// CPU seconds per CPU and mode in USER_HZ (idle, user and system move every
// scrape, the rest rarely), memory fields in kB, filesystems (the root one
// changes every scrape, others seldom), network and disk counters, load
// averages with two decimals, and constants (sizes, info, boot time).
func nodeSeries(n int, rng *rand.Rand) []*family {
	var out []*family
	add := func(name string, v float64, step func(*rand.Rand, float64) float64, kv ...string) {
		l := labels.FromStrings(append([]string{"__name__", name, "job", "node", "instance", "edge-1", "node", "edge-1"}, kv...)...)
		out = append(out, single(&series{l: l, v: v, step: step}))
	}
	counter := func(rate, resolution float64) func(*rand.Rand, float64) float64 {
		return func(rng *rand.Rand, v float64) float64 {
			return v + math.Round(rate*scrapeSeconds*(0.5+rng.Float64())/resolution)*resolution
		}
	}
	constant := func(_ *rand.Rand, v float64) float64 { return v }
	sometimes := func(p, delta float64) func(*rand.Rand, float64) float64 {
		return func(rng *rand.Rand, v float64) float64 {
			if rng.Float64() < p {
				return v + math.Round(rng.NormFloat64()*delta/4096)*4096
			}
			return v
		}
	}
	for host := 0; len(out) < n; host++ {
		for cpu := 0; cpu < 4; cpu++ {
			for mode, rate := range map[string]float64{"idle": 0.7, "user": 0.2, "system": 0.08, "iowait": 0.01, "softirq": 0.005, "irq": 0.0005, "nice": 0, "steal": 0} {
				add("node_cpu_seconds_total", 1e5*rng.Float64(), counter(rate, 0.01), "cpu", strconv.Itoa(cpu), "mode", mode, "host", strconv.Itoa(host))
			}
		}
		for _, f := range []string{"MemFree", "MemAvailable", "Cached", "Buffers", "Active", "Inactive", "Dirty", "AnonPages", "Slab", "Shmem"} {
			add("node_memory_"+f+"_bytes", float64(rng.IntN(1<<22))*1024, func(rng *rand.Rand, v float64) float64 {
				return max(0, v+float64((rng.IntN(2001)-1000)*1024))
			}, "host", strconv.Itoa(host))
		}
		for _, f := range []string{"MemTotal", "SwapTotal", "SwapFree"} {
			add("node_memory_"+f+"_bytes", float64(rng.IntN(1<<22))*1024, constant, "host", strconv.Itoa(host))
		}
		for fs, mp := range []string{"/", "/boot", "/var/lib/outpost", "/home", "/data", "/run"} {
			p := 0.02
			if fs == 0 || fs == 2 {
				p = 1
			}
			kv := []string{"mountpoint", mp, "device", "/dev/sda" + strconv.Itoa(fs), "fstype", "ext4", "host", strconv.Itoa(host)}
			add("node_filesystem_avail_bytes", float64(rng.IntN(1<<24))*4096, sometimes(p, 1<<20), kv...)
			add("node_filesystem_free_bytes", float64(rng.IntN(1<<24))*4096, sometimes(p, 1<<20), kv...)
			add("node_filesystem_size_bytes", float64(1<<24)*4096, constant, kv...)
			add("node_filesystem_files_free", float64(rng.IntN(1<<20)), sometimes(p/2, 4096*20), kv...)
			add("node_filesystem_files", float64(1<<20), constant, kv...)
			add("node_filesystem_readonly", 0, constant, kv...)
		}
		for dev, rate := range map[string]float64{"eth0": 2e5, "lo": 2e4, "cni0": 5e4} {
			for _, m := range []string{"receive", "transmit"} {
				add("node_network_"+m+"_bytes_total", 0, counter(rate, 1), "device", dev, "host", strconv.Itoa(host))
				add("node_network_"+m+"_packets_total", 0, counter(rate/800, 1), "device", dev, "host", strconv.Itoa(host))
				add("node_network_"+m+"_errs_total", 0, constant, "device", dev, "host", strconv.Itoa(host))
				add("node_network_"+m+"_drop_total", 0, sometimes(0.001, 4096), "device", dev, "host", strconv.Itoa(host))
			}
		}
		for _, m := range []struct {
			name       string
			rate, unit float64
		}{{"reads_completed_total", 5, 1}, {"writes_completed_total", 20, 1}, {"read_bytes_total", 2e5, 512}, {"written_bytes_total", 1e6, 512},
			{"read_time_seconds_total", 0.01, 0.001}, {"write_time_seconds_total", 0.05, 0.001}, {"io_time_seconds_total", 0.03, 0.001}} {
			add("node_disk_"+m.name, 0, counter(m.rate, m.unit), "device", "sda", "host", strconv.Itoa(host))
		}
		for _, l := range []string{"node_load1", "node_load5", "node_load15"} {
			add(l, 1, func(rng *rand.Rand, v float64) float64 { return math.Round(max(0, v+rng.NormFloat64()*0.05)*100) / 100 }, "host", strconv.Itoa(host))
		}
		add("node_boot_time_seconds", 1.7e9, constant, "host", strconv.Itoa(host))
		add("node_uname_info", 1, constant, "host", strconv.Itoa(host), "release", "6.1.0-27-amd64")
		add("node_procs_running", 2, func(rng *rand.Rand, _ float64) float64 { return float64(1 + rng.IntN(4)) }, "host", strconv.Itoa(host))
	}
	return out[:n]
}

// applianceMix is the mix of series a small single-node appliance stores:
// control-plane histograms dominate (apiserver request/latency histograms
// alone are thousands of series), then cAdvisor, object state and node
// series. Weights by series: 60 % histograms, 20 % cAdvisor, 15 % state,
// 5 % node.
func applianceMix(total int, rng *rand.Rand) []*family {
	var out []*family
	out = append(out, histograms(total*60/100/14, rng)...)
	out = append(out, cadvisorPods(total*20/100/5, rng)...)
	out = append(out, states(total*15/100, rng)...)
	out = append(out, nodeSeries(total*5/100, rng)...)
	return out
}

func countSeries(fs []*family) int {
	n := 0
	for _, f := range fs {
		n += len(f.series)
	}
	return n
}
