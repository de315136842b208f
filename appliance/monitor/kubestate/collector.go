package kubestate

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
)

// Collector is a prometheus.Collector over informer caches.
type Collector struct {
	factory informers.SharedInformerFactory
	logger  *slog.Logger
	synced  atomic.Bool

	nodes        corelisters.NodeLister
	pods         corelisters.PodLister
	namespaces   corelisters.NamespaceLister
	pvcs         corelisters.PersistentVolumeClaimLister
	deployments  appslisters.DeploymentLister
	statefulsets appslisters.StatefulSetLister
	daemonsets   appslisters.DaemonSetLister
	replicasets  appslisters.ReplicaSetLister
	jobs         batchlisters.JobLister
}

// New sets up the informers; Run starts them.
func New(client kubernetes.Interface, logger *slog.Logger) *Collector {
	if logger == nil {
		logger = slog.Default()
	}
	f := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithTransform(trim))
	return &Collector{
		factory: f, logger: logger,
		nodes: f.Core().V1().Nodes().Lister(), pods: f.Core().V1().Pods().Lister(),
		namespaces: f.Core().V1().Namespaces().Lister(), pvcs: f.Core().V1().PersistentVolumeClaims().Lister(),
		deployments: f.Apps().V1().Deployments().Lister(), statefulsets: f.Apps().V1().StatefulSets().Lister(),
		daemonsets: f.Apps().V1().DaemonSets().Lister(), replicasets: f.Apps().V1().ReplicaSets().Lister(),
		jobs: f.Batch().V1().Jobs().Lister(),
	}
}

// trim drops what the metrics never read, which is most of an object's
// memory in the cache (managed fields, last-applied annotations).
func trim(obj any) (any, error) {
	if acc, err := meta.Accessor(obj); err == nil {
		acc.SetManagedFields(nil)
		acc.SetAnnotations(nil)
	}
	return obj, nil
}

// Run starts the informers and blocks until ctx is done. Until the caches
// have synced, Collect reports only kube_state_metrics_synced 0.
func (c *Collector) Run(ctx context.Context) {
	c.factory.Start(ctx.Done())
	for {
		synced := true
		for typ, ok := range c.factory.WaitForCacheSync(ctx.Done()) {
			if !ok {
				synced = false
				c.logger.Warn("object-state informer has not synced", "type", typ.String())
			}
		}
		if synced {
			c.synced.Store(true)
			c.logger.Info("object-state metrics ready")
			break
		}
		select {
		case <-ctx.Done():
			c.factory.Shutdown()
			return
		case <-time.After(5 * time.Second):
		}
	}
	<-ctx.Done()
	c.factory.Shutdown()
}

// Describe sends nothing: the collector is unchecked.
func (c *Collector) Describe(chan<- *prometheus.Desc) {}

// emitter writes const metrics, creating descriptors on the fly; metric
// names and label names are fixed per call site.
type emitter struct{ ch chan<- prometheus.Metric }

func (e emitter) gauge(name, help string, v float64, kv ...string) {
	e.emit(name, help, prometheus.GaugeValue, v, kv...)
}

func (e emitter) counter(name, help string, v float64, kv ...string) {
	e.emit(name, help, prometheus.CounterValue, v, kv...)
}

func (e emitter) emit(name, help string, typ prometheus.ValueType, v float64, kv ...string) {
	names, values := make([]string, 0, len(kv)/2), make([]string, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		names, values = append(names, kv[i]), append(values, kv[i+1])
	}
	e.ch <- prometheus.MustNewConstMetric(prometheus.NewDesc(name, help, names, nil), typ, v, values...)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Collect reads the caches.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	e := emitter{ch}
	e.gauge("kube_state_metrics_synced", "1 once the object-state informer caches have synced.", b2f(c.synced.Load()))
	if !c.synced.Load() {
		return
	}
	for _, fn := range []func(emitter) error{c.collectNodes, c.collectPods, c.collectWorkloads, c.collectPVCs, c.collectNamespaces} {
		if err := fn(e); err != nil {
			c.logger.Warn("collecting object-state metrics", "err", err)
		}
	}
}

func conditionStatuses(status corev1.ConditionStatus) map[string]float64 {
	return map[string]float64{
		"true":    b2f(status == corev1.ConditionTrue),
		"false":   b2f(status == corev1.ConditionFalse),
		"unknown": b2f(status == corev1.ConditionUnknown),
	}
}

