package kube

import (
	"context"
	"io"
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/outpost-platform/outpost/appliance/console/problem"
)

// Pods lists the pods of a namespace.
func (c *Cluster) Pods(ns string) ([]Pod, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	pods, err := c.pods.Pods(ns).List(everything)
	if err != nil {
		return nil, err
	}
	out := make([]Pod, 0, len(pods))
	for _, p := range pods {
		out = append(out, c.podView(p))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// PodDetail is a pod with its events.
type PodDetail struct {
	Pod
	Events []Event `json:"events"`
}

// Pod returns one pod and its events.
func (c *Cluster) Pod(ns, name string) (PodDetail, error) {
	if err := c.check(); err != nil {
		return PodDetail{}, err
	}
	p, err := c.pods.Pods(ns).Get(name)
	if err != nil {
		return PodDetail{}, problem.NotFound("pod")
	}
	return PodDetail{Pod: c.podView(p), Events: c.eventsMatching(ns, func(e Event) bool { return e.Object == "pod/"+name })}, nil
}

// DeletePod deletes a pod (its controller replaces it).
func (c *Cluster) DeletePod(ctx context.Context, id Identity, ns, name string) error {
	if err := c.check(); err != nil {
		return err
	}
	cs, _, err := c.clientsFor(id)
	if err != nil {
		return err
	}
	return translate(cs.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{}), "pod "+name)
}

// LogOptions select a container's log.
type LogOptions struct {
	Container    string
	Follow       bool
	TailLines    int64
	SinceSeconds int64
	Previous     bool
	Timestamps   bool
	LimitBytes   int64
}

// Logs streams a container's log as id; the caller closes the reader.
func (c *Cluster) Logs(ctx context.Context, id Identity, ns, pod string, o LogOptions) (io.ReadCloser, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	p, err := c.pods.Pods(ns).Get(pod)
	if err != nil {
		return nil, problem.NotFound("pod")
	}
	if o.Container == "" {
		o.Container = p.Spec.Containers[0].Name
	}
	found := false
	for _, ct := range append(append([]corev1.Container{}, p.Spec.InitContainers...), p.Spec.Containers...) {
		found = found || ct.Name == o.Container
	}
	if !found {
		return nil, problem.Field("container", "no container with this name in the pod")
	}
	cs, _, err := c.clientsFor(id)
	if err != nil {
		return nil, err
	}
	opts := &corev1.PodLogOptions{Container: o.Container, Follow: o.Follow, Previous: o.Previous, Timestamps: o.Timestamps}
	if o.TailLines > 0 {
		opts.TailLines = &o.TailLines
	}
	if o.SinceSeconds > 0 {
		opts.SinceSeconds = &o.SinceSeconds
	}
	if o.LimitBytes > 0 {
		opts.LimitBytes = &o.LimitBytes
	}
	rc, err := cs.CoreV1().Pods(ns).GetLogs(pod, opts).Stream(ctx)
	if err != nil {
		return nil, translate(err, "log of pod "+pod)
	}
	return rc, nil
}
