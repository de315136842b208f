// Package kube runs the Kubernetes control plane and node components
// (kube-apiserver, kube-controller-manager, kube-scheduler, kubelet,
// kube-proxy) inside the Outpost process from k8s.io/kubernetes, builds their
// argument lists and configuration files from typed configuration, and turns
// a component's exit into a shutdown request with the reason.
package kube
