// Package nodemetrics collects host metrics in-process with the
// prometheus/procfs library (the parser node_exporter is built on) and
// statfs: CPU, memory, load, pressure, filesystems, disk I/O and network,
// under node_exporter's metric names so existing dashboards and rules work.
// It also exports the expiry of PEM certificates and the usage of named
// volumes (such as the registry's storage) for Outpost's built-in alerts.
package nodemetrics
