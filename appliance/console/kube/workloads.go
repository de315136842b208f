package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/outpost-platform/outpost/appliance/console/problem"
)

// IsWorkloadKind reports whether kind is one of WorkloadKinds.
func IsWorkloadKind(kind string) bool {
	for _, k := range WorkloadKinds {
		if k == kind {
			return true
		}
	}
	return false
}

// Workloads lists the workloads of a namespace, of one kind or of all
// kinds when kind is "".
func (c *Cluster) Workloads(ns, kind string) ([]Workload, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	out := []Workload{}
	want := func(k string) bool { return kind == "" || kind == k }
	if want(KindDeployments) {
		items, err := c.deployments.Deployments(ns).List(everything)
		if err != nil {
			return nil, err
		}
		for _, d := range items {
			out = append(out, deploymentView(d))
		}
	}
	if want(KindStatefulSets) {
		items, err := c.statefulSets.StatefulSets(ns).List(everything)
		if err != nil {
			return nil, err
		}
		for _, s := range items {
			out = append(out, statefulSetView(s))
		}
	}
	if want(KindDaemonSets) {
		items, err := c.daemonSets.DaemonSets(ns).List(everything)
		if err != nil {
			return nil, err
		}
		for _, d := range items {
			out = append(out, daemonSetView(d))
		}
	}
	if want(KindJobs) {
		items, err := c.jobs.Jobs(ns).List(everything)
		if err != nil {
			return nil, err
		}
		for _, j := range items {
			out = append(out, jobView(j))
		}
	}
	if want(KindCronJobs) {
		items, err := c.cronJobs.CronJobs(ns).List(everything)
		if err != nil {
			return nil, err
		}
		for _, cj := range items {
			out = append(out, cronJobView(cj))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// Workload returns one workload with its pods, revisions and events.
func (c *Cluster) Workload(ns, kind, name string) (WorkloadDetail, error) {
	if err := c.check(); err != nil {
		return WorkloadDetail{}, err
	}
	notFound := problem.NotFound(singular(kind))
	var d WorkloadDetail
	var spec corev1.PodSpec
	var selector *metav1.LabelSelector
	switch kind {
	case KindDeployments:
		o, err := c.deployments.Deployments(ns).Get(name)
		if err != nil {
			return d, notFound
		}
		d.Workload, spec, selector, d.Strategy = deploymentView(o), o.Spec.Template.Spec, o.Spec.Selector, string(o.Spec.Strategy.Type)
		d.Revisions = c.deploymentRevisions(o)
	case KindStatefulSets:
		o, err := c.statefulSets.StatefulSets(ns).Get(name)
		if err != nil {
			return d, notFound
		}
		d.Workload, spec, selector, d.Strategy = statefulSetView(o), o.Spec.Template.Spec, o.Spec.Selector, string(o.Spec.UpdateStrategy.Type)
	case KindDaemonSets:
		o, err := c.daemonSets.DaemonSets(ns).Get(name)
		if err != nil {
			return d, notFound
		}
		d.Workload, spec, selector, d.Strategy = daemonSetView(o), o.Spec.Template.Spec, o.Spec.Selector, string(o.Spec.UpdateStrategy.Type)
	case KindJobs:
		o, err := c.jobs.Jobs(ns).Get(name)
		if err != nil {
			return d, notFound
		}
		d.Workload, spec, selector = jobView(o), o.Spec.Template.Spec, o.Spec.Selector
	case KindCronJobs:
		o, err := c.cronJobs.CronJobs(ns).Get(name)
		if err != nil {
			return d, notFound
		}
		d.Workload, spec = cronJobView(o), o.Spec.JobTemplate.Spec.Template.Spec
	default:
		return d, notFound
	}
	if d.Revisions == nil {
		d.Revisions = []Revision{}
	}
	d.Containers = containersOf(spec)
	if selector != nil {
		d.Selector = metav1.FormatLabelSelector(selector)
	}
	d.Pods = c.workloadPods(ns, kind, name)
	related := map[string]bool{strings.TrimSuffix(kind, "s") + "/" + name: true}
	for _, p := range d.Pods {
		related["pod/"+p.Name] = true
	}
	if kind == KindDeployments {
		for _, r := range c.ownedReplicaSets(ns, name) {
			related["replicaset/"+r.Name] = true
		}
	}
	d.Events = c.eventsMatching(ns, func(e Event) bool { return related[e.Object] })
	return d, nil
}

// workloadPods returns the pods whose top owner is the workload, from the
// cached pod list of the namespace.
func (c *Cluster) workloadPods(ns, kind, name string) []Pod {
	out := []Pod{}
	enc, err := c.PodsList(ns)
	if err != nil {
		return out
	}
	for _, p := range enc.items.([]Pod) {
		if p.Owner != nil && p.Owner.Kind == kind && p.Owner.Name == name {
			out = append(out, p)
		}
	}
	return out
}

func (c *Cluster) ownedReplicaSets(ns, deployment string) []*appsv1.ReplicaSet {
	var out []*appsv1.ReplicaSet
	d, err := c.deployments.Deployments(ns).Get(deployment)
	if err != nil {
		return nil
	}
	rss, err := c.replicaSets.ReplicaSets(ns).List(everything)
	if err != nil {
		return nil
	}
	for _, rs := range rss {
		if ref := metav1.GetControllerOfNoCopy(rs); ref != nil && ref.UID == d.UID {
			out = append(out, rs)
		}
	}
	return out
}

const revisionAnnotation = "deployment.kubernetes.io/revision"

func (c *Cluster) deploymentRevisions(d *appsv1.Deployment) []Revision {
	current, _ := strconv.ParseInt(d.Annotations[revisionAnnotation], 10, 64)
	out := []Revision{}
	for _, rs := range c.ownedReplicaSets(d.Namespace, d.Name) {
		rev, err := strconv.ParseInt(rs.Annotations[revisionAnnotation], 10, 64)
		if err != nil {
			continue
		}
		out = append(out, Revision{Revision: rev, Images: imagesOf(rs.Spec.Template.Spec), CreatedAt: createdAt(rs.ObjectMeta),
			Current: rev == current})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Revision > out[j].Revision })
	return out
}

// eventsMatching returns the namespace's events accepted by keep, newest first, at most 100.
func (c *Cluster) eventsMatching(ns string, keep func(Event) bool) []Event {
	out := []Event{}
	evs, err := c.events.Events(ns).List(everything)
	if err != nil {
		return out
	}
	for _, e := range evs {
		if v := eventView(e); keep == nil || keep(v) {
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LastSeen.After(out[j].LastSeen) })
	if len(out) > 100 {
		out = out[:100]
	}
	return out
}

// Events returns the events of a namespace, newest first.
func (c *Cluster) Events(ns string) ([]Event, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	return c.eventsMatching(ns, nil), nil
}

// EnvVar is one environment variable of a form-created workload.
type EnvVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// WorkloadForm creates a workload from an image without YAML.
type WorkloadForm struct {
	// Kind is deployments (default), statefulsets, daemonsets, jobs or cronjobs.
	Kind     string `json:"kind"`
	Name     string `json:"name"`
	Image    string `json:"image"`
	Replicas *int32 `json:"replicas"`
	Port     int32  `json:"port"`
	// Expose creates a Service: "" (none), "ClusterIP" or "NodePort".
	Expose        string   `json:"expose"`
	Env           []EnvVar `json:"env"`
	Command       []string `json:"command"`
	Args          []string `json:"args"`
	CPURequest    string   `json:"cpuRequest"`
	MemoryRequest string   `json:"memoryRequest"`
	CPULimit      string   `json:"cpuLimit"`
	MemoryLimit   string   `json:"memoryLimit"`
	// Schedule is the cron schedule of a cron job.
	Schedule string `json:"schedule"`
}

var envName = regexp.MustCompile(`^[-._a-zA-Z][-._a-zA-Z0-9]*$`)

// MaxReplicas bounds scale requests from the console.
const MaxReplicas = 1000

func (f *WorkloadForm) validate() (map[string]resource.Quantity, error) {
	fe := problem.Fields{}
	if f.Kind == "" {
		f.Kind = KindDeployments
	}
	if !IsWorkloadKind(f.Kind) {
		fe.Add("kind", "must be one of "+strings.Join(WorkloadKinds, ", "))
	}
	if errs := validation.IsDNS1035Label(f.Name); len(errs) > 0 {
		fe.Add("name", "must be 1-63 lower-case letters, digits or '-', starting with a letter")
	}
	f.Image = strings.TrimSpace(f.Image)
	if f.Image == "" {
		fe.Add("image", "is required")
	} else if strings.ContainsAny(f.Image, " \t\n") || len(f.Image) > 512 {
		fe.Add("image", "must be an image reference such as registry.local/team/app:1.2")
	}
	if f.Replicas != nil && (*f.Replicas < 0 || *f.Replicas > MaxReplicas) {
		fe.Add("replicas", fmt.Sprintf("must be between 0 and %d", MaxReplicas))
	}
	if f.Port != 0 && (f.Port < 1 || f.Port > 65535) {
		fe.Add("port", "must be between 1 and 65535")
	}
	switch f.Expose {
	case "", "ClusterIP", "NodePort":
		if f.Expose != "" && f.Port == 0 {
			fe.Add("port", "is required to expose the workload as a service")
		}
		if f.Expose != "" && (f.Kind == KindJobs || f.Kind == KindCronJobs) {
			fe.Add("expose", "jobs cannot be exposed as a service")
		}
	default:
		fe.Add("expose", "must be empty, ClusterIP or NodePort")
	}
	for i, e := range f.Env {
		if !envName.MatchString(e.Name) {
			fe.Add(fmt.Sprintf("env[%d].name", i), "must be letters, digits, '_', '-' or '.', not starting with a digit")
		}
	}
	q := map[string]resource.Quantity{}
	for field, v := range map[string]string{"cpuRequest": f.CPURequest, "memoryRequest": f.MemoryRequest, "cpuLimit": f.CPULimit, "memoryLimit": f.MemoryLimit} {
		if v == "" {
			continue
		}
		parsed, err := resource.ParseQuantity(v)
		if err != nil || parsed.Sign() < 0 {
			if strings.HasPrefix(field, "cpu") {
				fe.Add(field, "must be a CPU amount such as 500m or 2")
			} else {
				fe.Add(field, "must be a memory amount such as 256Mi or 1Gi")
			}
			continue
		}
		q[field] = parsed
	}
	if f.Kind == KindCronJobs && len(strings.Fields(f.Schedule)) != 5 && !strings.HasPrefix(f.Schedule, "@") {
		fe.Add("schedule", "must be a cron schedule such as \"*/5 * * * *\"")
	}
	if (f.Kind == KindDaemonSets || f.Kind == KindJobs || f.Kind == KindCronJobs) && f.Replicas != nil && *f.Replicas != 1 {
		fe.Add("replicas", "applies to deployments and stateful sets only")
	}
	return q, fe.Err()
}

func (f *WorkloadForm) podTemplate(q map[string]resource.Quantity) corev1.PodTemplateSpec {
	labels := map[string]string{"app.kubernetes.io/name": f.Name}
	ct := corev1.Container{Name: f.Name, Image: f.Image, Command: f.Command, Args: f.Args}
	for _, e := range f.Env {
		ct.Env = append(ct.Env, corev1.EnvVar{Name: e.Name, Value: e.Value})
	}
	if f.Port > 0 {
		ct.Ports = []corev1.ContainerPort{{Name: "main", ContainerPort: f.Port, Protocol: corev1.ProtocolTCP}}
		// A readiness probe makes rolling updates wait for the new pod to
		// accept connections before the old one goes.
		ct.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(f.Port)}},
			PeriodSeconds: 5, FailureThreshold: 3}
	}
	set := func(list *corev1.ResourceList, name corev1.ResourceName, key string) {
		if v, ok := q[key]; ok {
			if *list == nil {
				*list = corev1.ResourceList{}
			}
			(*list)[name] = v
		}
	}
	set(&ct.Resources.Requests, corev1.ResourceCPU, "cpuRequest")
	set(&ct.Resources.Requests, corev1.ResourceMemory, "memoryRequest")
	set(&ct.Resources.Limits, corev1.ResourceCPU, "cpuLimit")
	set(&ct.Resources.Limits, corev1.ResourceMemory, "memoryLimit")
	spec := corev1.PodSpec{Containers: []corev1.Container{ct}}
	if f.Kind == KindJobs || f.Kind == KindCronJobs {
		spec.RestartPolicy = corev1.RestartPolicyOnFailure
	}
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec}
}

