package nodemetrics

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
	"github.com/prometheus/procfs/blockdevice"
	"golang.org/x/sys/unix"
)

// Options configure a Collector.
type Options struct {
	// ProcPath and SysPath are where procfs and sysfs are mounted.
	// Defaults /proc and /sys; tests point them at fixtures.
	ProcPath string
	SysPath  string
	// CertificateFiles are PEM files or directories of *.crt/*.pem files
	// whose certificates' expiry is exported.
	CertificateFiles []string
	// Volumes maps a name to a directory; the filesystem holding it is
	// exported as outpost_volume_{size,avail}_bytes{volume=name}.
	Volumes map[string]string
	// StatfsTimeout bounds statfs of one mount; a mount that hangs (a
	// dead NFS server) is skipped until it answers. Default 5s.
	StatfsTimeout time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Collector is a prometheus.Collector of host metrics.
type Collector struct {
	opts   Options
	proc   procfs.FS
	block  blockdevice.FS
	hasBlk bool
	logger *slog.Logger

	ignoredFSTypes     *regexp.Regexp
	ignoredMountPoints *regexp.Regexp
	ignoredDisks       *regexp.Regexp

	mu    sync.Mutex
	stuck map[string]bool // mount points whose statfs has not returned

	d descs
}

type descs struct {
	cpu, bootTime, ctxt, intr, forks, procsRunning, procsBlocked              *prometheus.Desc
	load1, load5, load15                                                      *prometheus.Desc
	fsSize, fsFree, fsAvail, fsFiles, fsFilesFree, fsReadonly                 *prometheus.Desc
	diskReads, diskWrites, diskReadBytes, diskWrittenBytes                    *prometheus.Desc
	diskReadTime, diskWriteTime, diskIOTime, diskIOWeighted, diskIOInProgress *prometheus.Desc
	netRxBytes, netTxBytes, netRxPackets, netTxPackets, netRxErrs, netTxErrs  *prometheus.Desc
	netRxDrop, netTxDrop                                                      *prometheus.Desc
	pressureWaiting, pressureStalled                                          *prometheus.Desc
	uname, timeNow, collectorSuccess, certExpiry, volumeSize, volumeAvail     *prometheus.Desc
	memory                                                                    map[string]*prometheus.Desc
}

// New builds a collector; it fails only when /proc cannot be opened.
func New(o Options) (*Collector, error) {
	if o.ProcPath == "" {
		o.ProcPath = "/proc"
	}
	if o.SysPath == "" {
		o.SysPath = "/sys"
	}
	if o.StatfsTimeout == 0 {
		o.StatfsTimeout = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	proc, err := procfs.NewFS(o.ProcPath)
	if err != nil {
		return nil, fmt.Errorf("opening procfs at %s: %w", o.ProcPath, err)
	}
	c := &Collector{
		opts: o, proc: proc, logger: o.Logger, stuck: map[string]bool{},
		// These follow node_exporter's defaults, plus the per-container
		// mounts of kubelet and containerd, which would add a series per pod.
		ignoredFSTypes:     regexp.MustCompile(`^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|erofs|sysfs|tracefs|shm)$`),
		ignoredMountPoints: regexp.MustCompile(`^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)|/kubelet/pods/|/io\.containerd\.|/run/containerd/|/run/netns/`),
		ignoredDisks:       regexp.MustCompile(`^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$`),
	}
	if blk, err := blockdevice.NewFS(o.ProcPath, o.SysPath); err == nil {
		c.block, c.hasBlk = blk, true
	}
	c.d = newDescs()
	return c, nil
}

func newDescs() descs {
	nd := func(subsystem, name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName("node", subsystem, name), help, labels, nil)
	}
	d := descs{
		cpu:              nd("cpu", "seconds_total", "Seconds the CPUs spent in each mode.", "cpu", "mode"),
		bootTime:         nd("", "boot_time_seconds", "Node boot time, in unixtime."),
		ctxt:             nd("", "context_switches_total", "Total number of context switches."),
		intr:             nd("", "intr_total", "Total number of interrupts serviced."),
		forks:            nd("", "forks_total", "Total number of forks."),
		procsRunning:     nd("", "procs_running", "Number of processes in runnable state."),
		procsBlocked:     nd("", "procs_blocked", "Number of processes blocked waiting for I/O to complete."),
		load1:            nd("", "load1", "1m load average."),
		load5:            nd("", "load5", "5m load average."),
		load15:           nd("", "load15", "15m load average."),
		fsSize:           nd("filesystem", "size_bytes", "Filesystem size in bytes.", "device", "fstype", "mountpoint"),
		fsFree:           nd("filesystem", "free_bytes", "Filesystem free space in bytes.", "device", "fstype", "mountpoint"),
		fsAvail:          nd("filesystem", "avail_bytes", "Filesystem space available to non-root users in bytes.", "device", "fstype", "mountpoint"),
		fsFiles:          nd("filesystem", "files", "Filesystem total file nodes.", "device", "fstype", "mountpoint"),
		fsFilesFree:      nd("filesystem", "files_free", "Filesystem total free file nodes.", "device", "fstype", "mountpoint"),
		fsReadonly:       nd("filesystem", "readonly", "Filesystem read-only status.", "device", "fstype", "mountpoint"),
		diskReads:        nd("disk", "reads_completed_total", "The total number of reads completed successfully.", "device"),
		diskWrites:       nd("disk", "writes_completed_total", "The total number of writes completed successfully.", "device"),
		diskReadBytes:    nd("disk", "read_bytes_total", "The total number of bytes read successfully.", "device"),
		diskWrittenBytes: nd("disk", "written_bytes_total", "The total number of bytes written successfully.", "device"),
		diskReadTime:     nd("disk", "read_time_seconds_total", "The total number of seconds spent by all reads.", "device"),
		diskWriteTime:    nd("disk", "write_time_seconds_total", "This is the total number of seconds spent by all writes.", "device"),
		diskIOTime:       nd("disk", "io_time_seconds_total", "Total seconds spent doing I/Os.", "device"),
		diskIOWeighted:   nd("disk", "io_time_weighted_seconds_total", "The weighted # of seconds spent doing I/Os.", "device"),
		diskIOInProgress: nd("disk", "io_now", "The number of I/Os currently in progress.", "device"),
		netRxBytes:       nd("network", "receive_bytes_total", "Network device statistic receive_bytes.", "device"),
		netTxBytes:       nd("network", "transmit_bytes_total", "Network device statistic transmit_bytes.", "device"),
		netRxPackets:     nd("network", "receive_packets_total", "Network device statistic receive_packets.", "device"),
		netTxPackets:     nd("network", "transmit_packets_total", "Network device statistic transmit_packets.", "device"),
		netRxErrs:        nd("network", "receive_errs_total", "Network device statistic receive_errs.", "device"),
		netTxErrs:        nd("network", "transmit_errs_total", "Network device statistic transmit_errs.", "device"),
		netRxDrop:        nd("network", "receive_drop_total", "Network device statistic receive_drop.", "device"),
		netTxDrop:        nd("network", "transmit_drop_total", "Network device statistic transmit_drop.", "device"),
		pressureWaiting:  nd("pressure", "waiting_seconds_total", "Total time in seconds that some processes have waited for the resource (PSI 'some').", "resource"),
		pressureStalled:  nd("pressure", "stalled_seconds_total", "Total time in seconds that no process could make progress for lack of the resource (PSI 'full').", "resource"),
		uname:            nd("uname", "info", "Labeled system information as provided by the uname system call.", "sysname", "release", "version", "machine", "nodename"),
		timeNow:          nd("", "time_seconds", "System time in seconds since epoch (1970)."),
		collectorSuccess: nd("scrape", "collector_success", "Whether a collector succeeded.", "collector"),
		certExpiry: prometheus.NewDesc("outpost_certificate_expiry_timestamp_seconds",
			"When a certificate stops being valid, in unixtime.", []string{"path", "subject", "issuer"}, nil),
		volumeSize: prometheus.NewDesc("outpost_volume_size_bytes",
			"Size of the filesystem holding a named Outpost volume.", []string{"volume", "path"}, nil),
		volumeAvail: prometheus.NewDesc("outpost_volume_avail_bytes",
			"Space available to non-root users on the filesystem holding a named Outpost volume.", []string{"volume", "path"}, nil),
		memory: map[string]*prometheus.Desc{},
	}
	for _, name := range memoryFieldNames() {
		d.memory[name] = nd("memory", name+"_bytes", "Memory information field "+name+"_bytes.")
	}
	return d
}

// memoryFieldNames are the /proc/meminfo fields exported, by their
// node_exporter names.
func memoryFieldNames() []string {
	return []string{"MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "SwapTotal", "SwapFree",
		"Shmem", "Dirty", "Writeback", "Active", "Inactive", "Slab", "SReclaimable", "AnonPages", "Mapped", "Committed_AS"}
}

// Describe sends nothing: the collector is unchecked, because which series
// exist depends on the host (devices, mounts, PSI support).
func (c *Collector) Describe(chan<- *prometheus.Desc) {}

// Collect reads the host's state. A source that fails is reported through
// node_scrape_collector_success and skipped; the others still report.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, sub := range []struct {
		name string
		fn   func(chan<- prometheus.Metric) error
	}{
		{"cpu", c.collectStat}, {"loadavg", c.collectLoad}, {"meminfo", c.collectMemory},
		{"filesystem", c.collectFilesystems}, {"diskstats", c.collectDisks}, {"netdev", c.collectNetwork},
		{"pressure", c.collectPressure}, {"uname", c.collectUname}, {"certificates", c.collectCertificates},
		{"volumes", c.collectVolumes},
	} {
		ok := 1.0
		if err := sub.fn(ch); err != nil {
			ok = 0
			c.logger.Debug("node metrics collector failed", "collector", sub.name, "err", err)
		}
		ch <- prometheus.MustNewConstMetric(c.d.collectorSuccess, prometheus.GaugeValue, ok, sub.name)
	}
	ch <- prometheus.MustNewConstMetric(c.d.timeNow, prometheus.GaugeValue, float64(time.Now().UnixNano())/1e9)
}

