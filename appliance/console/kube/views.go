package kube

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"
)

// everything selects all objects in a lister.
var everything = labels.Everything()

// Kinds as they appear in URLs and live updates.
const (
	KindDeployments  = "deployments"
	KindStatefulSets = "statefulsets"
	KindDaemonSets   = "daemonsets"
	KindJobs         = "jobs"
	KindCronJobs     = "cronjobs"
	KindPods         = "pods"
	KindServices     = "services"
	KindIngresses    = "ingresses"
	KindConfigMaps   = "configmaps"
	KindSecrets      = "secrets"
	KindPVCs         = "persistentvolumeclaims"
	KindNodes        = "nodes"
	KindEvents       = "events"
)

// WorkloadKinds lists the workload kinds the console manages.
var WorkloadKinds = []string{KindDeployments, KindStatefulSets, KindDaemonSets, KindJobs, KindCronJobs}

// singular names a kind in messages ("deployment").
func singular(kind string) string {
	switch kind {
	case KindDeployments:
		return "deployment"
	case KindStatefulSets:
		return "stateful set"
	case KindDaemonSets:
		return "daemon set"
	case KindJobs:
		return "job"
	case KindCronJobs:
		return "cron job"
	case KindPods:
		return "pod"
	case KindServices:
		return "service"
	case KindIngresses:
		return "ingress"
	case KindConfigMaps:
		return "config map"
	case KindSecrets:
		return "secret"
	case KindPVCs:
		return "volume claim"
	}
	return strings.TrimSuffix(kind, "s")
}

// Workload statuses shown in lists.
const (
	StatusRunning   = "Running"
	StatusUpdating  = "Updating"
	StatusStopped   = "Stopped"
	StatusFailed    = "Failed"
	StatusCompleted = "Completed"
	StatusSuspended = "Suspended"
	StatusScheduled = "Scheduled"
)

