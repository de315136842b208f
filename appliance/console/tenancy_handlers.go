package console

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/outpost-platform/outpost/appliance/console/problem"
	"github.com/outpost-platform/outpost/appliance/console/tenancy"
)

func daysDuration(days int) time.Duration { return time.Duration(days) * 24 * time.Hour }

type workspaceRequest struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

func (s *Console) handleListWorkspaces(c echo.Context) error {
	all, err := s.tenancy.ListWorkspaces(c.Request().Context())
	if err != nil {
		return err
	}
	a := principalOf(c).access
	out := []tenancy.Workspace{}
	for _, w := range all {
		if _, visible := a.CanInWorkspace(tenancy.ActionViewWorkspace, w.Name); visible {
			out = append(out, w)
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"items": out})
}

func (s *Console) handleCreateWorkspace(c echo.Context) error {
	if err := requirePlatform(c, tenancy.ActionManageWorkspaces); err != nil {
		return err
	}
	var req workspaceRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	auditObject(c, "workspace", "", req.Name)
	w, err := s.tenancy.CreateWorkspace(c.Request().Context(), req.Name, req.Description)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, w)
}

func (s *Console) handleGetWorkspace(c echo.Context) error {
	name := c.Param("workspace")
	if err := workspaceAccess(c, tenancy.ActionViewWorkspace, name); err != nil {
		return err
	}
	w, err := s.tenancy.GetWorkspace(c.Request().Context(), name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, w)
}

func (s *Console) handleDeleteWorkspace(c echo.Context) error {
	name := c.Param("workspace")
	auditObject(c, "workspace", "", name)
	if err := requirePlatform(c, tenancy.ActionManageWorkspaces); err != nil {
		return err
	}
	if err := s.tenancy.DeleteWorkspace(c.Request().Context(), name); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// projectView is a project with the caller's role in it.
type projectView struct {
	tenancy.Project
	Role tenancy.Role `json:"role"`
}

func (s *Console) handleListProjects(c echo.Context) error {
	a := principalOf(c).access
	workspace := c.Param("workspace")
	if workspace != "" {
		if err := workspaceAccess(c, tenancy.ActionViewWorkspace, workspace); err != nil {
			return err
		}
	}
	all, err := s.tenancy.ListProjects(c.Request().Context(), workspace)
	if err != nil {
		return err
	}
	out := []projectView{}
	for _, p := range all {
		if role, ok := a.ProjectRole(p.Name); ok {
			out = append(out, projectView{Project: p, Role: role})
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"items": out})
}

func (s *Console) handleCreateProject(c echo.Context) error {
	workspace := c.Param("workspace")
	var req workspaceRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	auditObject(c, "project", req.Name, req.Name)
	if err := workspaceAccess(c, tenancy.ActionManageWorkspace, workspace); err != nil {
		return err
	}
	ctx := c.Request().Context()
	if s.cluster != nil {
		// A namespace that exists outside the console must not be adopted:
		// that would hand its contents to the workspace.
		exists, err := s.cluster.NamespaceExists(ctx, req.Name)
		if err != nil {
			return err
		}
		if exists && tenancy.CheckProjectName(req.Name) == "" {
			if _, err := s.tenancy.GetProject(ctx, req.Name); errors.Is(err, problem.ErrNotFound) {
				return &problem.Error{Kind: problem.KindConflict, Code: "conflict", Message: "A namespace with this name already exists.",
					Fields: map[string]string{"name": "is already taken"}}
			}
		}
	}
	p, err := s.tenancy.CreateProject(ctx, workspace, req.Name, req.Description)
	if err != nil {
		return err
	}
	if s.cluster != nil {
		if err := s.cluster.EnsureProject(ctx, p.Name, p.Workspace); err != nil {
			// Without its namespace the project is useless: undo the record.
			if derr := s.tenancy.DeleteProject(context.WithoutCancel(ctx), p.Name); derr != nil {
				s.log.Error("undoing project record", "project", p.Name, "err", derr)
			}
			return err
		}
	}
	role, _ := principalOf(c).access.ProjectRole(p.Name)
	if role == "" {
		role = tenancy.RoleAdmin // workspace admins administer new projects
	}
	return c.JSON(http.StatusCreated, projectView{Project: p, Role: role})
}

func (s *Console) handleGetProject(c echo.Context) error {
	name := c.Param("project")
	if err := projectAccess(c, tenancy.ActionView, name); err != nil {
		return err
	}
	p, err := s.tenancy.GetProject(c.Request().Context(), name)
	if err != nil {
		return err
	}
	role, _ := principalOf(c).access.ProjectRole(name)
	return c.JSON(http.StatusOK, projectView{Project: p, Role: role})
}

func (s *Console) handleDeleteProject(c echo.Context) error {
	name := c.Param("project")
	auditObject(c, "project", name, name)
	if err := projectAccess(c, tenancy.ActionView, name); err != nil {
		return err
	}
	ctx := c.Request().Context()
	p, err := s.tenancy.GetProject(ctx, name)
	if err != nil {
		return err
	}
	if err := workspaceAccess(c, tenancy.ActionManageWorkspace, p.Workspace); err != nil {
		if errors.Is(err, problem.ErrNotFound) {
			return problem.Forbidden("Only workspace admins may delete a project.")
		}
		return err
	}
	if s.cluster != nil {
		if err := s.cluster.DeleteProject(ctx, name); err != nil {
			return err
		}
	}
	if err := s.tenancy.DeleteProject(ctx, name); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

type memberRequest struct {
	Role tenancy.Role `json:"role"`
}

func (s *Console) handleListMembers(scope string) echo.HandlerFunc {
	return func(c echo.Context) error {
		name, err := s.memberScopeAccess(c, scope, false)
		if err != nil {
			return err
		}
		members, err := s.tenancy.ListBindings(c.Request().Context(), scope, name)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"items": members})
	}
}

