package addons

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/outpost-platform/outpost/appliance/kube/kubetest"
)

// On a real apiserver: add-ons apply, applying again changes nothing, and
// removing a disabled add-on deletes what Outpost applied but not an object
// of the same name that a user made.
func TestApplyThenRemoveOnARealAPIServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	cluster, err := kubetest.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cs := kubernetes.NewForConfigOrDie(cluster.Admin)

	all := []string{"coredns", "metrics-server", "monitoring-rbac"}
	for i := 0; i < 2; i++ {
		if err := Apply(ctx, log, cluster.Admin, all, testValues); err != nil {
			t.Fatalf("apply %d: %v", i+1, err)
		}
	}
	if _, err := cs.RbacV1().ClusterRoles().Get(ctx, "outpost:monitoring", metav1.GetOptions{}); err != nil {
		t.Fatalf("monitoring ClusterRole after apply: %v", err)
	}
	if _, err := cs.AppsV1().Deployments("kube-system").Get(ctx, "metrics-server", metav1.GetOptions{}); err != nil {
		t.Fatalf("metrics-server after apply: %v", err)
	}

	// The binding is taken over by hand: no managed-by label any more.
	crb, err := cs.RbacV1().ClusterRoleBindings().Get(ctx, "outpost:monitoring", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	delete(crb.Labels, managedByLabel)
	if _, err := cs.RbacV1().ClusterRoleBindings().Update(ctx, crb, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	if err := Remove(ctx, log, cluster.Admin, []string{"monitoring-rbac", "metrics-server"}, testValues); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.RbacV1().ClusterRoles().Get(ctx, "outpost:monitoring", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("monitoring ClusterRole after remove: %v", err)
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Get(ctx, "outpost:monitoring", metav1.GetOptions{}); err != nil {
		t.Errorf("a binding the user took over was removed: %v", err)
	}
	if _, err := cs.AppsV1().Deployments("kube-system").Get(ctx, "metrics-server", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("metrics-server after remove: %v", err)
	}
	if _, err := cs.Discovery().RESTClient().Get().AbsPath("/apis/apiregistration.k8s.io/v1/apiservices/v1beta1.metrics.k8s.io").DoRaw(ctx); !apierrors.IsNotFound(err) {
		t.Errorf("metrics APIService after remove: %v", err)
	}
	if _, err := cs.AppsV1().Deployments("kube-system").Get(ctx, "coredns", metav1.GetOptions{}); err != nil {
		t.Errorf("coredns, still enabled, was touched: %v", err)
	}
	// Removing what is already gone is not an error.
	if err := Remove(ctx, log, cluster.Admin, []string{"monitoring-rbac"}, testValues); err != nil {
		t.Fatal(err)
	}
}
