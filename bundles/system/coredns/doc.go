// Command coredns is the cluster DNS of Outpost: upstream CoreDNS with only
// the plugins a Kubernetes cluster DNS uses compiled in. Leaving out the
// cloud and remote-backend plugins (route53, azure, clouddns, etcd, …)
// keeps the binary small and guarantees it has no code that could reach
// out of an offline site.
package main
