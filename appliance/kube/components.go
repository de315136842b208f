package kube

import (
	"fmt"
	"path/filepath"

	"github.com/outpost-platform/outpost/appliance/fsutil"
)

// APIServerFlags returns the kube-apiserver's arguments. Hardening is on by
// default: anonymous auth off, Node+RBAC authorization, NodeRestriction,
// secrets encrypted at rest, audit log on, profiling off.
func APIServerFlags(c *Config) Flags {
	p := c.PKI
	var f Flags
	f.Set("advertise-address", c.NodeIP)
	f.Set("bind-address", "0.0.0.0")
	f.Set("secure-port", fmt.Sprint(c.APIServerPort))
	f.Set("allow-privileged", "true")
	f.Set("anonymous-auth", "false")
	f.Set("authorization-mode", "Node,RBAC")
	f.Set("enable-admission-plugins", "NodeRestriction")
	f.Set("client-ca-file", p.CACert)
	f.Set("tls-cert-file", p.APIServerCert)
	f.Set("tls-private-key-file", p.APIServerKey)
	f.Set("kubelet-certificate-authority", p.CACert)
	f.Set("kubelet-client-certificate", p.APIServerKubeletClientCert)
	f.Set("kubelet-client-key", p.APIServerKubeletClientKey)
	f.Set("kubelet-preferred-address-types", "InternalIP,Hostname")
	f.Set("proxy-client-cert-file", p.FrontProxyClientCert)
	f.Set("proxy-client-key-file", p.FrontProxyClientKey)
	f.Set("requestheader-client-ca-file", p.FrontProxyCACert)
	f.Set("requestheader-allowed-names", "front-proxy-client")
	f.Set("requestheader-username-headers", "X-Remote-User")
	f.Set("requestheader-group-headers", "X-Remote-Group")
	f.Set("requestheader-extra-headers-prefix", "X-Remote-Extra-")
	// Aggregated APIs (metrics-server) are reached at their endpoints
	// directly: the apiserver runs on the host, which routes to pod IPs.
	f.Set("enable-aggregator-routing", "true")
	f.Set("service-account-issuer", "https://kubernetes.default.svc."+c.ClusterDomain)
	f.Set("service-account-key-file", p.ServiceAccountPub)
	f.Set("service-account-signing-key-file", p.ServiceAccountKey)
	f.Set("service-cluster-ip-range", c.ServiceCIDR)
	f.Set("encryption-provider-config", p.EncryptionConfig)
	f.Set("etcd-servers", c.DatastoreEndpoint)
	f.Set("storage-backend", "etcd3")
	f.Set("audit-log-path", c.AuditLogPath())
	f.Set("audit-policy-file", c.dir("etc", "audit-policy.yaml"))
	f.Set("audit-log-maxage", "30")
	f.Set("audit-log-maxbackup", "10")
	f.Set("audit-log-maxsize", "100")
	f.Set("profiling", "false")
	f.Set("cert-dir", c.dir("kube", "apiserver"))
	f.Set("v", c.verbosity())
	f.Override(c.APIServerArgs)
	return f
}

// auditPolicy records who changed what at Metadata level (request bodies
// would put Secret values into the log) and skips high-volume reads.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: None
  users: ["system:kube-proxy", "system:kube-scheduler", "system:kube-controller-manager", "system:apiserver"]
  verbs: ["get", "list", "watch"]
- level: None
  nonResourceURLs: ["/healthz*", "/readyz*", "/livez*", "/version", "/metrics"]
- level: None
  resources:
  - group: "coordination.k8s.io"
    resources: ["leases"]
- level: None
  verbs: ["get", "list", "watch"]