// CreateWorkload creates a workload (and a Service if asked) as id.
func (c *Cluster) CreateWorkload(ctx context.Context, id Identity, ns string, f WorkloadForm) (Workload, error) {
	q, err := f.validate()
	if err != nil {
		return Workload{}, err
	}
	if err := c.check(); err != nil {
		return Workload{}, err
	}
	cs, _, err := c.clientsFor(id)
	if err != nil {
		return Workload{}, err
	}
	tmpl := f.podTemplate(q)
	meta := metav1.ObjectMeta{Name: f.Name, Namespace: ns, Labels: map[string]string{"app.kubernetes.io/name": f.Name}}
	selector := &metav1.LabelSelector{MatchLabels: tmpl.Labels}
	replicas := int32(1)
	if f.Replicas != nil {
		replicas = *f.Replicas
	}
	what := singular(f.Kind) + " " + f.Name
	opts := metav1.CreateOptions{FieldManager: FieldManager}
	var view Workload
	switch f.Kind {
	case KindDeployments:
		o, err := cs.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{ObjectMeta: meta,
			Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: selector, Template: tmpl}}, opts)
		if err != nil {
			return Workload{}, translate(err, what)
		}
		view = deploymentView(o)
	case KindStatefulSets:
		o, err := cs.AppsV1().StatefulSets(ns).Create(ctx, &appsv1.StatefulSet{ObjectMeta: meta,
			Spec: appsv1.StatefulSetSpec{Replicas: &replicas, Selector: selector, Template: tmpl, ServiceName: f.Name}}, opts)
		if err != nil {
			return Workload{}, translate(err, what)
		}
		view = statefulSetView(o)
	case KindDaemonSets:
		o, err := cs.AppsV1().DaemonSets(ns).Create(ctx, &appsv1.DaemonSet{ObjectMeta: meta,
			Spec: appsv1.DaemonSetSpec{Selector: selector, Template: tmpl}}, opts)
		if err != nil {
			return Workload{}, translate(err, what)
		}
		view = daemonSetView(o)
	case KindJobs:
		o, err := cs.BatchV1().Jobs(ns).Create(ctx, &batchv1.Job{ObjectMeta: meta, Spec: batchv1.JobSpec{Template: tmpl}}, opts)
		if err != nil {
			return Workload{}, translate(err, what)
		}
		view = jobView(o)
	case KindCronJobs:
		o, err := cs.BatchV1().CronJobs(ns).Create(ctx, &batchv1.CronJob{ObjectMeta: meta, Spec: batchv1.CronJobSpec{Schedule: f.Schedule,
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: tmpl}}}}, opts)
		if err != nil {
			return Workload{}, translate(err, what)
		}
		view = cronJobView(o)
	}
	if f.Expose != "" || f.Kind == KindStatefulSets && f.Port > 0 {
		svc := &corev1.Service{ObjectMeta: meta, Spec: corev1.ServiceSpec{Selector: tmpl.Labels,
			Ports: []corev1.ServicePort{{Name: "main", Port: f.Port, TargetPort: intstr.FromInt32(f.Port), Protocol: corev1.ProtocolTCP}}}}
		switch f.Expose {
		case "NodePort":
			svc.Spec.Type = corev1.ServiceTypeNodePort
		case "":
			svc.Spec.ClusterIP = corev1.ClusterIPNone // the stateful set's governing service
		}
		if _, err := cs.CoreV1().Services(ns).Create(ctx, svc, opts); err != nil {
			return view, translate(err, "service "+f.Name)
		}
	}
	return view, nil
}

