// Package console serves Outpost's web console and its JSON API (/api/v1):
// login (local and OIDC), sessions, CSRF protection, login throttling,
// tenancy (workspaces, projects, roles), the audit log, and the Kubernetes,
// registry, bundle and monitoring pages, acting for each user through
// Kubernetes impersonation so that RBAC has the last word.
//
// Build one with New, serve it with Run, or use Handler in tests.
package console