- level: Metadata
`

// ControllerManagerFlags returns kube-controller-manager's arguments.
func ControllerManagerFlags(c *Config) Flags {
	p := c.PKI
	var f Flags
	f.Set("kubeconfig", p.ControllerManagerKubeconfig)
	f.Set("authentication-kubeconfig", p.ControllerManagerKubeconfig)
	f.Set("authorization-kubeconfig", p.ControllerManagerKubeconfig)
	f.Set("bind-address", "127.0.0.1")
	f.Set("secure-port", "10257")
	f.Set("cert-dir", c.dir("kube", "controller-manager"))
	f.Set("allocate-node-cidrs", "true")
	f.Set("cluster-cidr", c.ClusterCIDR)
	f.Set("service-cluster-ip-range", c.ServiceCIDR)
	f.Set("cluster-signing-cert-file", p.CACert)
	f.Set("cluster-signing-key-file", p.CAKey)
	f.Set("root-ca-file", p.CACert)
	f.Set("service-account-private-key-file", p.ServiceAccountKey)
	f.Set("use-service-account-credentials", "true")
	f.Set("configure-cloud-routes", "false")
	f.Set("leader-elect", "false")
	f.Set("profiling", "false")
	f.Set("terminated-pod-gc-threshold", "1000")
	f.Set("v", c.verbosity())
	f.Override(c.ControllerManagerArgs)
	return f
}

// SchedulerFlags returns kube-scheduler's arguments.
func SchedulerFlags(c *Config) Flags {
	p := c.PKI
	var f Flags
	f.Set("kubeconfig", p.SchedulerKubeconfig)
	f.Set("authentication-kubeconfig", p.SchedulerKubeconfig)
	f.Set("authorization-kubeconfig", p.SchedulerKubeconfig)
	f.Set("bind-address", "127.0.0.1")
	f.Set("secure-port", "10259")
	f.Set("leader-elect", "false")
	f.Set("profiling", "false")
	f.Set("v", c.verbosity())
	f.Override(c.SchedulerArgs)
	return f
}

// KubeletFlags returns the kubelet's arguments; most settings live in the
// KubeletConfiguration file written by KubeletConfigFile.
func KubeletFlags(c *Config) Flags {
	var f Flags
	f.Set("config", c.dir("etc", "kubelet.yaml"))
	f.Set("kubeconfig", c.PKI.KubeletKubeconfig)
	f.Set("hostname-override", c.NodeName)
	f.Set("node-ip", c.NodeIP)
	f.Set("root-dir", c.KubeletRootDir())
	f.Set("cert-dir", c.dir("kubelet", "pki"))
	f.Set("node-labels", "node.outpost.io/server=true")
	f.Set("v", c.verbosity())
	f.Override(c.KubeletArgs)
	return f
}

// KubeletConfigFile renders the KubeletConfiguration. cgroup v1 is still
// supported by this kubelet but refused by default (failCgroupV1); Outpost
// sites run old kernels, so it is allowed explicitly.
func KubeletConfigFile(c *Config) string {
	p := c.PKI
	return fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: %q
authorization:
  mode: Webhook
tlsCertFile: %q
tlsPrivateKeyFile: %q
address: 0.0.0.0
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: %q
clusterDNS: [%q]
clusterDomain: %q
podLogsDir: %q
serializeImagePulls: false
# System images exist only in containerd and the local registry serves pulls
# without credentials, so re-verifying pull credentials protects nothing and
# would make the kubelet re-pull a system image once the same image was
# pulled under an upstream name.
imagePullCredentialsVerificationPolicy: NeverVerify
rotateCertificates: false
serverTLSBootstrap: false
makeIPTablesUtilChains: true
enableProfilingHandler: false
enableDebuggingHandlers: true
maxPods: 110
resolvConf: %q
evictionHard:
  memory.available: "100Mi"
  nodefs.available: "5%%"
  imagefs.available: "5%%"
  nodefs.inodesFree: "5%%"
imageGCHighThresholdPercent: 90
imageGCLowThresholdPercent: 80
`, p.CACert, p.KubeletServingCert, p.KubeletServingKey, "unix://"+c.ContainerdSocket,
		c.ClusterDNS, c.ClusterDomain, c.PodLogsDir(), resolvConf())
}

// resolvConf picks the host resolver file for pods and CoreDNS; systemd-
// resolved hosts point /etc/resolv.conf at a loopback stub that is useless
// inside a pod, so the real upstream list is preferred.
func resolvConf() string {
	for _, p := range []string{"/run/systemd/resolve/resolv.conf", "/etc/resolv.conf"} {
		if fileExists(p) {
			return p
		}
	}
	return ""
}

// KubeProxyFlags returns kube-proxy's arguments.
func KubeProxyFlags(c *Config) Flags {
	var f Flags
	f.Set("config", c.dir("etc", "kube-proxy.yaml"))
	f.Set("hostname-override", c.NodeName)
	f.Set("v", c.verbosity())
	f.Override(c.KubeProxyArgs)
	return f
}

// KubeProxyConfigFile renders the KubeProxyConfiguration (iptables mode).
// conntrack sysctls are left alone (maxPerCore 0): kube-proxy must not fail
// on hosts where they are read-only.
func KubeProxyConfigFile(c *Config) string {
	return fmt.Sprintf(`apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: %q
clusterCIDR: %q
hostnameOverride: %q
mode: iptables
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
`, c.PKI.KubeProxyKubeconfig, c.ClusterCIDR, c.NodeName)
}

// WriteConfigFiles writes the files the components read (kubelet and
// kube-proxy configuration, audit policy) and creates their directories.
func WriteConfigFiles(c *Config) error {
	files := map[string]string{
		c.dir("etc", "kubelet.yaml"):      KubeletConfigFile(c),
		c.dir("etc", "kube-proxy.yaml"):   KubeProxyConfigFile(c),
		c.dir("etc", "audit-policy.yaml"): auditPolicy,
	}
	for path, content := range files {
		if err := fsutil.WriteFileAtomic(path, []byte(content), 0o600); err != nil {
			return err
		}
	}
	for _, d := range []string{filepath.Dir(c.AuditLogPath()), c.PodLogsDir(), c.KubeletRootDir()} {
		if err := mkdir(d); err != nil {
			return err
		}
	}
	return nil
}