func counter(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
}

func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func (c *Collector) collectStat(ch chan<- prometheus.Metric) error {
	st, err := c.proc.Stat()
	if err != nil {
		return fmt.Errorf("reading stat: %w", err)
	}
	for id, cpu := range st.CPU {
		label := strconv.FormatInt(id, 10)
		for mode, v := range map[string]float64{"user": cpu.User, "nice": cpu.Nice, "system": cpu.System, "idle": cpu.Idle,
			"iowait": cpu.Iowait, "irq": cpu.IRQ, "softirq": cpu.SoftIRQ, "steal": cpu.Steal} {
			counter(ch, c.d.cpu, v, label, mode)
		}
	}
	gauge(ch, c.d.bootTime, float64(st.BootTime))
	counter(ch, c.d.ctxt, float64(st.ContextSwitches))
	counter(ch, c.d.intr, float64(st.IRQTotal))
	counter(ch, c.d.forks, float64(st.ProcessCreated))
	gauge(ch, c.d.procsRunning, float64(st.ProcessesRunning))
	gauge(ch, c.d.procsBlocked, float64(st.ProcessesBlocked))
	return nil
}

func (c *Collector) collectLoad(ch chan<- prometheus.Metric) error {
	l, err := c.proc.LoadAvg()
	if err != nil {
		return fmt.Errorf("reading loadavg: %w", err)
	}
	gauge(ch, c.d.load1, l.Load1)
	gauge(ch, c.d.load5, l.Load5)
	gauge(ch, c.d.load15, l.Load15)
	return nil
}