// FieldManager identifies the console's writes in managedFields.
const FieldManager = "outpost-console"

func (c *Cluster) patchWorkload(ctx context.Context, id Identity, ns, kind, name string, pt types.PatchType, patch []byte) error {
	if err := c.check(); err != nil {
		return err
	}
	cs, _, err := c.clientsFor(id)
	if err != nil {
		return err
	}
	opts := metav1.PatchOptions{FieldManager: FieldManager}
	what := singular(kind) + " " + name
	switch kind {
	case KindDeployments:
		_, err = cs.AppsV1().Deployments(ns).Patch(ctx, name, pt, patch, opts)
	case KindStatefulSets:
		_, err = cs.AppsV1().StatefulSets(ns).Patch(ctx, name, pt, patch, opts)
	case KindDaemonSets:
		_, err = cs.AppsV1().DaemonSets(ns).Patch(ctx, name, pt, patch, opts)
	case KindJobs:
		_, err = cs.BatchV1().Jobs(ns).Patch(ctx, name, pt, patch, opts)
	case KindCronJobs:
		_, err = cs.BatchV1().CronJobs(ns).Patch(ctx, name, pt, patch, opts)
	default:
		return problem.NotFound("workload")
	}
	return translate(err, what)
}

// Scale sets the replicas of a deployment or stateful set and returns the previous count.
func (c *Cluster) Scale(ctx context.Context, id Identity, ns, kind, name string, replicas int32) (int32, error) {
	if replicas < 0 || replicas > MaxReplicas {
		return 0, problem.Field("replicas", fmt.Sprintf("must be between 0 and %d", MaxReplicas))
	}
	if err := c.check(); err != nil {
		return 0, err
	}
	var before int32
	switch kind {
	case KindDeployments:
		d, err := c.deployments.Deployments(ns).Get(name)
		if err != nil {
			return 0, problem.NotFound(singular(kind))
		}
		before = deref(d.Spec.Replicas, 1)
	case KindStatefulSets:
		s, err := c.statefulSets.StatefulSets(ns).Get(name)
		if err != nil {
			return 0, problem.NotFound(singular(kind))
		}
		before = deref(s.Spec.Replicas, 1)
	default:
		if IsWorkloadKind(kind) {
			return 0, problem.Field("kind", "only deployments and stateful sets can be scaled")
		}
		return 0, problem.NotFound("workload")
	}
	patch := fmt.Appendf(nil, `{"spec":{"replicas":%d}}`, replicas)
	return before, c.patchWorkload(ctx, id, ns, kind, name, types.MergePatchType, patch)
}