// Workload is the list view of a Deployment, StatefulSet, DaemonSet, Job or CronJob.
type Workload struct {
	Kind      string            `json:"kind"`
	Namespace string            `json:"namespace"`
	Name      string            `json:"name"`
	Images    []string          `json:"images"`
	Desired   int32             `json:"desired"`
	Ready     int32             `json:"ready"`
	Updated   int32             `json:"updated"`
	Status    string            `json:"status"`
	Message   string            `json:"message,omitempty"`
	Revision  int64             `json:"revision,omitempty"`
	Schedule  string            `json:"schedule,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
	CreatedAt time.Time         `json:"createdAt"`
	// Scalable, Restartable and RollbackAble tell the UI which actions apply.
	Scalable     bool `json:"scalable"`
	Restartable  bool `json:"restartable"`
	RollbackAble bool `json:"rollbackAble"`
}

// Container is a container of a workload's pod template.
type Container struct {
	Name  string          `json:"name"`
	Image string          `json:"image"`
	Ports []ContainerPort `json:"ports,omitempty"`
}

// ContainerPort is a declared port.
type ContainerPort struct {
	Name     string `json:"name,omitempty"`
	Port     int32  `json:"port"`
	Protocol string `json:"protocol"`
}

// Revision is a past or current version of a Deployment.
type Revision struct {
	Revision  int64     `json:"revision"`
	Images    []string  `json:"images"`
	CreatedAt time.Time `json:"createdAt"`
	Current   bool      `json:"current"`
}

// WorkloadDetail is a workload with its pods, revisions and events.
type WorkloadDetail struct {
	Workload
	Containers []Container `json:"containers"`
	Selector   string      `json:"selector,omitempty"`
	Pods       []Pod       `json:"pods"`
	Revisions  []Revision  `json:"revisions"`
	Events     []Event     `json:"events"`
	// Strategy is the update strategy (RollingUpdate, Recreate, OnDelete).
	Strategy string `json:"strategy,omitempty"`
}

// Pod is the view of a pod.
type Pod struct {
	Namespace  string            `json:"namespace"`
	Name       string            `json:"name"`
	Status     string            `json:"status"`
	Phase      string            `json:"phase"`
	Ready      string            `json:"ready"`
	Restarts   int32             `json:"restarts"`
	Node       string            `json:"node,omitempty"`
	IP         string            `json:"ip,omitempty"`
	CreatedAt  time.Time         `json:"createdAt"`
	Owner      *OwnerRef         `json:"owner,omitempty"`
	Containers []PodContainer    `json:"containers"`
	Labels     map[string]string `json:"labels,omitempty"`
}

// OwnerRef names the workload a pod belongs to.
type OwnerRef struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// PodContainer is one container's state.
type PodContainer struct {
	Name     string `json:"name"`
	Image    string `json:"image"`
	Ready    bool   `json:"ready"`
	State    string `json:"state"`
	Reason   string `json:"reason,omitempty"`
	Restarts int32  `json:"restarts"`
}

// Node is the view of a node.
type Node struct {
	Name             string            `json:"name"`
	Ready            bool              `json:"ready"`
	Status           string            `json:"status"`
	Roles            []string          `json:"roles"`
	KubeletVersion   string            `json:"kubeletVersion"`
	InternalIP       string            `json:"internalIP"`
	OSImage          string            `json:"osImage"`
	KernelVersion    string            `json:"kernelVersion"`
	ContainerRuntime string            `json:"containerRuntime"`
	CPU              string            `json:"cpu"`
	Memory           int64             `json:"memoryBytes"`
	Pods             int               `json:"pods"`
	PodCapacity      int64             `json:"podCapacity"`
	Unschedulable    bool              `json:"unschedulable"`
	Conditions       []NodeCondition   `json:"conditions"`
	Labels           map[string]string `json:"labels,omitempty"`
	CreatedAt        time.Time         `json:"createdAt"`
}

// NodeCondition is one node condition (Ready, MemoryPressure, ...).
type NodeCondition struct {
	Type    string `json:"type"`
	Status  string `json:"status"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// Event is the view of a Kubernetes event.
type Event struct {
	Namespace string    `json:"namespace"`
	Name      string    `json:"name"`
	Type      string    `json:"type"`
	Reason    string    `json:"reason"`
	Message   string    `json:"message"`
	Object    string    `json:"object"`
	Count     int32     `json:"count"`
	LastSeen  time.Time `json:"lastSeen"`
}

func createdAt(m metav1.ObjectMeta) time.Time { return m.CreationTimestamp.UTC() }

func imagesOf(spec corev1.PodSpec) []string {
	out := make([]string, 0, len(spec.Containers))
	for _, c := range spec.Containers {
		out = append(out, c.Image)
	}
	return out
}

func containersOf(spec corev1.PodSpec) []Container {
	out := make([]Container, 0, len(spec.Containers))
	for _, c := range spec.Containers {
		ct := Container{Name: c.Name, Image: c.Image}
		for _, p := range c.Ports {
			ct.Ports = append(ct.Ports, ContainerPort{Name: p.Name, Port: p.ContainerPort, Protocol: string(p.Protocol)})
		}
		out = append(out, ct)
	}
	return out
}

func deref(p *int32, def int32) int32 {
	if p == nil {
		return def
	}
	return *p
}

func deploymentView(d *appsv1.Deployment) Workload {
	w := Workload{Kind: KindDeployments, Namespace: d.Namespace, Name: d.Name, Images: imagesOf(d.Spec.Template.Spec),
		Desired: deref(d.Spec.Replicas, 1), Ready: d.Status.ReadyReplicas, Updated: d.Status.UpdatedReplicas,
		Labels: d.Labels, CreatedAt: createdAt(d.ObjectMeta), Scalable: true, Restartable: true, RollbackAble: true}
	w.Revision, _ = strconv.ParseInt(d.Annotations["deployment.kubernetes.io/revision"], 10, 64)
	switch {
	case w.Desired == 0:
		w.Status = StatusStopped
	case hasDeploymentCondition(d, appsv1.DeploymentProgressing, corev1.ConditionFalse):
		w.Status = StatusFailed
		w.Message = deploymentConditionMessage(d, appsv1.DeploymentProgressing)
	case d.Status.ObservedGeneration >= d.Generation && d.Status.UpdatedReplicas == w.Desired &&
		d.Status.AvailableReplicas == w.Desired && d.Status.Replicas == w.Desired:
		w.Status = StatusRunning
	default:
		w.Status = StatusUpdating
	}
	return w
}

func hasDeploymentCondition(d *appsv1.Deployment, t appsv1.DeploymentConditionType, s corev1.ConditionStatus) bool {
	for _, c := range d.Status.Conditions {
		if c.Type == t && c.Status == s {
			return true
		}
	}
	return false
}

func deploymentConditionMessage(d *appsv1.Deployment, t appsv1.DeploymentConditionType) string {
	for _, c := range d.Status.Conditions {
		if c.Type == t {
			return c.Message
		}
	}
	return ""
}

func statefulSetView(s *appsv1.StatefulSet) Workload {
	w := Workload{Kind: KindStatefulSets, Namespace: s.Namespace, Name: s.Name, Images: imagesOf(s.Spec.Template.Spec),
		Desired: deref(s.Spec.Replicas, 1), Ready: s.Status.ReadyReplicas, Updated: s.Status.UpdatedReplicas,
		Labels: s.Labels, CreatedAt: createdAt(s.ObjectMeta), Scalable: true, Restartable: true}
	switch {
	case w.Desired == 0:
		w.Status = StatusStopped
	case s.Status.ObservedGeneration >= s.Generation && s.Status.ReadyReplicas == w.Desired && s.Status.UpdatedReplicas == w.Desired:
		w.Status = StatusRunning
	default:
		w.Status = StatusUpdating
	}
	return w
}

func daemonSetView(d *appsv1.DaemonSet) Workload {
	w := Workload{Kind: KindDaemonSets, Namespace: d.Namespace, Name: d.Name, Images: imagesOf(d.Spec.Template.Spec),
		Desired: d.Status.DesiredNumberScheduled, Ready: d.Status.NumberReady, Updated: d.Status.UpdatedNumberScheduled,
		Labels: d.Labels, CreatedAt: createdAt(d.ObjectMeta), Restartable: true}
	if d.Status.ObservedGeneration >= d.Generation && d.Status.NumberReady == w.Desired && d.Status.UpdatedNumberScheduled == w.Desired {
		w.Status = StatusRunning
	} else {
		w.Status = StatusUpdating
	}
	return w
}

func jobView(j *batchv1.Job) Workload {
	w := Workload{Kind: KindJobs, Namespace: j.Namespace, Name: j.Name, Images: imagesOf(j.Spec.Template.Spec),
		Desired: deref(j.Spec.Completions, 1), Ready: j.Status.Succeeded, Labels: j.Labels, CreatedAt: createdAt(j.ObjectMeta)}
	w.Status = StatusRunning
	for _, c := range j.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			w.Status = StatusCompleted
		case batchv1.JobFailed:
			w.Status, w.Message = StatusFailed, c.Message
		case batchv1.JobSuspended:
			w.Status = StatusSuspended
		}
	}
	return w
}

