// Package addons applies the cluster's built-in objects at every start:
// CoreDNS, metrics-server (the metrics API behind `kubectl top`) and the RBAC
// Outpost's own components need. Manifests are embedded templates rendered
// with the cluster's settings and applied with server-side apply, so a
// restart repairs drift without fighting fields that users own.
package addons
