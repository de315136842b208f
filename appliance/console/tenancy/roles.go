package tenancy

import (
	"slices"
	"sort"
)

// Role is a role within a project. Workspace admins act as project admins in
// every project of their workspace; platform admins everywhere.
type Role string

const (
	RoleViewer   Role = "viewer"
	RoleOperator Role = "operator"
	RoleAdmin    Role = "admin"
)

// Roles lists project roles from least to most powerful.
var Roles = []Role{RoleViewer, RoleOperator, RoleAdmin}

func (r Role) rank() int { return slices.Index(Roles, r) + 1 }

// Valid reports whether r is a known project role.
func (r Role) Valid() bool { return r.rank() > 0 }

// AtLeast reports whether r is as powerful as min.
func (r Role) AtLeast(min Role) bool { return r.rank() >= min.rank() && r.Valid() }

// Action is something a user may try to do.
type Action string

// Project-scoped actions.
const (
	// ActionView reads objects, events, logs and metrics of a project.
	ActionView Action = "view"
	// ActionWrite creates, changes and deletes workloads and their config.
	ActionWrite Action = "write"
	// ActionRevealSecret shows secret values.
	ActionRevealSecret Action = "reveal-secret"
	// ActionManageMembers changes who has which role in the project.
	ActionManageMembers Action = "manage-members"
)

// Workspace-scoped actions.
const (
	// ActionManageWorkspace creates and deletes projects in a workspace and
	// changes its members.
	ActionManageWorkspace Action = "manage-workspace"
	// ActionViewWorkspace sees a workspace and its project list.
	ActionViewWorkspace Action = "view-workspace"
)

// Platform actions (no scope).
const (
	ActionManageUsers      Action = "manage-users"
	ActionManageWorkspaces Action = "manage-workspaces"
	ActionManageImages     Action = "manage-images"
	ActionImportBundles    Action = "import-bundles"
	ActionManageAlerts     Action = "manage-alerts"
	ActionViewAllAudit     Action = "view-all-audit"
	ActionViewNamespaces   Action = "view-namespaces"
	// ActionViewCluster sees nodes, cluster usage, versions, images and
	// alerts: every logged-in user may.
	ActionViewCluster Action = "view-cluster"
)

// minimumProjectRole is the role matrix for project actions.
var minimumProjectRole = map[Action]Role{
	ActionView:          RoleViewer,
	ActionWrite:         RoleOperator,
	ActionRevealSecret:  RoleOperator,
	ActionManageMembers: RoleAdmin,
}

// Access is what one user may do, computed from their bindings.
type Access struct {
	UserID        int64
	UserName      string
	PlatformAdmin bool
	// WorkspaceAdmin holds the workspaces the user administers.
	WorkspaceAdmin map[string]bool
	// WorkspaceMember holds the workspaces where the user has any project role.
	WorkspaceMember map[string]bool
	// Projects maps each project the user may see to the user's effective role.
	Projects map[string]Role
}

// ProjectRole returns the user's role in project, if any. Platform admins
// are admins of every project.
func (a *Access) ProjectRole(project string) (Role, bool) {
	if a.PlatformAdmin {
		return RoleAdmin, true
	}
	r, ok := a.Projects[project]
	return r, ok
}

// CanInProject reports whether the user may do act in project. visible says
// whether the user may know the project exists at all, so callers answer
// 404 rather than 403 when it is false.
func (a *Access) CanInProject(act Action, project string) (allowed, visible bool) {
	role, ok := a.ProjectRole(project)
	if !ok {
		return false, false
	}
	min, known := minimumProjectRole[act]
	return known && role.AtLeast(min), true
}

// CanInWorkspace reports whether the user may do act in workspace, and
// whether the workspace is visible to them.
func (a *Access) CanInWorkspace(act Action, workspace string) (allowed, visible bool) {
	if a.PlatformAdmin {
		return true, true
	}
	admin := a.WorkspaceAdmin[workspace]
	visible = admin || a.WorkspaceMember[workspace]
	switch act {
	case ActionViewWorkspace:
		return visible, visible
	case ActionManageWorkspace:
		return admin, visible
	}
	return false, visible
}

// Can reports whether the user may do a platform action.
func (a *Access) Can(act Action) bool {
	if act == ActionViewCluster {
		return true
	}
	return a.PlatformAdmin
}

// VisibleProjects returns the projects the user has a role in, sorted; nil
// for platform admins, meaning all.
func (a *Access) VisibleProjects() []string {
	if a.PlatformAdmin {
		return nil
	}
	out := make([]string, 0, len(a.Projects))
	for p := range a.Projects {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// AdminProjects returns the projects the user administers, sorted; nil for
// platform admins, meaning all.
func (a *Access) AdminProjects() []string {
	if a.PlatformAdmin {
		return nil
	}
	out := []string{}
	for p, r := range a.Projects {
		if r == RoleAdmin {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// Kubernetes identities used for impersonation. RoleBindings in each project
// namespace grant the outpost-project-<role> ClusterRole to the group
// ProjectGroup(namespace, role), so the apiserver enforces the same matrix.
const (
	KubeUserPrefix         = "outpost:"
	KubeGroupAuthenticated = "outpost:users"
	KubeGroupPlatformAdmin = "outpost:platform-admins"
)

// ProjectGroup is the Kubernetes group holding role in project.
func ProjectGroup(project string, role Role) string {
	return "outpost:project:" + project + ":" + string(role)
}

// KubeUser is the Kubernetes user name the console impersonates.
func (a *Access) KubeUser() string { return KubeUserPrefix + a.UserName }

// KubeGroups are the groups the console impersonates for this user.
func (a *Access) KubeGroups() []string {
	groups := []string{KubeGroupAuthenticated}
	if a.PlatformAdmin {
		groups = append(groups, KubeGroupPlatformAdmin)
	}
	for _, p := range a.VisibleProjects() {
		groups = append(groups, ProjectGroup(p, a.Projects[p]))
	}
	return groups
}
