package kube

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestPodStatusReadsLikeKubectl(t *testing.T) {
	now := metav1.Now()
	for want, p := range map[string]*corev1.Pod{
		"Running": {Status: corev1.PodStatus{Phase: corev1.PodRunning,
			ContainerStatuses: []corev1.ContainerStatus{{State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}}},
		"CrashLoopBackOff": {Status: corev1.PodStatus{Phase: corev1.PodRunning,
			ContainerStatuses: []corev1.ContainerStatus{{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}}}}},
		"ImagePullBackOff": {Status: corev1.PodStatus{Phase: corev1.PodPending,
			ContainerStatuses: []corev1.ContainerStatus{{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff"}}}}}},
		"Completed": {Status: corev1.PodStatus{Phase: corev1.PodSucceeded,
			ContainerStatuses: []corev1.ContainerStatus{{State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed"}}}}}},
		"Init:ErrImagePull": {Status: corev1.PodStatus{Phase: corev1.PodPending,
			InitContainerStatuses: []corev1.ContainerStatus{{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ErrImagePull"}}}}}},
		"Terminating": {ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &now}, Status: corev1.PodStatus{Phase: corev1.PodRunning}},
		"Evicted":     {Status: corev1.PodStatus{Phase: corev1.PodFailed, Reason: "Evicted"}},
	} {
		if got := podStatus(p); got != want {
			t.Errorf("podStatus = %q, want %q", got, want)
		}
	}
}

func TestDeploymentStatus(t *testing.T) {
	two := int32(2)
	zero := int32(0)
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Generation: 3, Annotations: map[string]string{revisionAnnotation: "4"}},
		Spec:   appsv1.DeploymentSpec{Replicas: &two},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 3, Replicas: 2, UpdatedReplicas: 2, AvailableReplicas: 2, ReadyReplicas: 2}}
	if w := deploymentView(d); w.Status != StatusRunning || w.Revision != 4 || w.Desired != 2 {
		t.Fatalf("rolled out: %+v", w)
	}
	d.Status.UpdatedReplicas = 1
	if w := deploymentView(d); w.Status != StatusUpdating {
		t.Fatalf("mid-rollout: %s", w.Status)
	}
	d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse,
		Reason: "ProgressDeadlineExceeded", Message: "ReplicaSet web-abc has timed out progressing."}}
	if w := deploymentView(d); w.Status != StatusFailed || w.Message == "" {
		t.Fatalf("stuck rollout: %+v", w)
	}
	d.Spec.Replicas = &zero
	if w := deploymentView(d); w.Status != StatusStopped {
		t.Fatalf("scaled to zero: %s", w.Status)
	}
}

func TestWorkloadFormValidation(t *testing.T) {
	neg := int32(-1)
	f := WorkloadForm{Kind: "pods", Name: "Web_1", Image: "a b", Replicas: &neg, Port: 70000, Expose: "LoadBalancer",
		Env: []EnvVar{{Name: "1BAD"}}, CPURequest: "lots", MemoryLimit: "-5Mi"}
	_, err := f.validate()
	reasons := asProblem(t, err)
	for _, field := range []string{"kind", "name", "image", "replicas", "port", "expose", "env[0].name", "cpuRequest", "memoryLimit"} {
		if reasons[field] == "" {
			t.Errorf("no reason for %s in %v", field, reasons)
		}
	}
	cron := WorkloadForm{Kind: KindCronJobs, Name: "nightly", Image: "x:1", Schedule: "every night"}
	if _, err := cron.validate(); asProblem(t, err)["schedule"] == "" {
		t.Errorf("bad schedule accepted")
	}
	ok := WorkloadForm{Name: "web", Image: "registry.local/web:1", Port: 8080, Expose: "NodePort", CPURequest: "100m", MemoryLimit: "128Mi"}
	q, err := ok.validate()
	if err != nil || ok.Kind != KindDeployments || len(q) != 2 {
		t.Fatalf("valid form: %v %v %s", q, err, ok.Kind)
	}
	tmpl := ok.podTemplate(q)
	if tmpl.Spec.Containers[0].ReadinessProbe == nil || tmpl.Labels["app.kubernetes.io/name"] != "web" {
		t.Fatalf("template = %+v", tmpl)
	}
}
