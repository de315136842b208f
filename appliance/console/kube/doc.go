// Package kube is the console's access to Kubernetes: shared informer caches
// (read with the appliance's admin credentials and filtered by the console's
// role checks), writes made by impersonating the console user so the
// apiserver's RBAC has the last word, the outpost-* ClusterRoles and
// per-project RoleBindings that carry the console's roles into RBAC, and the
// JSON views of objects the console shows. It uses client-go only.
package kube