func cronJobView(cj *batchv1.CronJob) Workload {
	w := Workload{Kind: KindCronJobs, Namespace: cj.Namespace, Name: cj.Name, Images: imagesOf(cj.Spec.JobTemplate.Spec.Template.Spec),
		Desired: int32(len(cj.Status.Active)), Ready: int32(len(cj.Status.Active)), Schedule: cj.Spec.Schedule,
		Labels: cj.Labels, CreatedAt: createdAt(cj.ObjectMeta), Status: StatusScheduled}
	if cj.Spec.Suspend != nil && *cj.Spec.Suspend {
		w.Status = StatusSuspended
	}
	return w
}

// workloadFromObject returns the view of any workload object.
func (c *Cluster) workloadFromObject(o any) Workload {
	switch x := unwrapDeleted(o).(type) {
	case *appsv1.Deployment:
		return deploymentView(x)
	case *appsv1.StatefulSet:
		return statefulSetView(x)
	case *appsv1.DaemonSet:
		return daemonSetView(x)
	case *batchv1.Job:
		return jobView(x)
	case *batchv1.CronJob:
		return cronJobView(x)
	}
	return Workload{}
}

func unwrapDeleted(o any) any {
	if d, ok := o.(cache.DeletedFinalStateUnknown); ok {
		return d.Obj
	}
	return o
}

