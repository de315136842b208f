// Package hostclean undoes what an Outpost server did to its host — the
// processes it started, mounts, pod network namespaces and interfaces,
// iptables/nftables rules, cgroups and, on purge, its data — for
// `outpost reset`. Every step is idempotent: a second run finds nothing.
package hostclean
