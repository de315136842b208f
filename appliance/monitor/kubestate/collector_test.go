package kubestate

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
)

func ctrl(kind, name string) []metav1.OwnerReference {
	t := true
	return []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: kind, Name: name, Controller: &t, UID: "uid-" + types.UID(name)}}
}

func fixtures() []runtime.Object {
	replicas := int32(3)
	sc := "local-path"
	return []runtime.Object{
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Annotations: map[string]string{"big": "x"}},
			Status: corev1.NodeStatus{
				Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionFalse}, {Type: corev1.NodeMemoryPressure, Status: corev1.ConditionTrue}},
				Capacity:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi")},
				Addresses:  []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.0.0.5"}},
			}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"}, Spec: appsv1.DeploymentSpec{Replicas: &replicas},
			Status: appsv1.DeploymentStatus{Replicas: 3, AvailableReplicas: 1, UnavailableReplicas: 2}},
		&appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web-5d9c", Namespace: "shop", OwnerReferences: ctrl("Deployment", "web")}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-5d9c-abc", Namespace: "shop", OwnerReferences: ctrl("ReplicaSet", "web-5d9c")},
			Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "app", Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")}}}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{
				Name: "app", RestartCount: 7, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
				LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Error"}},
			}}}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "debug", Namespace: "shop"}, Status: corev1.PodStatus{Phase: corev1.PodSucceeded}},
		&corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data", Namespace: "shop"},
			Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: &sc, Resources: corev1.VolumeResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")}}},
			Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}},
	}
}

func gather(t *testing.T, reg *prometheus.Registry) map[string][]*dto.Metric {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := map[string][]*dto.Metric{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf.GetMetric()
	}
	return out
}

func find(got map[string][]*dto.Metric, name string, want map[string]string) (float64, bool) {
next:
	for _, m := range got[name] {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		if m.Counter != nil {
			return m.Counter.GetValue(), true
		}
		return m.Gauge.GetValue(), true
	}
	return 0, false
}

func TestCollectorExportsObjectState(t *testing.T) {
	client := fake.NewClientset(fixtures()...)
	c := New(client, slog.New(slog.DiscardHandler))
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)

	if v, _ := find(gather(t, reg), "kube_state_metrics_synced", nil); v != 0 {
		t.Fatalf("synced before Run = %v", v)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Run(ctx)
	deadline := time.Now().Add(20 * time.Second)
	var got map[string][]*dto.Metric
	for {
		got = gather(t, reg)
		if v, _ := find(got, "kube_state_metrics_synced", nil); v == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("informers did not sync")
		}
		time.Sleep(10 * time.Millisecond)
	}

	tests := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"kube_node_status_condition", map[string]string{"node": "n1", "condition": "Ready", "status": "true"}, 0},
		{"kube_node_status_condition", map[string]string{"node": "n1", "condition": "Ready", "status": "false"}, 1},
		{"kube_node_status_condition", map[string]string{"node": "n1", "condition": "MemoryPressure", "status": "true"}, 1},
		{"kube_node_status_capacity", map[string]string{"node": "n1", "resource": "memory", "unit": "byte"}, 8 << 30},
		{"kube_node_info", map[string]string{"node": "n1", "internal_ip": "10.0.0.5"}, 1},
		{"kube_deployment_spec_replicas", map[string]string{"namespace": "shop", "deployment": "web"}, 3},
		{"kube_deployment_status_replicas_available", map[string]string{"namespace": "shop", "deployment": "web"}, 1},
		{"kube_pod_status_phase", map[string]string{"pod": "web-5d9c-abc", "phase": "Running"}, 1},
		{"kube_pod_status_phase", map[string]string{"pod": "web-5d9c-abc", "phase": "Pending"}, 0},
		{"kube_pod_container_status_restarts_total", map[string]string{"pod": "web-5d9c-abc", "container": "app"}, 7},
		{"kube_pod_container_status_waiting_reason", map[string]string{"pod": "web-5d9c-abc", "reason": "CrashLoopBackOff"}, 1},
		{"kube_pod_container_status_last_terminated_reason", map[string]string{"pod": "web-5d9c-abc", "reason": "Error"}, 1},
		{"kube_pod_container_resource_requests", map[string]string{"pod": "web-5d9c-abc", "resource": "cpu", "unit": "core"}, 0.25},
		{"outpost_pod_workload_info", map[string]string{"pod": "web-5d9c-abc", "workload": "web", "workload_type": "deployment"}, 1},
		{"outpost_pod_workload_info", map[string]string{"pod": "debug", "workload": "debug", "workload_type": "pod"}, 1},
		{"kube_replicaset_owner", map[string]string{"replicaset": "web-5d9c", "owner_kind": "Deployment", "owner_name": "web"}, 1},
		{"kube_persistentvolumeclaim_status_phase", map[string]string{"persistentvolumeclaim": "data", "phase": "Bound"}, 1},
		{"kube_persistentvolumeclaim_resource_requests_storage_bytes", map[string]string{"persistentvolumeclaim": "data"}, 10 << 30},
		{"kube_namespace_status_phase", map[string]string{"namespace": "shop", "phase": "Active"}, 1},
	}
	for _, tc := range tests {
		v, ok := find(got, tc.name, tc.labels)
		if !ok {
			t.Errorf("%s%v missing", tc.name, tc.labels)
		} else if v != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, v, tc.want)
		}
	}

	// Changes reach the metrics through the watch.
	p, err := client.CoreV1().Pods("shop").Get(ctx, "web-5d9c-abc", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.Status.ContainerStatuses[0].RestartCount = 8
	if _, err := client.CoreV1().Pods("shop").UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	for {
		if v, _ := find(gather(t, reg), "kube_pod_container_status_restarts_total", map[string]string{"pod": "web-5d9c-abc"}); v == 8 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("restart count update not seen")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
