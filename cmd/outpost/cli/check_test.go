package cli

import (
	"fmt"
	"testing"

	"github.com/outpost-platform/outpost/appliance/config"
)

func TestPreflightPortsFollowConfig(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*config.Config)
		want   string
	}{
		{"defaults", func(*config.Config) {}, "[6443 10250 10256 10249 10259 10257 5000 8443 9190]"},
		{"moved ports", func(c *config.Config) {
			c.APIServerPort, c.RegistryPort, c.ConsolePort, c.MonitoringPort = 7443, 5001, 9443, 9191
		},
			"[7443 10250 10256 10249 10259 10257 5001 9443 9191]"},
		{"disabled components", func(c *config.Config) {
			c.Disable = []string{config.ComponentRegistry, config.ComponentConsole, config.ComponentMonitoring}
		}, "[6443 10250 10256 10249 10259 10257]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			tt.modify(&cfg)
			var numbers []int
			for _, p := range preflightPorts(cfg) {
				numbers = append(numbers, p.Number)
				if p.Component == "" {
					t.Errorf("port %d has no component name", p.Number)
				}
			}
			if got := fmt.Sprint(numbers); got != tt.want {
				t.Errorf("ports = %s, want %s", got, tt.want)
			}
		})
	}
}
