// Package clustertest runs the console against a real control plane
// (appliance/kube/kubetest): RBAC agrees with the console's own denials,
// apply is all-or-nothing, secret reveal and rollback work. consolebench
// and devconsole start the same setup for the benchmark and front-end work.
package clustertest
