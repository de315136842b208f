// Package tenancy owns workspaces, projects (one Kubernetes namespace each)
// and role bindings, and decides what each role may do: the console checks
// every call against Access before it acts, and the Kubernetes groups Access
// yields make the apiserver's RBAC check it again.
package tenancy