func (c *Collector) collectNodes(e emitter) error {
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return fmt.Errorf("listing nodes: %w", err)
	}
	for _, n := range nodes {
		internalIP := ""
		for _, a := range n.Status.Addresses {
			if a.Type == corev1.NodeInternalIP {
				internalIP = a.Address
			}
		}
		ni := n.Status.NodeInfo
		e.gauge("kube_node_info", "Information about a cluster node.", 1, "node", n.Name, "kernel_version", ni.KernelVersion,
			"os_image", ni.OSImage, "container_runtime_version", ni.ContainerRuntimeVersion, "kubelet_version", ni.KubeletVersion,
			"internal_ip", internalIP)
		e.gauge("kube_node_spec_unschedulable", "Whether a node can schedule new pods.", b2f(n.Spec.Unschedulable), "node", n.Name)
		for _, cond := range n.Status.Conditions {
			for status, v := range conditionStatuses(cond.Status) {
				e.gauge("kube_node_status_condition", "The condition of a cluster node.", v, "node", n.Name, "condition", string(cond.Type), "status", status)
			}
		}
		resources(e, "kube_node_status_capacity", "The capacity for different resources of a node.", n.Status.Capacity, "node", n.Name)
		resources(e, "kube_node_status_allocatable", "The allocatable for different resources of a node that are available for scheduling.", n.Status.Allocatable, "node", n.Name)
	}
	return nil
}

// resources emits one series per resource with KSM's resource/unit labels.
func resources(e emitter, name, help string, rl corev1.ResourceList, kv ...string) {
	for res, q := range rl {
		unit, v := "", q.AsApproximateFloat64()
		switch res {
		case corev1.ResourceCPU:
			unit = "core"
		case corev1.ResourceMemory, corev1.ResourceStorage, corev1.ResourceEphemeralStorage:
			unit = "byte"
		case corev1.ResourcePods:
			unit = "integer"
		default:
			continue
		}
		e.gauge(name, help, v, append(kv, "resource", string(res), "unit", unit)...)
	}
}

func (c *Collector) collectPods(e emitter) error {
	pods, err := c.pods.List(labels.Everything())
	if err != nil {
		return fmt.Errorf("listing pods: %w", err)
	}
	for _, p := range pods {
		ns, name := p.Namespace, p.Name
		createdKind, createdName := "", ""
		if o := metav1.GetControllerOf(p); o != nil {
			createdKind, createdName = o.Kind, o.Name
		}
		e.gauge("kube_pod_info", "Information about pod.", 1, "namespace", ns, "pod", name, "node", p.Spec.NodeName,
			"host_ip", p.Status.HostIP, "pod_ip", p.Status.PodIP, "created_by_kind", createdKind, "created_by_name", createdName,
			"uid", string(p.UID))
		for _, o := range p.OwnerReferences {
			e.gauge("kube_pod_owner", "Information about the Pod's owner.", 1, "namespace", ns, "pod", name,
				"owner_kind", o.Kind, "owner_name", o.Name, "owner_is_controller", strconv.FormatBool(o.Controller != nil && *o.Controller))
		}
		workload, kind := c.workloadOf(p)
		e.gauge("outpost_pod_workload_info", "The workload (Deployment, StatefulSet, DaemonSet, Job, CronJob, or the pod itself) that owns a pod.", 1,
			"namespace", ns, "pod", name, "workload", workload, "workload_type", kind)
		for _, phase := range []corev1.PodPhase{corev1.PodPending, corev1.PodRunning, corev1.PodSucceeded, corev1.PodFailed, corev1.PodUnknown} {
			e.gauge("kube_pod_status_phase", "The pods current phase.", b2f(p.Status.Phase == phase), "namespace", ns, "pod", name, "phase", string(phase))
		}
		for _, cond := range p.Status.Conditions {
			if cond.Type != corev1.PodReady {
				continue
			}
			for status, v := range conditionStatuses(cond.Status) {
				e.gauge("kube_pod_status_ready", "Describes whether the pod is ready to serve requests.", v, "namespace", ns, "pod", name, "condition", status)
			}
		}
		for _, cs := range p.Status.ContainerStatuses {
			kv := []string{"namespace", ns, "pod", name, "container", cs.Name}
			e.counter("kube_pod_container_status_restarts_total", "The number of container restarts per container.", float64(cs.RestartCount), kv...)
			e.gauge("kube_pod_container_status_ready", "Describes whether the containers readiness check succeeded.", b2f(cs.Ready), kv...)
			e.gauge("kube_pod_container_status_running", "Describes whether the container is currently in running state.", b2f(cs.State.Running != nil), kv...)
			if w := cs.State.Waiting; w != nil && w.Reason != "" {
				e.gauge("kube_pod_container_status_waiting_reason", "Describes the reason the container is currently in waiting state.", 1, append(kv, "reason", w.Reason)...)
			}
			if t := cs.State.Terminated; t != nil && t.Reason != "" {
				e.gauge("kube_pod_container_status_terminated_reason", "Describes the reason the container is currently in terminated state.", 1, append(kv, "reason", t.Reason)...)
			}
			if t := cs.LastTerminationState.Terminated; t != nil && t.Reason != "" {
				e.gauge("kube_pod_container_status_last_terminated_reason", "Describes the last reason the container was in terminated state.", 1, append(kv, "reason", t.Reason)...)
			}
		}
		for _, ctr := range p.Spec.Containers {
			kv := []string{"namespace", ns, "pod", name, "container", ctr.Name, "node", p.Spec.NodeName}
			resources(e, "kube_pod_container_resource_requests", "The number of requested request resource by a container.", ctr.Resources.Requests, kv...)
			resources(e, "kube_pod_container_resource_limits", "The number of requested limit resource by a container.", ctr.Resources.Limits, kv...)
		}
	}
	return nil
}

