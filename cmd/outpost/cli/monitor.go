package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/outpost-platform/outpost/appliance/config"
	"github.com/outpost-platform/outpost/appliance/monitor"
	"github.com/outpost-platform/outpost/appliance/monitor/alerting"
	"github.com/outpost-platform/outpost/appliance/monitor/ruletest"
)

// newAlertsCmd groups the alerting commands: checking and testing rule
// files offline (like promtool), printing the built-in rules, and listing
// the alerts of a running server.
func newAlertsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "alerts",
		Short: "Check and test alert rule files, show built-in rules, list firing alerts",
	}
	cmd.AddCommand(newAlertsCheckCmd(), newAlertsTestCmd(), newAlertsBuiltinCmd(), newAlertsListCmd())
	return cmd
}

func newAlertsCheckCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "check FILE...",
		Short: "Validate Prometheus rule files as monitoring will (file:line: reason for each problem)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			failed := 0
			for _, f := range args {
				data, err := os.ReadFile(f)
				if err == nil {
					err = monitor.CheckRuleFile(filepath.Base(f), data)
				}
				if err != nil {
					failed++
					fmt.Fprintf(cmd.ErrOrStderr(), "%s: FAILED\n  %s\n", f, strings.ReplaceAll(err.Error(), "; ", "\n  "))
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: OK\n", f)
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d rule files are invalid", failed, len(args))
			}
			return nil
		},
	}
}

func newAlertsTestCmd() *cobra.Command {
	var scrapeInterval time.Duration
	cmd := &cobra.Command{
		Use:   "test FILE...",
		Short: "Run rule unit tests written in promtool's test-file format",
		Long: "Runs rule unit tests (rule_files, evaluation_interval, tests with input_series,\n" +
			"alert_rule_test and promql_expr_test) against a real TSDB and PromQL engine.\n" +
			"A ${rate_window} placeholder in rule files, as in the built-in ones, is\n" +
			"expanded for --scrape-interval.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			failed := 0
			for _, f := range args {
				errs := ruletest.RunFile(f, ruletest.Options{RuleContent: func(_ string, data []byte) ([]byte, error) {
					return monitor.ExpandBuiltinRule(data, scrapeInterval), nil
				}})
				if len(errs) > 0 {
					failed++
					fmt.Fprintf(cmd.ErrOrStderr(), "%s: FAILED\n", f)
					for _, err := range errs {
						fmt.Fprintf(cmd.ErrOrStderr(), "  %s\n", strings.ReplaceAll(err.Error(), "\n", "\n  "))
					}
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: SUCCESS\n", f)
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d test files failed", failed, len(args))
			}
			return nil
		},
	}
	cmd.Flags().DurationVar(&scrapeInterval, "scrape-interval", monitor.DefaultScrapeInterval, "scrape interval the rate window of built-in style rules is derived from")
	return cmd
}

func newAlertsBuiltinCmd() *cobra.Command {
	var scrapeInterval time.Duration
	cmd := &cobra.Command{
		Use:   "builtin [NAME]",
		Short: "List the built-in rule files, or print one (copy it into the rules directory to change it)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				for _, n := range monitor.BuiltinRuleFiles() {
					fmt.Fprintln(cmd.OutOrStdout(), n)
				}
				return nil
			}
			data, err := monitor.BuiltinRuleFile(args[0], scrapeInterval)
			if err != nil {
				return fmt.Errorf("%w; the built-in files are %s", err, strings.Join(monitor.BuiltinRuleFiles(), ", "))
			}
			_, err = cmd.OutOrStdout().Write(data)
			return err
		},
	}
	cmd.Flags().DurationVar(&scrapeInterval, "scrape-interval", monitor.DefaultScrapeInterval, "scrape interval the rate window is derived from")
	return cmd
}

func newAlertsListCmd() *cobra.Command {
	var (
		configPath string
		url        string
		all        bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the alerts of the running server (firing and silenced)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if url == "" {
				cfg, err := config.Load(configPath, cmd.Flags().Changed("config"))
				if err != nil {
					return err
				}
				url = "http://127.0.0.1:" + strconv.Itoa(cfg.MonitoringPort)
			}
			client := &http.Client{Timeout: 10 * time.Second}
			resp, err := client.Get(strings.TrimRight(url, "/") + "/api/v2/alerts")
			if err != nil {
				return fmt.Errorf("asking monitoring for alerts (is the server running with monitoring enabled?): %w", err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
			if err != nil {
				return fmt.Errorf("reading alerts: %w", err)
			}
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("monitoring answered %s: %.300s", resp.Status, body)
			}
			var alerts []alerting.AlertStatus
			if err := json.Unmarshal(body, &alerts); err != nil {
				return fmt.Errorf("decoding alerts: %w", err)
			}
			return printAlerts(cmd.OutOrStdout(), alerts, all)
		},
	}
	cmd.Flags().StringVar(&configPath, "config", config.DefaultFile, "YAML configuration file of the server (for monitoring-port)")
	cmd.Flags().StringVar(&url, "url", "", "monitoring API address (default http://127.0.0.1:<monitoring-port>)")
	cmd.Flags().BoolVar(&all, "all", false, "also list silenced alerts")
	return cmd
}

func printAlerts(w io.Writer, alerts []alerting.AlertStatus, all bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ALERT\tSEVERITY\tSTATE\tSINCE\tLABELS\tSUMMARY")
	shown := 0
	for _, a := range alerts {
		if a.Status.State == "suppressed" && !all {
			continue
		}
		var labels []string
		for k, v := range a.Labels {
			if k != "alertname" && k != "severity" {
				labels = append(labels, k+"="+v)
			}
		}
		slices.Sort(labels)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.Name(), a.Labels["severity"], a.Status.State,
			time.Since(a.StartsAt).Round(time.Second), strings.Join(labels, ","), a.Annotations["summary"])
		shown++
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if shown == 0 {
		_, err := fmt.Fprintln(w, "no alerts")
		return err
	}
	return nil
}
