// Package kubestate exports the state of Kubernetes objects as metrics, the
// way kube-state-metrics does and under its metric names: nodes and their
// conditions, pods (phase, readiness, restarts, waiting reasons, requests),
// deployments, statefulsets, daemonsets, replicasets, jobs and
// persistentvolumeclaims. It reads client-go informer caches, trimmed of
// managed fields and annotations to bound memory, and adds
// outpost_pod_workload_info, which maps each pod to the workload that owns
// it (a Deployment rather than its ReplicaSet) for per-workload dashboards.
package kubestate
