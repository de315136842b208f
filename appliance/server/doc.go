// Package server assembles an Outpost server from the domain packages: it
// checks the host, prepares PKI and embedded binaries, then starts the
// datastore, containerd, the Kubernetes components, add-ons and the
// appliance services in dependency order, and turns the exit of any of them
// into an orderly shutdown with the reason.
package server