func asPod(o any) *corev1.Pod {
	if p, ok := unwrapDeleted(o).(*corev1.Pod); ok {
		return p
	}
	return &corev1.Pod{}
}

func asNode(o any) *corev1.Node {
	if n, ok := unwrapDeleted(o).(*corev1.Node); ok {
		return n
	}
	return &corev1.Node{}
}

func asEvent(o any) *corev1.Event {
	if e, ok := unwrapDeleted(o).(*corev1.Event); ok {
		return e
	}
	return &corev1.Event{}
}

// podStatus is what `kubectl get pods` shows in STATUS.
func podStatus(p *corev1.Pod) string {
	if p.DeletionTimestamp != nil {
		return "Terminating"
	}
	status := string(p.Status.Phase)
	if p.Status.Reason != "" {
		status = p.Status.Reason
	}
	for _, cs := range p.Status.InitContainerStatuses {
		if cs.State.Waiting != nil && cs.State.Waiting.Reason != "" && cs.State.Waiting.Reason != "PodInitializing" {
			return "Init:" + cs.State.Waiting.Reason
		}
		if cs.State.Terminated != nil && cs.State.Terminated.ExitCode != 0 {
			return "Init:Error"
		}
	}
	for _, cs := range p.Status.ContainerStatuses {
		switch {
		case cs.State.Waiting != nil && cs.State.Waiting.Reason != "":
			status = cs.State.Waiting.Reason
		case cs.State.Terminated != nil && cs.State.Terminated.Reason != "" && p.Status.Phase != corev1.PodRunning:
			status = cs.State.Terminated.Reason
		}
	}
	return status
}

func (c *Cluster) podView(p *corev1.Pod) Pod {
	v := Pod{Namespace: p.Namespace, Name: p.Name, Status: podStatus(p), Phase: string(p.Status.Phase), Node: p.Spec.NodeName,
		IP: p.Status.PodIP, CreatedAt: createdAt(p.ObjectMeta), Labels: p.Labels, Containers: []PodContainer{}}
	ready := 0
	statuses := map[string]corev1.ContainerStatus{}
	for _, cs := range p.Status.ContainerStatuses {
		statuses[cs.Name] = cs
	}
	for _, ct := range p.Spec.Containers {
		pc := PodContainer{Name: ct.Name, Image: ct.Image, State: "waiting"}
		if cs, ok := statuses[ct.Name]; ok {
			pc.Ready, pc.Restarts = cs.Ready, cs.RestartCount
			switch {
			case cs.State.Running != nil:
				pc.State = "running"
			case cs.State.Terminated != nil:
				pc.State, pc.Reason = "terminated", cs.State.Terminated.Reason
			case cs.State.Waiting != nil:
				pc.Reason = cs.State.Waiting.Reason
			}
			if cs.Ready {
				ready++
			}
			v.Restarts += cs.RestartCount
		}
		v.Containers = append(v.Containers, pc)
	}
	v.Ready = fmt.Sprintf("%d/%d", ready, len(p.Spec.Containers))
	v.Owner = c.topOwner(p.Namespace, p.OwnerReferences)
	return v
}

