// Package storage runs Outpost's default StorageClass, "local-path": a
// dynamic provisioner inside the server process that gives each
// PersistentVolumeClaim its own directory under <data-dir>/storage on this
// node, and removes the directory when a released volume's reclaim policy is
// Delete.
package storage