func (c *Collector) collectMemory(ch chan<- prometheus.Metric) error {
	m, err := c.proc.Meminfo()
	if err != nil {
		return fmt.Errorf("reading meminfo: %w", err)
	}
	for name, v := range map[string]*uint64{
		"MemTotal": m.MemTotalBytes, "MemFree": m.MemFreeBytes, "MemAvailable": m.MemAvailableBytes,
		"Buffers": m.BuffersBytes, "Cached": m.CachedBytes, "SwapTotal": m.SwapTotalBytes, "SwapFree": m.SwapFreeBytes,
		"Shmem": m.ShmemBytes, "Dirty": m.DirtyBytes, "Writeback": m.WritebackBytes, "Active": m.ActiveBytes,
		"Inactive": m.InactiveBytes, "Slab": m.SlabBytes, "SReclaimable": m.SReclaimableBytes, "AnonPages": m.AnonPagesBytes,
		"Mapped": m.MappedBytes, "Committed_AS": m.CommittedASBytes,
	} {
		if v != nil {
			gauge(ch, c.d.memory[name], float64(*v))
		}
	}
	return nil
}

func (c *Collector) collectDisks(ch chan<- prometheus.Metric) error {
	if !c.hasBlk {
		return fmt.Errorf("block device stats unavailable")
	}
	stats, err := c.block.ProcDiskstats()
	if err != nil {
		return fmt.Errorf("reading diskstats: %w", err)
	}
	const sector = 512 // /proc/diskstats counts 512-byte sectors whatever the device's
	for _, s := range stats {
		if c.ignoredDisks.MatchString(s.DeviceName) {
			continue
		}
		dev := s.DeviceName
		counter(ch, c.d.diskReads, float64(s.ReadIOs), dev)
		counter(ch, c.d.diskWrites, float64(s.WriteIOs), dev)
		counter(ch, c.d.diskReadBytes, float64(s.ReadSectors*sector), dev)
		counter(ch, c.d.diskWrittenBytes, float64(s.WriteSectors*sector), dev)
		counter(ch, c.d.diskReadTime, float64(s.ReadTicks)/1000, dev)
		counter(ch, c.d.diskWriteTime, float64(s.WriteTicks)/1000, dev)
		counter(ch, c.d.diskIOTime, float64(s.IOsTotalTicks)/1000, dev)
		counter(ch, c.d.diskIOWeighted, float64(s.WeightedIOTicks)/1000, dev)
		gauge(ch, c.d.diskIOInProgress, float64(s.IOsInProgress), dev)
	}
	return nil
}

