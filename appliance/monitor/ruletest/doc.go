// Package ruletest runs unit tests for Prometheus rule files in promtool's
// test-file format (rule_files, evaluation_interval, tests with
// input_series, alert_rule_test and promql_expr_test), against a real TSDB
// and the real rule evaluation and PromQL engine. It backs the tests of
// Outpost's built-in rules and `outpost alerts test`.
package ruletest