// workloadOf follows controller references up to the object a user
// manages: Pod → ReplicaSet → Deployment, Pod → Job → CronJob.
func (c *Collector) workloadOf(p *corev1.Pod) (name, kind string) {
	o := metav1.GetControllerOf(p)
	if o == nil {
		return p.Name, "pod"
	}
	switch o.Kind {
	case "ReplicaSet":
		if rs, err := c.replicasets.ReplicaSets(p.Namespace).Get(o.Name); err == nil {
			if ro := metav1.GetControllerOf(rs); ro != nil {
				return ro.Name, lowerKind(ro.Kind)
			}
		}
		return o.Name, "replicaset"
	case "Job":
		if j, err := c.jobs.Jobs(p.Namespace).Get(o.Name); err == nil {
			if jo := metav1.GetControllerOf(j); jo != nil {
				return jo.Name, lowerKind(jo.Kind)
			}
		}
		return o.Name, "job"
	}
	return o.Name, lowerKind(o.Kind)
}

func lowerKind(k string) string {
	b := []byte(k)
	for i, ch := range b {
		if ch >= 'A' && ch <= 'Z' {
			b[i] = ch + 'a' - 'A'
		}
	}
	return string(b)
}

func int32Or(p *int32, def int32) float64 {
	if p == nil {
		return float64(def)
	}
	return float64(*p)
}

