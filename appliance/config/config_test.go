package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/outpost-platform/outpost/appliance/monitor/settings"
)

func TestDefaultsAreValid(t *testing.T) {
	c := Default()
	c.NodeName = "node-a"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.ClusterDNS != "10.43.0.10" {
		t.Fatalf("derived cluster-dns %q", c.ClusterDNS)
	}
}

func TestLoadYAML(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr string
		check   func(*testing.T, Config)
	}{
		{"empty file keeps defaults", "", "", func(t *testing.T, c Config) {
			if c.DataDir != "/var/lib/outpost" {
				t.Errorf("data-dir %q", c.DataDir)
			}
		}},
		{"keys mirror flags", "data-dir: /srv/op\ndisable: [console, monitoring]\nmonitoring-retention: 30d\nkubelet-arg: [\"--max-pods=250\"]\n", "", func(t *testing.T, c Config) {
			if c.DataDir != "/srv/op" || !c.Disabled("console") || !c.Disabled("monitoring") || c.Disabled("registry") {
				t.Errorf("got %+v", c)
			}
			if time.Duration(c.MonitoringRetention) != 30*24*time.Hour || c.KubeletArgs[0] != "--max-pods=250" {
				t.Errorf("retention %v args %v", c.MonitoringRetention, c.KubeletArgs)
			}
		}},
		{"alerting and remote write sections", `alerting:
  group-wait: 5s
  receivers:
    - name: ops
      match: ['severity="critical"']
      webhook: {url: "http://10.0.0.9:9000/alerts", bearer-token: s3cret}
    - name: chat
      dingtalk: {url: "https://oapi.dingtalk.com/robot/send?access_token=t", secret: SEC1}
monitoring-remote-write:
  - url: https://prom.example/api/v1/write
    username: outpost
    password: pw
`, "", func(t *testing.T, c Config) {
			a := c.Alerting
			if time.Duration(a.GroupWait) != 5*time.Second || len(a.Receivers) != 2 || a.Receivers[0].Webhook.BearerToken.Reveal() != "s3cret" ||
				a.Receivers[1].DingTalk.Secret.Reveal() != "SEC1" || a.Receivers[0].Match[0] != `severity="critical"` {
				t.Errorf("alerting %+v", a)
			}
			if len(c.MonitoringRemoteWrite) != 1 || c.MonitoringRemoteWrite[0].Password.Reveal() != "pw" {
				t.Errorf("remote write %+v", c.MonitoringRemoteWrite)
			}
			c.NodeName = "node-a"
			if err := c.Validate(); err != nil {
				t.Errorf("valid sections refused: %v", err)
			}
		}},
		{"unknown nested key is named", "alerting:\n  receivers:\n    - name: x\n      slack: {url: http://x}\n", `unknown key "slack"`, nil},
		{"nested wrong type names its path", "alerting:\n  receivers:\n    - name: x\n      webhook: {url: http://x, max-alerts: lots}\n", `"alerting.receivers.webhook.max-alerts" must be a whole number`, nil},
		{"unknown key is named", "data_dir: /x\n", `unknown key "data_dir"`, nil},
		{"wrong type names the key", "https-listen-port: many\n", `"https-listen-port" must be a whole number`, nil},
		{"bad duration", "monitoring-retention: forever\n", "expected a duration", nil},
		{"not yaml", "data-dir: [\n", "config file", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "config.yaml")
			os.WriteFile(p, []byte(tt.yaml), 0o600)
			c, err := Load(p, true)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	if _, err := Load(missing, false); err != nil {
		t.Fatalf("missing default file: %v", err)
	}
	if _, err := Load(missing, true); err == nil {
		t.Fatal("missing explicit file accepted")
	}
}

func TestValidateNamesKeyAndForm(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"relative data dir", func(c *Config) { c.DataDir = "data" }, "data-dir: must be an absolute path"},
		{"bad cidr", func(c *Config) { c.ClusterCIDR = "10.42.0.0" }, "cluster-cidr: must be a CIDR"},
		{"overlap", func(c *Config) { c.ServiceCIDR = "10.42.128.0/17" }, "overlaps cluster-cidr"},
		{"dns outside service range", func(c *Config) { c.ClusterDNS = "10.99.0.10" }, "cluster-dns: must be an IP address inside"},
		{"unknown component", func(c *Config) { c.Disable = []string{"kubelet"} }, `unknown component "kubelet"`},
		{"port range", func(c *Config) { c.RegistryPort = 70000 }, "registry-port: must be a port number"},
		{"scrape too fast", func(c *Config) { c.MonitoringScrapeInterval = Duration(time.Millisecond) }, "monitoring-scrape-interval: must be at least 1s"},
		{"bad size", func(c *Config) { c.MonitoringRetentionSize = "lots" }, "monitoring-retention-size"},
		{"bad node name", func(c *Config) { c.NodeName = "Node_A" }, "node-name: must be a lower-case DNS name"},
		{"bad node ip", func(c *Config) { c.NodeIP = "10.0.0" }, "node-ip: must be an IP address"},
		{"bad extra arg", func(c *Config) { c.KubeletArgs = []string{"--=x"} }, "kubelet-arg: must look like --flag=value"},
		{"bad log level", func(c *Config) { c.LogLevel = "loud" }, "log-level"},
		{"etcd not yet", func(c *Config) { c.Datastore = "etcd" }, "datastore"},
		{"receiver without target", func(c *Config) {
			c.Alerting.Receivers = []settings.Receiver{{Name: "ops"}}
		}, "alerting.receivers[0]: webhook|wecom|dingtalk|feishu|email: exactly one must be set"},
		{"receiver with bad url", func(c *Config) {
			c.Alerting.Receivers = []settings.Receiver{{Name: "ops", Webhook: &settings.Webhook{URL: "ftp://x"}}}
		}, "alerting.receivers[0]: webhook.url: must be an http:// or https:// URL"},
		{"remote write without url", func(c *Config) {
			c.MonitoringRemoteWrite = []settings.RemoteWrite{{URL: "prom.example"}}
		}, "monitoring-remote-write[0].url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.NodeName = "node-a"
			tt.mutate(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
		})
	}
}

func TestMergeFlagsOverFile(t *testing.T) {
	file := Default()
	file.DataDir, file.RegistryPort = "/from/file", 5001
	flags := Default()
	flags.DataDir, flags.RegistryPort = "/from/flag", 9999
	file.Merge(&flags, []string{"data-dir"})
	if file.DataDir != "/from/flag" || file.RegistryPort != 5001 {
		t.Fatalf("merge gave data-dir %q registry-port %d", file.DataDir, file.RegistryPort)
	}
}

func TestParseBytes(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{{"2GiB", 2 << 30, true}, {"500MB", 500e6, true}, {"1024", 1024, true}, {"1.5KiB", 1536, true}, {"-1GB", 0, false}, {"GB", 0, false}}
	for _, tt := range tests {
		got, err := ParseBytes(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseBytes(%q) = %d, %v", tt.in, got, err)
		}
	}
}