// topOwner follows Pod → ReplicaSet → Deployment and Pod → Job → CronJob
// through the caches to the workload the user created.
func (c *Cluster) topOwner(ns string, refs []metav1.OwnerReference) *OwnerRef {
	ref := metav1.GetControllerOfNoCopy(&metav1.ObjectMeta{OwnerReferences: refs})
	if ref == nil {
		return nil
	}
	switch ref.Kind {
	case "ReplicaSet":
		if rs, err := c.replicaSets.ReplicaSets(ns).Get(ref.Name); err == nil {
			if up := metav1.GetControllerOfNoCopy(rs); up != nil && up.Kind == "Deployment" {
				return &OwnerRef{Kind: KindDeployments, Name: up.Name}
			}
		}
		return &OwnerRef{Kind: "replicasets", Name: ref.Name}
	case "Job":
		if j, err := c.jobs.Jobs(ns).Get(ref.Name); err == nil {
			if up := metav1.GetControllerOfNoCopy(j); up != nil && up.Kind == "CronJob" {
				return &OwnerRef{Kind: KindCronJobs, Name: up.Name}
			}
		}
		return &OwnerRef{Kind: KindJobs, Name: ref.Name}
	case "StatefulSet":
		return &OwnerRef{Kind: KindStatefulSets, Name: ref.Name}
	case "DaemonSet":
		return &OwnerRef{Kind: KindDaemonSets, Name: ref.Name}
	}
	return &OwnerRef{Kind: strings.ToLower(ref.Kind) + "s", Name: ref.Name}
}

func (c *Cluster) nodeView(n *corev1.Node) Node {
	v := Node{Name: n.Name, KubeletVersion: n.Status.NodeInfo.KubeletVersion, OSImage: n.Status.NodeInfo.OSImage,
		KernelVersion: n.Status.NodeInfo.KernelVersion, ContainerRuntime: n.Status.NodeInfo.ContainerRuntimeVersion,
		CPU: n.Status.Capacity.Cpu().String(), Memory: n.Status.Capacity.Memory().Value(), PodCapacity: n.Status.Capacity.Pods().Value(),
		Unschedulable: n.Spec.Unschedulable, Labels: n.Labels, CreatedAt: createdAt(n.ObjectMeta), Roles: []string{}, Conditions: []NodeCondition{}}
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP && v.InternalIP == "" {
			v.InternalIP = a.Address
		}
	}
	for l := range n.Labels {
		if r, ok := strings.CutPrefix(l, "node-role.kubernetes.io/"); ok && r != "" {
			v.Roles = append(v.Roles, r)
		}
	}
	sort.Strings(v.Roles)
	v.Status = "NotReady"
	for _, cond := range n.Status.Conditions {
		v.Conditions = append(v.Conditions, NodeCondition{Type: string(cond.Type), Status: string(cond.Status), Reason: cond.Reason, Message: cond.Message})
		if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
			v.Ready, v.Status = true, "Ready"
		}
	}
	if v.Unschedulable {
		v.Status += ",SchedulingDisabled"
	}
	if c != nil && c.pods != nil {
		if pods, err := c.pods.List(everything); err == nil {
			for _, p := range pods {
				if p.Spec.NodeName == n.Name && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
					v.Pods++
				}
			}
		}
	}
	return v
}

func eventView(e *corev1.Event) Event {
	last := e.LastTimestamp.Time
	if last.IsZero() {
		last = e.EventTime.Time
	}
	if last.IsZero() {
		last = e.CreationTimestamp.Time
	}
	count := e.Count
	if e.Series != nil {
		count = e.Series.Count
	}
	if count == 0 {
		count = 1
	}
	return Event{Namespace: e.Namespace, Name: e.Name, Type: e.Type, Reason: e.Reason, Message: e.Message,
		Object: strings.ToLower(e.InvolvedObject.Kind) + "/" + e.InvolvedObject.Name, Count: count, LastSeen: last.UTC()}
}

// Service is the view of a Service.
type Service struct {
	Namespace string            `json:"namespace"`
	Name      string            `json:"name"`
	Type      string            `json:"type"`
	ClusterIP string            `json:"clusterIP"`
	External  []string          `json:"external,omitempty"`
	Ports     []ServicePort     `json:"ports"`
	Selector  map[string]string `json:"selector,omitempty"`
	CreatedAt time.Time         `json:"createdAt"`
}