func (c *Collector) collectWorkloads(e emitter) error {
	deps, err := c.deployments.List(labels.Everything())
	if err != nil {
		return fmt.Errorf("listing deployments: %w", err)
	}
	for _, d := range deps {
		kv := []string{"namespace", d.Namespace, "deployment", d.Name}
		e.gauge("kube_deployment_spec_replicas", "Number of desired pods for a deployment.", int32Or(d.Spec.Replicas, 1), kv...)
		e.gauge("kube_deployment_status_replicas", "The number of replicas per deployment.", float64(d.Status.Replicas), kv...)
		e.gauge("kube_deployment_status_replicas_available", "The number of available replicas per deployment.", float64(d.Status.AvailableReplicas), kv...)
		e.gauge("kube_deployment_status_replicas_unavailable", "The number of unavailable replicas per deployment.", float64(d.Status.UnavailableReplicas), kv...)
		e.gauge("kube_deployment_status_replicas_updated", "The number of updated replicas per deployment.", float64(d.Status.UpdatedReplicas), kv...)
		e.gauge("kube_deployment_status_observed_generation", "The generation observed by the deployment controller.", float64(d.Status.ObservedGeneration), kv...)
		e.gauge("kube_deployment_metadata_generation", "Sequence number representing a specific generation of the desired state.", float64(d.Generation), kv...)
		e.gauge("kube_deployment_spec_paused", "Whether the deployment is paused and will not be processed by the deployment controller.", b2f(d.Spec.Paused), kv...)
	}
	sts, err := c.statefulsets.List(labels.Everything())
	if err != nil {
		return fmt.Errorf("listing statefulsets: %w", err)
	}
	for _, s := range sts {
		kv := []string{"namespace", s.Namespace, "statefulset", s.Name}
		e.gauge("kube_statefulset_replicas", "Number of desired pods for a StatefulSet.", int32Or(s.Spec.Replicas, 1), kv...)
		e.gauge("kube_statefulset_status_replicas", "The number of replicas per StatefulSet.", float64(s.Status.Replicas), kv...)
		e.gauge("kube_statefulset_status_replicas_ready", "The number of ready replicas per StatefulSet.", float64(s.Status.ReadyReplicas), kv...)
		e.gauge("kube_statefulset_status_replicas_available", "The number of available replicas per StatefulSet.", float64(s.Status.AvailableReplicas), kv...)
		e.gauge("kube_statefulset_status_replicas_updated", "The number of updated replicas per StatefulSet.", float64(s.Status.UpdatedReplicas), kv...)
	}
	dss, err := c.daemonsets.List(labels.Everything())
	if err != nil {
		return fmt.Errorf("listing daemonsets: %w", err)
	}
	for _, d := range dss {
		kv := []string{"namespace", d.Namespace, "daemonset", d.Name}
		e.gauge("kube_daemonset_status_desired_number_scheduled", "The number of nodes that should be running the daemon pod.", float64(d.Status.DesiredNumberScheduled), kv...)
		e.gauge("kube_daemonset_status_number_ready", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.", float64(d.Status.NumberReady), kv...)
		e.gauge("kube_daemonset_status_number_available", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.", float64(d.Status.NumberAvailable), kv...)
		e.gauge("kube_daemonset_status_number_unavailable", "The number of nodes that should be running the daemon pod and have none of the daemon pod running and available.", float64(d.Status.NumberUnavailable), kv...)
	}
	rss, err := c.replicasets.List(labels.Everything())
	if err != nil {
		return fmt.Errorf("listing replicasets: %w", err)
	}
	for _, rs := range rss {
		kind, owner := "<none>", "<none>"
		if o := metav1.GetControllerOf(rs); o != nil {
			kind, owner = o.Kind, o.Name
		}
		e.gauge("kube_replicaset_owner", "Information about the ReplicaSet's owner.", 1, "namespace", rs.Namespace, "replicaset", rs.Name, "owner_kind", kind, "owner_name", owner)
		e.gauge("kube_replicaset_spec_replicas", "Number of desired pods for a ReplicaSet.", int32Or(rs.Spec.Replicas, 1), "namespace", rs.Namespace, "replicaset", rs.Name)
	}
	jobs, err := c.jobs.List(labels.Everything())
	if err != nil {
		return fmt.Errorf("listing jobs: %w", err)
	}
	for _, j := range jobs {
		kv := []string{"namespace", j.Namespace, "job_name", j.Name}
		e.gauge("kube_job_status_active", "The number of actively running pods.", float64(j.Status.Active), kv...)
		e.gauge("kube_job_status_succeeded", "The number of pods which reached Phase Succeeded.", float64(j.Status.Succeeded), kv...)
		e.gauge("kube_job_status_failed", "The number of pods which reached Phase Failed.", float64(j.Status.Failed), kv...)
		for _, cond := range j.Status.Conditions {
			if cond.Type == batchv1.JobFailed && cond.Status == corev1.ConditionTrue {
				e.gauge("kube_job_failed", "The job has failed its execution.", 1, kv...)
			}
		}
	}
	return nil
}

func (c *Collector) collectPVCs(e emitter) error {
	pvcs, err := c.pvcs.List(labels.Everything())
	if err != nil {
		return fmt.Errorf("listing persistentvolumeclaims: %w", err)
	}
	for _, p := range pvcs {
		kv := []string{"namespace", p.Namespace, "persistentvolumeclaim", p.Name}
		sc := ""
		if p.Spec.StorageClassName != nil {
			sc = *p.Spec.StorageClassName
		}
		e.gauge("kube_persistentvolumeclaim_info", "Information about persistent volume claim.", 1, append(kv, "storageclass", sc, "volumename", p.Spec.VolumeName)...)
		for _, phase := range []corev1.PersistentVolumeClaimPhase{corev1.ClaimPending, corev1.ClaimBound, corev1.ClaimLost} {
			e.gauge("kube_persistentvolumeclaim_status_phase", "The phase the persistent volume claim is currently in.", b2f(p.Status.Phase == phase), append(kv, "phase", string(phase))...)
		}
		if q, ok := p.Spec.Resources.Requests[corev1.ResourceStorage]; ok {
			e.gauge("kube_persistentvolumeclaim_resource_requests_storage_bytes", "The capacity of storage requested by the persistent volume claim.", q.AsApproximateFloat64(), kv...)
		}
		if q, ok := p.Status.Capacity[corev1.ResourceStorage]; ok {
			e.gauge("kube_persistentvolumeclaim_status_capacity_bytes", "The capacity of the bound volume.", q.AsApproximateFloat64(), kv...)
		}
	}
	return nil
}

func (c *Collector) collectNamespaces(e emitter) error {
	nss, err := c.namespaces.List(labels.Everything())
	if err != nil {
		return fmt.Errorf("listing namespaces: %w", err)
	}
	for _, ns := range nss {
		for _, phase := range []corev1.NamespacePhase{corev1.NamespaceActive, corev1.NamespaceTerminating} {
			e.gauge("kube_namespace_status_phase", "Kubernetes namespace status phase.", b2f(ns.Status.Phase == phase), "namespace", ns.Name, "phase", string(phase))
		}
	}
	return nil
}