func (c *Collector) collectNetwork(ch chan<- prometheus.Metric) error {
	nd, err := c.proc.NetDev()
	if err != nil {
		return fmt.Errorf("reading net/dev: %w", err)
	}
	for name, l := range nd {
		counter(ch, c.d.netRxBytes, float64(l.RxBytes), name)
		counter(ch, c.d.netTxBytes, float64(l.TxBytes), name)
		counter(ch, c.d.netRxPackets, float64(l.RxPackets), name)
		counter(ch, c.d.netTxPackets, float64(l.TxPackets), name)
		counter(ch, c.d.netRxErrs, float64(l.RxErrors), name)
		counter(ch, c.d.netTxErrs, float64(l.TxErrors), name)
		counter(ch, c.d.netRxDrop, float64(l.RxDropped), name)
		counter(ch, c.d.netTxDrop, float64(l.TxDropped), name)
	}
	return nil
}

func (c *Collector) collectPressure(ch chan<- prometheus.Metric) error {
	var firstErr error
	for _, res := range []string{"cpu", "memory", "io"} {
		p, err := c.proc.PSIStatsForResource(res)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("reading pressure/%s: %w", res, err)
			}
			continue
		}
		if p.Some != nil {
			counter(ch, c.d.pressureWaiting, float64(p.Some.Total)/1e6, res)
		}
		if p.Full != nil && res != "cpu" { // cpu "full" is not meaningful on most kernels
			counter(ch, c.d.pressureStalled, float64(p.Full.Total)/1e6, res)
		}
	}
	return firstErr
}

func (c *Collector) collectUname(ch chan<- prometheus.Metric) error {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return fmt.Errorf("uname: %w", err)
	}
	gauge(ch, c.d.uname, 1, unix.ByteSliceToString(u.Sysname[:]), unix.ByteSliceToString(u.Release[:]),
		unix.ByteSliceToString(u.Version[:]), unix.ByteSliceToString(u.Machine[:]), unix.ByteSliceToString(u.Nodename[:]))
	return nil
}

func (c *Collector) collectVolumes(ch chan<- prometheus.Metric) error {
	var firstErr error
	for name, dir := range c.opts.Volumes {
		st, err := c.statfs(filepath.Clean(dir))
		if errors.Is(err, unix.ENOENT) {
			continue // created later (the registry's storage appears on first push)
		}
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		gauge(ch, c.d.volumeSize, float64(st.Blocks)*float64(st.Bsize), name, dir)
		gauge(ch, c.d.volumeAvail, float64(st.Bavail)*float64(st.Bsize), name, dir)
	}
	return firstErr
}
