// Package registry owns Outpost's local OCI registry: the distribution/v3
// server it embeds, its storage under <data-dir>/registry (distribution's
// filesystem layout, which this package also reads and writes directly for
// fast local imports), the mirror mapping that lets containerd pull every
// upstream registry through it, registry users, image listing and removal,
// and garbage collection that never deletes a blob in use.
package registry
