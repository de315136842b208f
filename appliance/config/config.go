package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/outpost-platform/outpost/appliance/monitor/settings"
)

// DefaultFile is where the server looks for its YAML configuration when
// --config is not given. A missing default file is not an error.
const DefaultFile = "/etc/outpost/config.yaml"

// Component names accepted by Disable.
const (
	ComponentCoreDNS       = "coredns"
	ComponentMetricsServer = "metrics-server"
	ComponentLocalStorage  = "local-storage"
	ComponentRegistry      = "registry"
	ComponentMonitoring    = "monitoring"
	ComponentConsole       = "console"
)

// Components lists every component that --disable accepts.
var Components = []string{ComponentCoreDNS, ComponentMetricsServer, ComponentLocalStorage,
	ComponentRegistry, ComponentMonitoring, ComponentConsole}

// Config is the user-settable configuration. Every field's json tag is both
// its YAML key and its flag name; Default gives the value used when neither
// sets it. Keys, certificates and passwords of Outpost itself live under
// DataDir; the only secrets here are the notification and remote-write
// credentials of the alerting sections, which print as "<secret>".
type Config struct {
	// DataDir holds everything Outpost writes: datastore, PKI, containerd
	// state, registry blobs, TSDB, console database.
	DataDir string `json:"data-dir" usage:"directory for all Outpost state"`
	// NodeName is this node's Kubernetes name; defaults to the hostname.
	NodeName string `json:"node-name" usage:"Kubernetes name of this node (default: hostname)"`
	// NodeIP is the address the node advertises; defaults to the address of
	// the interface holding the default route, else the first global address.
	NodeIP string `json:"node-ip" usage:"IP address this node advertises (default: detected)"`
	// ClusterCIDR is the pod network.
	ClusterCIDR string `json:"cluster-cidr" usage:"pod network CIDR"`
	// ServiceCIDR is the ClusterIP range.
	ServiceCIDR string `json:"service-cidr" usage:"Service ClusterIP CIDR"`
	// ClusterDNS is the ClusterIP of CoreDNS; defaults to the 10th address of ServiceCIDR.
	ClusterDNS string `json:"cluster-dns" usage:"ClusterIP of CoreDNS (default: 10th address of service-cidr)"`
	// ClusterDomain is the DNS suffix of Services.
	ClusterDomain string `json:"cluster-domain" usage:"DNS domain of Services"`
	// APIServerPort is the kube-apiserver's secure port.
	APIServerPort int `json:"https-listen-port" usage:"kube-apiserver secure port"`
	// Datastore selects the Kubernetes datastore: "sqlite" (kine, default).
	// Reserved for "etcd" (embedded, HA).
	Datastore string `json:"datastore" usage:"Kubernetes datastore: sqlite"`
	// Disable lists components not to run (see Components).
	Disable []string `json:"disable" usage:"component not to run (repeatable): coredns, metrics-server, local-storage, registry, monitoring, console"`
	// Extra arguments appended last to each component's argument list, so
	// they override Outpost's own ("--flag=value" or "flag=value").
	KubeAPIServerArgs         []string `json:"kube-apiserver-arg" usage:"extra kube-apiserver argument --flag=value (repeatable)"`
	KubeControllerManagerArgs []string `json:"kube-controller-manager-arg" usage:"extra kube-controller-manager argument (repeatable)"`
	KubeSchedulerArgs         []string `json:"kube-scheduler-arg" usage:"extra kube-scheduler argument (repeatable)"`
	KubeletArgs               []string `json:"kubelet-arg" usage:"extra kubelet argument (repeatable)"`
	KubeProxyArgs             []string `json:"kube-proxy-arg" usage:"extra kube-proxy argument (repeatable)"`
	// PprofListen serves Go's profiling endpoints (/debug/pprof/) of the
	// server process for support cases; empty (default) serves nothing.
	// It has no authentication: keep it on 127.0.0.1.
	PprofListen string `json:"pprof-listen" usage:"address for Go profiling endpoints, e.g. 127.0.0.1:6060 (default: off)"`
	// LogLevel is one of debug, info, warn, error.
	LogLevel string `json:"log-level" usage:"log level: debug, info, warn, error"`

	// RegistryPort is the TLS port of the local OCI registry.
	RegistryPort int `json:"registry-port" usage:"TLS port of the local OCI registry"`
	// RegistryGCInterval is how often unreferenced registry blobs are
	// collected; 0 turns scheduled collection off.
	RegistryGCInterval Duration `json:"registry-gc-interval" usage:"interval of registry garbage collection (0 = off)"`

	// MonitoringPort serves the Prometheus-compatible API and /federate.
	MonitoringPort int `json:"monitoring-port" usage:"port of the Prometheus-compatible monitoring API"`
	// MonitoringRetention is how long samples are kept.
	MonitoringRetention Duration `json:"monitoring-retention" usage:"how long monitoring samples are kept"`
	// MonitoringRetentionSize caps the TSDB's size on disk, e.g. "2GiB".
	MonitoringRetentionSize string `json:"monitoring-retention-size" usage:"maximum size of monitoring data on disk"`
	// MonitoringScrapeInterval is the default scrape interval (>= 1s).
	MonitoringScrapeInterval Duration `json:"monitoring-scrape-interval" usage:"default metrics scrape interval (>= 1s)"`
	// MonitoringRemoteWrite sends every ingested sample on to external
	// Prometheus-compatible receivers. A flag value is one target as YAML.
	MonitoringRemoteWrite []settings.RemoteWrite `json:"monitoring-remote-write" usage:"remote_write target as YAML, e.g. '{url: https://prom.example/api/v1/write}' (repeatable)"`
	// Alerting groups firing alerts into notifications and says where they
	// go (webhook, WeCom, DingTalk, Feishu, email). A flag value is the
	// whole section as YAML.
	Alerting settings.Alerting `json:"alerting" usage:"alert grouping and receivers as YAML, e.g. '{receivers: [{name: ops, webhook: {url: http://10.0.0.9/alerts}}]}'"`

	// ConsolePort is the HTTPS port of the web console.
	ConsolePort int `json:"console-port" usage:"HTTPS port of the web console"`
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	host, _ := os.Hostname()
	return Config{
		DataDir:                  "/var/lib/outpost",
		NodeName:                 strings.ToLower(host),
		ClusterCIDR:              "10.42.0.0/16",
		ServiceCIDR:              "10.43.0.0/16",
		ClusterDomain:            "cluster.local",
		APIServerPort:            6443,
		Datastore:                "sqlite",
		LogLevel:                 "info",
		RegistryPort:             5000,
		RegistryGCInterval:       Duration(24 * time.Hour),
		MonitoringPort:           9190,
		MonitoringRetention:      Duration(15 * 24 * time.Hour),
		MonitoringRetentionSize:  "2GiB",
		MonitoringScrapeInterval: Duration(15 * time.Second),
		ConsolePort:              8443,
	}
}

