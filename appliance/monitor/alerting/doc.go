// Package alerting turns alerts from Prometheus rule evaluation into
// notifications the way Alertmanager does: alerts are grouped by labels,
// a group waits group-wait before its first notification, changes are sent
// at most every group-interval, unchanged firing groups are repeated every
// repeat-interval, and resolve notices follow. Silences mute alerts by label
// matchers. Receivers are a generic webhook with Alertmanager's payload,
// WeCom, DingTalk and Feishu group bots, and SMTP email.
//
// It keeps all state in memory except silences and API-managed receivers,
// which are written to files under the monitoring directory.
package alerting