// ServicePort is one port of a Service.
type ServicePort struct {
	Name       string `json:"name,omitempty"`
	Port       int32  `json:"port"`
	TargetPort string `json:"targetPort"`
	NodePort   int32  `json:"nodePort,omitempty"`
	Protocol   string `json:"protocol"`
}

// Ingress is the view of an Ingress.
type Ingress struct {
	Namespace string        `json:"namespace"`
	Name      string        `json:"name"`
	Class     string        `json:"class,omitempty"`
	Rules     []IngressRule `json:"rules"`
	TLSHosts  []string      `json:"tlsHosts,omitempty"`
	Address   []string      `json:"address,omitempty"`
	CreatedAt time.Time     `json:"createdAt"`
}

// IngressRule is one host/path → service route.
type IngressRule struct {
	Host    string `json:"host"`
	Path    string `json:"path"`
	Service string `json:"service"`
	Port    string `json:"port"`
}

// ConfigMap is the view of a ConfigMap; its data is not secret and shown.
type ConfigMap struct {
	Namespace string            `json:"namespace"`
	Name      string            `json:"name"`
	Data      map[string]string `json:"data"`
	Binary    []string          `json:"binaryKeys,omitempty"`
	CreatedAt time.Time         `json:"createdAt"`
}

// Secret is the view of a Secret: key names only, values are revealed on
// request (and that is audited).
type Secret struct {
	Namespace string    `json:"namespace"`
	Name      string    `json:"name"`
	Type      string    `json:"type"`
	Keys      []string  `json:"keys"`
	CreatedAt time.Time `json:"createdAt"`
}

// PVC is the view of a PersistentVolumeClaim.
type PVC struct {
	Namespace    string    `json:"namespace"`
	Name         string    `json:"name"`
	Status       string    `json:"status"`
	Volume       string    `json:"volume,omitempty"`
	Capacity     string    `json:"capacity,omitempty"`
	Requested    string    `json:"requested,omitempty"`
	StorageClass string    `json:"storageClass,omitempty"`
	AccessModes  []string  `json:"accessModes"`
	CreatedAt    time.Time `json:"createdAt"`
}

// StorageClass is the view of a StorageClass.
type StorageClass struct {
	Name              string    `json:"name"`
	Provisioner       string    `json:"provisioner"`
	ReclaimPolicy     string    `json:"reclaimPolicy"`
	VolumeBindingMode string    `json:"volumeBindingMode"`
	Default           bool      `json:"default"`
	AllowExpansion    bool      `json:"allowExpansion"`
	CreatedAt         time.Time `json:"createdAt"`
}

func serviceView(s *corev1.Service) Service {
	v := Service{Namespace: s.Namespace, Name: s.Name, Type: string(s.Spec.Type), ClusterIP: s.Spec.ClusterIP,
		External: s.Spec.ExternalIPs, Selector: s.Spec.Selector, CreatedAt: createdAt(s.ObjectMeta), Ports: []ServicePort{}}
	for _, in := range s.Status.LoadBalancer.Ingress {
		if in.IP != "" {
			v.External = append(v.External, in.IP)
		} else if in.Hostname != "" {
			v.External = append(v.External, in.Hostname)
		}
	}
	for _, p := range s.Spec.Ports {
		v.Ports = append(v.Ports, ServicePort{Name: p.Name, Port: p.Port, TargetPort: p.TargetPort.String(), NodePort: p.NodePort,
			Protocol: string(p.Protocol)})
	}
	return v
}

