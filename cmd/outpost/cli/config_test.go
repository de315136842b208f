package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/outpost-platform/outpost/appliance/config"
)

func TestConfigFlagsOverFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(file, []byte(`node-name: from-file
registry-port: 5001
alerting:
  group-wait: 10s
  receivers: [{name: file-hook, webhook: {url: "http://10.0.0.9/alerts"}}]
monitoring-remote-write: [{url: "https://a.example/api/v1/write"}]
`), 0o600)
	tests := []struct {
		name    string
		args    []string
		wantErr string
		check   func(*testing.T, config.Config)
	}{
		{"file over defaults", nil, "", func(t *testing.T, c config.Config) {
			if c.NodeName != "from-file" || c.RegistryPort != 5001 || c.ConsolePort != 8443 {
				t.Errorf("got node %q registry %d console %d", c.NodeName, c.RegistryPort, c.ConsolePort)
			}
			if len(c.Alerting.Receivers) != 1 || c.Alerting.Receivers[0].Name != "file-hook" || time.Duration(c.Alerting.GroupWait) != 10*time.Second {
				t.Errorf("alerting %+v", c.Alerting)
			}
			if len(c.MonitoringRemoteWrite) != 1 {
				t.Errorf("remote write %+v", c.MonitoringRemoteWrite)
			}
		}},
		{"flags over file", []string{"--registry-port", "6000", "--alerting", "{receivers: [{name: flag-bot, feishu: {url: 'https://open.feishu.cn/hook/x'}}]}",
			"--monitoring-remote-write", "{url: https://b.example/w}", "--monitoring-remote-write", `{"url": "https://c.example/w", "bearer-token": "t"}`}, "",
			func(t *testing.T, c config.Config) {
				if c.NodeName != "from-file" || c.RegistryPort != 6000 {
					t.Errorf("got node %q registry %d", c.NodeName, c.RegistryPort)
				}
				// A section set by flag replaces the file's whole section.
				if len(c.Alerting.Receivers) != 1 || c.Alerting.Receivers[0].Feishu == nil || c.Alerting.GroupWait != 0 {
					t.Errorf("alerting %+v", c.Alerting)
				}
				if len(c.MonitoringRemoteWrite) != 2 || c.MonitoringRemoteWrite[1].BearerToken.Reveal() != "t" {
					t.Errorf("remote write %+v", c.MonitoringRemoteWrite)
				}
			}},
		{"flag with an unknown nested key", []string{"--alerting", "{receivers: [{name: x, slack: {}}]}"}, `unknown field "slack"`, nil},
		{"flag section that fails validation names its path", []string{"--alerting", "{receivers: [{name: x, webhook: {url: 'ftp://x'}}]}"},
			"alerting.receivers[0]: webhook.url: must be an http:// or https:// URL", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got config.Config
			var cf *configFlags
			cmd := &cobra.Command{Use: "server", SilenceUsage: true, SilenceErrors: true, RunE: func(cmd *cobra.Command, _ []string) error {
				var err error
				got, err = cf.load(cmd.Flags())
				return err
			}}
			cf = addConfigFlags(cmd)
			cmd.SetArgs(append([]string{"--config", file, "--data-dir", "/var/lib/outpost-test"}, tt.args...))
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, got)
		})
	}
}

// The YAML sections print in --help with their secrets redacted.
func TestConfigFlagsHelpRedactsSecrets(t *testing.T) {
	cmd := &cobra.Command{Use: "server"}
	addConfigFlags(cmd)
	if err := cmd.Flags().Set("monitoring-remote-write", "{url: https://x.example/w, password: hunter2}"); err != nil {
		t.Fatal(err)
	}
	if s := cmd.Flags().Lookup("monitoring-remote-write").Value.String(); strings.Contains(s, "hunter2") || !strings.Contains(s, "x.example") {
		t.Fatalf("flag shows %s", s)
	}
}
