// Package datastore runs the Kubernetes datastore: kine serving the etcd API
// over a SQLite file (pure Go, modernc.org/sqlite) on a unix socket that only
// root can reach. The Config's Kind leaves room for embedded etcd (HA).
package datastore
