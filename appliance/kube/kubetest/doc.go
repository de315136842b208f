// Package kubetest starts a real Kubernetes control plane for integration
// tests, with Outpost's own parts: its PKI, kine over SQLite, and the
// in-process kube-apiserver and kube-controller-manager. No kubelet or
// scheduler runs, so pods stay Pending; deployments, replica sets,
// revisions, RBAC and impersonation behave as on an appliance. It imports
// k8s.io/kubernetes, so only dedicated test packages may use it, and one
// test binary can start one control plane.
package kubetest