// Load reads a YAML file over the defaults. A missing file is not an error
// when it is the default file (mustExist false). Unknown keys are errors that
// name the key.
func Load(path string, mustExist bool) (Config, error) {
	cfg := Default()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !mustExist {
		return cfg, nil
	}
	if err != nil {
		return cfg, fmt.Errorf("reading config file: %w", err)
	}
	if err := yaml.UnmarshalStrict(data, &cfg); err != nil {
		return cfg, fmt.Errorf("config file %s: %s", path, cleanYAMLError(err))
	}
	return cfg, nil
}

func cleanYAMLError(err error) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "error unmarshaling JSON: while decoding JSON: ")
	msg = strings.Replace(msg, "json: unknown field", "unknown key", 1)
	if i := strings.Index(msg, "json: cannot unmarshal "); i >= 0 {
		// "json: cannot unmarshal string into Go struct field Config.https-listen-port of type int"
		rest := msg[i+len("json: cannot unmarshal "):]
		var got, field, want string
		if n, _ := fmt.Sscanf(strings.ReplaceAll(rest, " into Go struct field ", " "), "%s %s of type %s", &got, &field, &want); n == 3 {
			// "Config.alerting.receivers.webhook.max-alerts": keep the path below Config.
			_, field, _ = strings.Cut(field, ".")
			return fmt.Sprintf("key %q must be %s, got %s", field, describeType(want), got)
		}
	}
	return msg
}