// memberScopeAccess checks the caller may view (or, with manage, change)
// the members of the workspace or project named in the path.
func (s *Console) memberScopeAccess(c echo.Context, scope string, manage bool) (string, error) {
	if scope == tenancy.ScopeWorkspace {
		name := c.Param("workspace")
		act := tenancy.ActionViewWorkspace
		if manage {
			act = tenancy.ActionManageWorkspace
		}
		return name, workspaceAccess(c, act, name)
	}
	name := c.Param("project")
	act := tenancy.ActionView
	if manage {
		act = tenancy.ActionManageMembers
	}
	return name, projectAccess(c, act, name)
}

func (s *Console) handleSetMember(scope string) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req memberRequest
		if err := bindJSON(c, &req); err != nil {
			return err
		}
		userName := c.Param("user")
		auditObject(c, scope+"-member", c.Param("project"), userName)
		auditDetail(c, "role="+string(req.Role))
		name, err := s.memberScopeAccess(c, scope, true)
		if err != nil {
			return err
		}
		if scope == tenancy.ScopeWorkspace {
			auditObject(c, scope+"-member", "", name+"/"+userName)
		}
		ctx := c.Request().Context()
		u, err := s.users.GetByName(ctx, userName)
		if errors.Is(err, problem.ErrNotFound) {
			return problem.Field("user", "no account with this name")
		}
		if err != nil {
			return err
		}
		if err := s.tenancy.SetBinding(ctx, tenancy.Binding{UserID: u.ID, Scope: scope, ScopeName: name, Role: req.Role}); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, tenancy.Binding{UserID: u.ID, UserName: u.Name, Scope: scope, ScopeName: name, Role: req.Role,
			Source: tenancy.SourceLocal})
	}
}

func (s *Console) handleRemoveMember(scope string) echo.HandlerFunc {
	return func(c echo.Context) error {
		userName := c.Param("user")
		auditObject(c, scope+"-member", c.Param("project"), userName)
		name, err := s.memberScopeAccess(c, scope, true)
		if err != nil {
			return err
		}
		ctx := c.Request().Context()
		u, err := s.users.GetByName(ctx, userName)
		if errors.Is(err, problem.ErrNotFound) {
			return problem.NotFound("member")
		}
		if err != nil {
			return err
		}
		if err := s.tenancy.RemoveBinding(ctx, u.ID, scope, name); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}
