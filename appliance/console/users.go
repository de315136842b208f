package console

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/outpost-platform/outpost/appliance/console/identity"
	"github.com/outpost-platform/outpost/appliance/console/problem"
	"github.com/outpost-platform/outpost/appliance/console/tenancy"
)

func userID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, problem.NotFound("user")
	}
	return id, nil
}

func (s *Console) handleListUsers(c echo.Context) error {
	if err := requirePlatform(c, tenancy.ActionManageUsers); err != nil {
		return err
	}
	users, err := s.users.List(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": users})
}

// directoryEntry is the little that administrators of a workspace or
// project may learn about other accounts in order to add them as members.
type directoryEntry struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
}

func (s *Console) handleDirectory(c echo.Context) error {
	if !viewAccess(principalOf(c).access).AdminOfSomething {
		return problem.Forbidden("Only administrators may list accounts.")
	}
	users, err := s.users.List(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]directoryEntry, 0, len(users))
	for _, u := range users {
		if !u.Disabled {
			out = append(out, directoryEntry{Name: u.Name, DisplayName: u.DisplayName})
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"items": out})
}

func (s *Console) handleCreateUser(c echo.Context) error {
	if err := requirePlatform(c, tenancy.ActionManageUsers); err != nil {
		return err
	}
	var req identity.NewLocalUser
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	auditObject(c, "user", "", req.Name)
	auditDetail(c, "platformAdmin="+strconv.FormatBool(req.PlatformAdmin))
	// The administrator chose this password; the user must pick their own.
	req.MustChangePassword = true
	u, err := s.users.CreateLocal(c.Request().Context(), req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, u)
}

func (s *Console) handleGetUser(c echo.Context) error {
	if err := requirePlatform(c, tenancy.ActionManageUsers); err != nil {
		return err
	}
	id, err := userID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	u, err := s.users.Get(ctx, id)
	if err != nil {
		return err
	}
	bindings, err := s.tenancy.UserBindings(ctx, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"user": u, "bindings": bindings})
}

// guardLastAdmin refuses changes that would leave no enabled platform admin.
func (s *Console) guardLastAdmin(c echo.Context, target identity.User) error {
	if !target.PlatformAdmin || target.Disabled {
		return nil
	}
	n, err := s.users.CountActivePlatformAdmins(c.Request().Context())
	if err != nil {
		return err
	}
	if n <= 1 {
		return problem.Conflict("This is the last platform administrator; make another user platform administrator first.")
	}
	return nil
}

func (s *Console) handleUpdateUser(c echo.Context) error {
	if err := requirePlatform(c, tenancy.ActionManageUsers); err != nil {
		return err
	}
	id, err := userID(c)
	if err != nil {
		return err
	}
	var patch identity.UserPatch
	if err := bindJSON(c, &patch); err != nil {
		return err
	}
	ctx := c.Request().Context()
	target, err := s.users.Get(ctx, id)
	if err != nil {
		return err
	}
	auditObject(c, "user", "", target.Name)
	detail := ""
	if patch.PlatformAdmin != nil {
		detail += " platformAdmin=" + strconv.FormatBool(*patch.PlatformAdmin)
	}
	if patch.Disabled != nil {
		detail += " disabled=" + strconv.FormatBool(*patch.Disabled)
	}
	auditDetail(c, detail)
	if (patch.PlatformAdmin != nil && !*patch.PlatformAdmin) || (patch.Disabled != nil && *patch.Disabled) {
		if err := s.guardLastAdmin(c, target); err != nil {
			return err
		}
	}
	u, err := s.users.Update(ctx, id, patch)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

func (s *Console) handleDeleteUser(c echo.Context) error {
	if err := requirePlatform(c, tenancy.ActionManageUsers); err != nil {
		return err
	}
	id, err := userID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	target, err := s.users.Get(ctx, id)
	if err != nil {
		return err
	}
	auditObject(c, "user", "", target.Name)
	if id == principalOf(c).user.ID {
		return problem.Conflict("You cannot delete your own account.")
	}
	if err := s.guardLastAdmin(c, target); err != nil {
		return err
	}
	if err := s.users.Delete(ctx, id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Console) handleResetPassword(c echo.Context) error {
	if err := requirePlatform(c, tenancy.ActionManageUsers); err != nil {
		return err
	}
	id, err := userID(c)
	if err != nil {
		return err
	}
	var req struct {
		Password string `json:"password"`
	}
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	target, err := s.users.Get(ctx, id)
	if err != nil {
		return err
	}
	auditObject(c, "user", "", target.Name)
	if err := s.users.SetPassword(ctx, id, req.Password, true); err != nil {
		return err
	}
	if err := s.sessions.DeleteUserSessions(ctx, id, ""); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Console) handleListTokens(c echo.Context) error {
	tokens, err := s.users.ListTokens(c.Request().Context(), principalOf(c).user.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": tokens})
}

type tokenRequest struct {
	Name          string `json:"name"`
	ExpiresInDays int    `json:"expiresInDays"`
}

func (s *Console) handleCreateToken(c echo.Context) error {
	var req tokenRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	auditObject(c, "token", "", req.Name)
	if req.ExpiresInDays < 0 || req.ExpiresInDays > 3650 {
		return problem.Field("expiresInDays", "must be between 0 (never) and 3650")
	}
	secret, tok, err := s.users.CreateToken(c.Request().Context(), principalOf(c).user.ID, req.Name,
		daysDuration(req.ExpiresInDays))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"token": secret, "info": tok})
}

func (s *Console) handleDeleteToken(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return problem.NotFound("API token")
	}
	auditObject(c, "token", "", c.Param("id"))
	if err := s.users.DeleteToken(c.Request().Context(), principalOf(c).user.ID, id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