// Restart rolls all pods of a deployment, stateful set or daemon set, like
// `kubectl rollout restart`.
func (c *Cluster) Restart(ctx context.Context, id Identity, ns, kind, name string, now time.Time) error {
	switch kind {
	case KindDeployments, KindStatefulSets, KindDaemonSets:
	default:
		if IsWorkloadKind(kind) {
			return problem.Field("kind", "only deployments, stateful sets and daemon sets can be restarted")
		}
		return problem.NotFound("workload")
	}
	patch := fmt.Appendf(nil, `{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":%q}}}}}`,
		now.UTC().Format(time.RFC3339))
	return c.patchWorkload(ctx, id, ns, kind, name, types.StrategicMergePatchType, patch)
}

// SetImage changes one container's image and returns the previous image.
func (c *Cluster) SetImage(ctx context.Context, id Identity, ns, kind, name, container, image string) (string, error) {
	image = strings.TrimSpace(image)
	if image == "" || strings.ContainsAny(image, " \t\n") || len(image) > 512 {
		return "", problem.Field("image", "must be an image reference such as registry.local/team/app:1.2")
	}
	if kind == KindJobs {
		return "", problem.Field("kind", "a job's pods cannot change; create a new job instead")
	}
	d, err := c.Workload(ns, kind, name)
	if err != nil {
		return "", err
	}
	if container == "" && len(d.Containers) == 1 {
		container = d.Containers[0].Name
	}
	before := ""
	for _, ct := range d.Containers {
		if ct.Name == container {
			before = ct.Image
		}
	}
	if before == "" {
		return "", problem.Field("container", "no container with this name in the workload")
	}
	containers, _ := json.Marshal([]map[string]string{{"name": container, "image": image}})
	patch := fmt.Appendf(nil, `{"spec":{"template":{"spec":{"containers":%s}}}}`, containers)
	if kind == KindCronJobs {
		patch = fmt.Appendf(nil, `{"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":%s}}}}}}`, containers)
	}
	return before, c.patchWorkload(ctx, id, ns, kind, name, types.StrategicMergePatchType, patch)
}

