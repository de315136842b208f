// Package preflight checks whether a host can run an Outpost server — kernel,
// cgroups, overlayfs, bridge netfilter, forwarding, packet-filter tools, free
// ports, the data directory — and owns the data-directory lock that keeps two
// servers off one data directory. `outpost check` prints its report and
// `outpost server` refuses to start when a check fails.
package preflight