func ingressView(in *networkingv1.Ingress) Ingress {
	v := Ingress{Namespace: in.Namespace, Name: in.Name, CreatedAt: createdAt(in.ObjectMeta), Rules: []IngressRule{}}
	if in.Spec.IngressClassName != nil {
		v.Class = *in.Spec.IngressClassName
	}
	backend := func(b networkingv1.IngressBackend) (string, string) {
		if b.Service == nil {
			return "", ""
		}
		port := b.Service.Port.Name
		if port == "" {
			port = strconv.Itoa(int(b.Service.Port.Number))
		}
		return b.Service.Name, port
	}
	if in.Spec.DefaultBackend != nil {
		svc, port := backend(*in.Spec.DefaultBackend)
		v.Rules = append(v.Rules, IngressRule{Host: "*", Path: "/", Service: svc, Port: port})
	}
	for _, r := range in.Spec.Rules {
		if r.HTTP == nil {
			continue
		}
		for _, p := range r.HTTP.Paths {
			svc, port := backend(p.Backend)
			v.Rules = append(v.Rules, IngressRule{Host: r.Host, Path: p.Path, Service: svc, Port: port})
		}
	}
	for _, t := range in.Spec.TLS {
		v.TLSHosts = append(v.TLSHosts, t.Hosts...)
	}
	for _, lb := range in.Status.LoadBalancer.Ingress {
		if lb.IP != "" {
			v.Address = append(v.Address, lb.IP)
		} else if lb.Hostname != "" {
			v.Address = append(v.Address, lb.Hostname)
		}
	}
	return v
}

func configMapView(cm *corev1.ConfigMap) ConfigMap {
	v := ConfigMap{Namespace: cm.Namespace, Name: cm.Name, Data: cm.Data, CreatedAt: createdAt(cm.ObjectMeta)}
	if v.Data == nil {
		v.Data = map[string]string{}
	}
	for k := range cm.BinaryData {
		v.Binary = append(v.Binary, k)
	}
	sort.Strings(v.Binary)
	return v
}

func secretView(s *corev1.Secret) Secret {
	v := Secret{Namespace: s.Namespace, Name: s.Name, Type: string(s.Type), CreatedAt: createdAt(s.ObjectMeta), Keys: []string{}}
	for k := range s.Data {
		v.Keys = append(v.Keys, k)
	}
	sort.Strings(v.Keys)
	return v
}

func pvcView(p *corev1.PersistentVolumeClaim) PVC {
	v := PVC{Namespace: p.Namespace, Name: p.Name, Status: string(p.Status.Phase), Volume: p.Spec.VolumeName,
		CreatedAt: createdAt(p.ObjectMeta), AccessModes: []string{}}
	if q, ok := p.Status.Capacity[corev1.ResourceStorage]; ok {
		v.Capacity = q.String()
	}
	if q, ok := p.Spec.Resources.Requests[corev1.ResourceStorage]; ok {
		v.Requested = q.String()
	}
	if p.Spec.StorageClassName != nil {
		v.StorageClass = *p.Spec.StorageClassName
	}
	for _, m := range p.Spec.AccessModes {
		v.AccessModes = append(v.AccessModes, string(m))
	}
	return v
}

func storageClassView(s *storagev1.StorageClass) StorageClass {
	v := StorageClass{Name: s.Name, Provisioner: s.Provisioner, CreatedAt: createdAt(s.ObjectMeta),
		Default: s.Annotations["storageclass.kubernetes.io/is-default-class"] == "true"}
	if s.ReclaimPolicy != nil {
		v.ReclaimPolicy = string(*s.ReclaimPolicy)
	}
	if s.VolumeBindingMode != nil {
		v.VolumeBindingMode = string(*s.VolumeBindingMode)
	}
	if s.AllowVolumeExpansion != nil {
		v.AllowExpansion = *s.AllowVolumeExpansion
	}
	return v
}

// configView returns the view of a Service, ConfigMap, Secret, PVC or Ingress.
func configView(o any) (ns, name string, v any) {
	switch x := unwrapDeleted(o).(type) {
	case *corev1.Service:
		return x.Namespace, x.Name, serviceView(x)
	case *corev1.ConfigMap:
		return x.Namespace, x.Name, configMapView(x)
	case *corev1.Secret:
		return x.Namespace, x.Name, secretView(x)
	case *corev1.PersistentVolumeClaim:
		return x.Namespace, x.Name, pvcView(x)
	case *networkingv1.Ingress:
		return x.Namespace, x.Name, ingressView(x)
	}
	return "", "", nil
}
