package kube

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/outpost-platform/outpost/appliance/console/problem"
	"github.com/outpost-platform/outpost/appliance/console/tenancy"
)

// Labels the console puts on what it creates.
const (
	LabelManaged   = "outpost.io/managed-by"
	LabelWorkspace = "outpost.io/workspace"
	managedBy      = "outpost-console"
)

// ClusterRoleName is the ClusterRole carrying a project role's permissions.
func ClusterRoleName(r tenancy.Role) string { return "outpost-project-" + string(r) }

// RoleBindingName is the RoleBinding granting a project role in its namespace.
func RoleBindingName(r tenancy.Role) string { return "outpost-" + string(r) }

const platformAdminBinding = "outpost-platform-admins"

var (
	readVerbs  = []string{"get", "list", "watch"}
	writeVerbs = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
)

// projectRules is the RBAC form of the console's project role matrix:
// viewers read everything but secrets, operators also change workloads and
// their configuration and read secrets, admins also manage RBAC objects in
// the namespace (the console still keeps membership in its own database).
func projectRules(r tenancy.Role) []rbacv1.PolicyRule {
	workloads := []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"pods", "services", "endpoints", "configmaps", "persistentvolumeclaims",
			"replicationcontrollers", "serviceaccounts"}},
		{APIGroups: []string{"apps"}, Resources: []string{"deployments", "statefulsets", "daemonsets", "replicasets", "controllerrevisions",
			"deployments/scale", "statefulsets/scale", "replicasets/scale"}},
		{APIGroups: []string{"batch"}, Resources: []string{"jobs", "cronjobs"}},
		{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"ingresses", "networkpolicies"}},
		{APIGroups: []string{"autoscaling"}, Resources: []string{"horizontalpodautoscalers"}},
		{APIGroups: []string{"policy"}, Resources: []string{"poddisruptionbudgets"}},
	}
	readOnly := []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"pods/log", "events", "resourcequotas", "limitranges"}, Verbs: readVerbs},
		{APIGroups: []string{"events.k8s.io"}, Resources: []string{"events"}, Verbs: readVerbs},
		{APIGroups: []string{"metrics.k8s.io"}, Resources: []string{"pods"}, Verbs: readVerbs},
	}
	var rules []rbacv1.PolicyRule
	verbs := readVerbs
	if r.AtLeast(tenancy.RoleOperator) {
		verbs = writeVerbs
	}
	for _, w := range workloads {
		w.Verbs = verbs
		rules = append(rules, w)
	}
	rules = append(rules, readOnly...)
	if r.AtLeast(tenancy.RoleOperator) {
		rules = append(rules,
			rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: writeVerbs},
			rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods/exec", "pods/portforward", "pods/eviction"}, Verbs: []string{"create", "get"}},
		)
	}
	if r == tenancy.RoleAdmin {
		rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"roles", "rolebindings"}, Verbs: readVerbs})
	}
	return rules
}

func managedMeta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Labels: map[string]string{LabelManaged: managedBy}}
}

// ensureClusterRBAC creates or updates the outpost-project-* ClusterRoles
// and binds cluster-admin to the platform admins group.
func (c *Cluster) ensureClusterRBAC(ctx context.Context) error {
	rc := c.admin.RbacV1()
	for _, r := range tenancy.Roles {
		want := &rbacv1.ClusterRole{ObjectMeta: managedMeta(ClusterRoleName(r)), Rules: projectRules(r)}
		got, err := rc.ClusterRoles().Get(ctx, want.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			_, err = rc.ClusterRoles().Create(ctx, want, metav1.CreateOptions{})
		case err == nil:
			got.Rules, got.Labels = want.Rules, want.Labels
			_, err = rc.ClusterRoles().Update(ctx, got, metav1.UpdateOptions{})
		}
		if err != nil {
			return fmt.Errorf("installing ClusterRole %s: %w", want.Name, err)
		}
	}
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: managedMeta(platformAdminBinding),
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: tenancy.KubeGroupPlatformAdmin}}}
	if _, err := rc.ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("installing ClusterRoleBinding %s: %w", crb.Name, err)
	}
	return nil
}

// NamespaceExists reports whether a namespace exists, asking the apiserver
// (the cache may lag a creation by another client).
func (c *Cluster) NamespaceExists(ctx context.Context, name string) (bool, error) {
	_, err := c.admin.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, translate(err, "namespace "+name)
	}
	return true, nil
}

// EnsureProject creates the project's namespace (labelled with its
// workspace) and the RoleBindings that give each console role's group its
// ClusterRole there. It is idempotent.
func (c *Cluster) EnsureProject(ctx context.Context, project, workspace string) error {
	ns := &corev1.Namespace{ObjectMeta: managedMeta(project)}
	ns.Labels[LabelWorkspace] = workspace
	_, err := c.admin.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		got, gerr := c.admin.CoreV1().Namespaces().Get(ctx, project, metav1.GetOptions{})
		if gerr != nil {
			return translate(gerr, "namespace "+project)
		}
		if got.DeletionTimestamp != nil {
			return problem.Conflict(fmt.Sprintf("Namespace %s is still being deleted; try again when it is gone.", project))
		}
		if got.Labels[LabelWorkspace] != workspace {
			if got.Labels == nil {
				got.Labels = map[string]string{}
			}
			got.Labels[LabelManaged], got.Labels[LabelWorkspace] = managedBy, workspace
			if _, err := c.admin.CoreV1().Namespaces().Update(ctx, got, metav1.UpdateOptions{}); err != nil {
				return translate(err, "namespace "+project)
			}
		}
		err = nil
	}
	if err != nil {
		return translate(err, "namespace "+project)
	}
	for _, r := range tenancy.Roles {
		rb := &rbacv1.RoleBinding{ObjectMeta: managedMeta(RoleBindingName(r)),
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: ClusterRoleName(r)},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: tenancy.ProjectGroup(project, r)}}}
		rb.Namespace = project
		if err := c.ensureRoleBinding(ctx, rb); err != nil {
			return translate(err, "role binding "+rb.Name)
		}
	}
	return nil
}

// ensureRoleBinding creates want or makes the existing binding equal to it.
// A binding's roleRef cannot change, so a wrong one is replaced.
func (c *Cluster) ensureRoleBinding(ctx context.Context, want *rbacv1.RoleBinding) error {
	rbs := c.admin.RbacV1().RoleBindings(want.Namespace)
	got, err := rbs.Get(ctx, want.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		_, err = rbs.Create(ctx, want, metav1.CreateOptions{})
		return err
	case err != nil:
		return err
	case got.RoleRef != want.RoleRef:
		if err := rbs.Delete(ctx, want.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		_, err = rbs.Create(ctx, want, metav1.CreateOptions{})
		return err
	case !equality.Semantic.DeepEqual(got.Subjects, want.Subjects) || got.Labels[LabelManaged] != managedBy:
		got.Subjects = want.Subjects
		if got.Labels == nil {
			got.Labels = map[string]string{}
		}
		got.Labels[LabelManaged] = managedBy
		_, err = rbs.Update(ctx, got, metav1.UpdateOptions{})
		return err
	}
	return nil
}

// DeleteProject deletes the project's namespace and everything in it.
func (c *Cluster) DeleteProject(ctx context.Context, project string) error {
	err := c.admin.CoreV1().Namespaces().Delete(ctx, project, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return translate(err, "namespace "+project)
	}
	return nil
}
