// Package settings holds the user-settable part of monitoring that lives in
// Outpost's YAML config and the alerting API: notification receivers, alert
// grouping, label matchers and remote_write targets. It depends only on the
// standard library and prometheus/common/model so that appliance/config can
// embed it without pulling in Prometheus's storage or query code.
package settings