// Rollback returns a deployment to a previous revision's pod template, like
// `kubectl rollout undo --to-revision`.
func (c *Cluster) Rollback(ctx context.Context, id Identity, ns, kind, name string, revision int64) error {
	if err := c.check(); err != nil {
		return err
	}
	if kind != KindDeployments {
		if IsWorkloadKind(kind) {
			return problem.Field("kind", "only deployments keep revisions to roll back to")
		}
		return problem.NotFound("workload")
	}
	d, err := c.deployments.Deployments(ns).Get(name)
	if err != nil {
		return problem.NotFound("deployment")
	}
	current, _ := strconv.ParseInt(d.Annotations[revisionAnnotation], 10, 64)
	if revision == current {
		return problem.Conflict(fmt.Sprintf("Deployment %s is already at revision %d.", name, revision))
	}
	for _, rs := range c.ownedReplicaSets(ns, name) {
		if rs.Annotations[revisionAnnotation] != strconv.FormatInt(revision, 10) {
			continue
		}
		tmpl := rs.Spec.Template.DeepCopy()
		delete(tmpl.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
		// No resourceVersion precondition: status updates change it every
		// few seconds, and replacing the template is what the user asked
		// for whatever the status says (kubectl rollout undo does the same).
		patch, err := json.Marshal([]map[string]any{{"op": "replace", "path": "/spec/template", "value": tmpl}})
		if err != nil {
			return fmt.Errorf("building rollback patch: %w", err)
		}
		return c.patchWorkload(ctx, id, ns, kind, name, types.JSONPatchType, patch)
	}
	return problem.Field("revision", fmt.Sprintf("deployment %s has no revision %d", name, revision))
}

// DeleteWorkload deletes a workload and, in the background, its pods.
func (c *Cluster) DeleteWorkload(ctx context.Context, id Identity, ns, kind, name string) error {
	if err := c.check(); err != nil {
		return err
	}
	cs, _, err := c.clientsFor(id)
	if err != nil {
		return err
	}
	bg := metav1.DeletePropagationBackground
	opts := metav1.DeleteOptions{PropagationPolicy: &bg}
	switch kind {
	case KindDeployments:
		err = cs.AppsV1().Deployments(ns).Delete(ctx, name, opts)
	case KindStatefulSets:
		err = cs.AppsV1().StatefulSets(ns).Delete(ctx, name, opts)
	case KindDaemonSets:
		err = cs.AppsV1().DaemonSets(ns).Delete(ctx, name, opts)
	case KindJobs:
		err = cs.BatchV1().Jobs(ns).Delete(ctx, name, opts)
	case KindCronJobs:
		err = cs.BatchV1().CronJobs(ns).Delete(ctx, name, opts)
	default:
		return problem.NotFound("workload")
	}
	return translate(err, singular(kind)+" "+name)
}