func describeType(goType string) string {
	switch goType {
	case "int":
		return "a whole number"
	case "[]string":
		return "a list of strings"
	case "string", "config.Duration", "settings.Secret", "model.Duration":
		return "a string"
	case "bool":
		return "true or false"
	}
	return goType
}

// HoldsSecrets reports whether the alerting or remote-write sections carry
// credentials, so the file that holds them should be private.
func (c *Config) HoldsSecrets() bool {
	for _, r := range c.Alerting.Receivers {
		switch {
		case r.Webhook != nil && (r.Webhook.BearerToken != "" || strings.Contains(r.Webhook.URL.Reveal(), "@")),
			r.Bot() != nil, // bot URLs carry their access token
			r.Email != nil && r.Email.Password != "":
			return true
		}
	}
	for _, w := range c.MonitoringRemoteWrite {
		if w.Password != "" || w.BearerToken != "" {
			return true
		}
	}
	return false
}

// Disabled reports whether the named component was disabled.
func (c *Config) Disabled(component string) bool {
	for _, d := range c.Disable {
		if d == component {
			return true
		}
	}
	return false
}

// Validate checks every key and fills derived defaults (ClusterDNS). Each
// error names the key and the expected form.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{key}, a...)...))
	}
	if c.DataDir == "" || !strings.HasPrefix(c.DataDir, "/") {
		bad("data-dir", "must be an absolute path, got %q", c.DataDir)
	}
	if c.NodeName == "" || !isDNSLabelish(c.NodeName) {
		bad("node-name", "must be a lower-case DNS name (a-z, 0-9, '-', '.'), got %q", c.NodeName)
	}
	if c.NodeIP != "" {
		if _, err := netip.ParseAddr(c.NodeIP); err != nil {
			bad("node-ip", "must be an IP address such as 192.168.1.10, got %q", c.NodeIP)
		}
	}
	cluster, err1 := netip.ParsePrefix(c.ClusterCIDR)
	if err1 != nil {
		bad("cluster-cidr", "must be a CIDR such as 10.42.0.0/16, got %q", c.ClusterCIDR)
	}
	service, err2 := netip.ParsePrefix(c.ServiceCIDR)
	if err2 != nil {
		bad("service-cidr", "must be a CIDR such as 10.43.0.0/16, got %q", c.ServiceCIDR)
	}
	if err1 == nil && err2 == nil && cluster.Overlaps(service) {
		bad("service-cidr", "%s overlaps cluster-cidr %s; choose ranges that do not overlap", c.ServiceCIDR, c.ClusterCIDR)
	}
	if err2 == nil {
		if c.ClusterDNS == "" {
			c.ClusterDNS = nthAddr(service.Masked(), 10).String()
		}
		if dns, err := netip.ParseAddr(c.ClusterDNS); err != nil || !service.Contains(dns) {
			bad("cluster-dns", "must be an IP address inside service-cidr %s, got %q", c.ServiceCIDR, c.ClusterDNS)
		}
	}
	if c.ClusterDomain == "" || !isDNSLabelish(c.ClusterDomain) {
		bad("cluster-domain", "must be a DNS domain such as cluster.local, got %q", c.ClusterDomain)
	}
	if c.Datastore != "sqlite" {
		bad("datastore", "must be \"sqlite\" (embedded etcd is not available yet), got %q", c.Datastore)
	}
	for _, d := range c.Disable {
		if !contains(Components, d) {
			bad("disable", "unknown component %q; choose from %s", d, strings.Join(Components, ", "))
		}
	}
	for key, port := range map[string]int{"https-listen-port": c.APIServerPort, "registry-port": c.RegistryPort,
		"monitoring-port": c.MonitoringPort, "console-port": c.ConsolePort} {
		if port < 1 || port > 65535 {
			bad(key, "must be a port number between 1 and 65535, got %d", port)
		}
	}
	for key, args := range map[string][]string{"kube-apiserver-arg": c.KubeAPIServerArgs,
		"kube-controller-manager-arg": c.KubeControllerManagerArgs, "kube-scheduler-arg": c.KubeSchedulerArgs,
		"kubelet-arg": c.KubeletArgs, "kube-proxy-arg": c.KubeProxyArgs} {
		for _, a := range args {
			if name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "="); name == "" {
				bad(key, "must look like --flag=value, got %q", a)
			}
		}
	}
	if c.PprofListen != "" {
		if _, _, err := net.SplitHostPort(c.PprofListen); err != nil {
			bad("pprof-listen", "must be host:port such as 127.0.0.1:6060, got %q", c.PprofListen)
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log-level", "must be one of debug, info, warn, error, got %q", c.LogLevel)
	}
	if c.MonitoringScrapeInterval < Duration(time.Second) {
		bad("monitoring-scrape-interval", "must be at least 1s, got %s", c.MonitoringScrapeInterval)
	}
	if c.MonitoringRetention < Duration(time.Hour) {
		bad("monitoring-retention", "must be at least 1h, got %s", c.MonitoringRetention)
	}
	if _, err := ParseBytes(c.MonitoringRetentionSize); err != nil {
		bad("monitoring-retention-size", "must be a size such as 2GiB or 500MB, got %q", c.MonitoringRetentionSize)
	}
	if c.RegistryGCInterval < 0 {
		bad("registry-gc-interval", "must not be negative, got %s", c.RegistryGCInterval)
	}
	// These name their own keys (alerting.receivers[0].webhook.url: …).
	if err := c.Alerting.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := settings.ValidateRemoteWrite(c.MonitoringRemoteWrite); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Merge copies into c every field of override whose key is in keys; it is
// how flags that were set on the command line win over the YAML file.
func (c *Config) Merge(override *Config, keys []string) {
	dst, src := reflect.ValueOf(c).Elem(), reflect.ValueOf(override).Elem()
	t := dst.Type()
	for i := 0; i < t.NumField(); i++ {
		if contains(keys, Key(t.Field(i))) {
			dst.Field(i).Set(src.Field(i))
		}
	}
}

// Key returns the YAML key / flag name of a Config field.
func Key(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name
}

func nthAddr(p netip.Prefix, n int) netip.Addr {
	a := p.Addr()
	for i := 0; i < n; i++ {
		a = a.Next()
	}
	return a
}

func isDNSLabelish(s string) bool {
	if len(s) > 253 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return s[0] != '-' && s[0] != '.'
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// DetectNodeIP returns the IPv4 address the node should advertise: the source
// address of the default route when there is one, else the first global
// unicast address of an interface that is up. Sites without any route to the
// outside (air-gapped) take the second path.
func DetectNodeIP() (string, error) {
	if conn, err := net.Dial("udp4", "192.0.2.1:9"); err == nil { // no packet is sent for UDP dial
		defer conn.Close()
		if a, ok := conn.LocalAddr().(*net.UDPAddr); ok && !a.IP.IsLoopback() {
			return a.IP.String(), nil
		}
	}
	ifaces, err := net.Interfaces()
	if err != nil {
		return "", fmt.Errorf("listing network interfaces: %w", err)
	}
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 || strings.HasPrefix(ifc.Name, "cni") ||
			strings.HasPrefix(ifc.Name, "veth") || strings.HasPrefix(ifc.Name, "docker") {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && n.IP.IsGlobalUnicast() {
				return n.IP.String(), nil
			}
		}
	}
	return "", errors.New("no usable IPv4 address found on any interface; set node-ip")
}
