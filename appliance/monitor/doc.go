// Package monitor is Outpost's built-in monitoring: an embedded Prometheus
// TSDB fed by Prometheus's own scrape manager (control plane, kubelet and
// cAdvisor, containerd, node metrics, object-state metrics, Outpost itself,
// annotated pods), the real PromQL engine behind a Prometheus-compatible
// HTTP API with /federate and remote_write, recording rules for the
// console's dashboards, and alert rules whose alerts go to the alerting
// package's dispatcher. A Monitor failing inside (TSDB, disk, a receiver)
// degrades monitoring only; it never stops the appliance.
package monitor
