package console

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/outpost-platform/outpost/appliance/console/identity"
	"github.com/outpost-platform/outpost/appliance/console/problem"
	"github.com/outpost-platform/outpost/appliance/console/tenancy"
	"github.com/outpost-platform/outpost/appliance/console/throttle"
)

// sessionView is what the UI learns about the logged-in user.
type sessionView struct {
	User      identity.User `json:"user"`
	CSRFToken string        `json:"csrfToken,omitempty"`
	Access    accessView    `json:"access"`
	// IdleTimeoutSeconds lets the UI warn before the session ends.
	IdleTimeoutSeconds int `json:"idleTimeoutSeconds"`
}

type accessView struct {
	PlatformAdmin    bool                    `json:"platformAdmin"`
	WorkspaceAdmin   []string                `json:"workspaceAdmin"`
	Projects         map[string]tenancy.Role `json:"projects"`
	AdminOfSomething bool                    `json:"adminOfSomething"`
}

func viewAccess(a *tenancy.Access) accessView {
	v := accessView{PlatformAdmin: a.PlatformAdmin, WorkspaceAdmin: []string{}, Projects: a.Projects}
	for w := range a.WorkspaceAdmin {
		v.WorkspaceAdmin = append(v.WorkspaceAdmin, w)
	}
	v.AdminOfSomething = a.PlatformAdmin || len(a.WorkspaceAdmin) > 0 || len(a.AdminProjects()) > 0
	return v
}

func (s *Console) sessionView(p *principal) sessionView {
	return sessionView{User: p.user, CSRFToken: p.session.CSRFToken, Access: viewAccess(p.access),
		IdleTimeoutSeconds: int(s.sessions.Config().IdleTimeout.Seconds())}
}

// bindJSON decodes a JSON body; anything else is a 400 the user can act on.
func bindJSON(c echo.Context, v any) error {
	ct := c.Request().Header.Get(echo.HeaderContentType)
	if !strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
		return &problem.Error{Kind: problem.KindInvalid, Code: "invalid", Message: "Send the request body as JSON (Content-Type: application/json)."}
	}
	if err := (&echo.DefaultBinder{}).BindBody(c, v); err != nil {
		var he *echo.HTTPError
		if errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge {
			return err
		}
		return &problem.Error{Kind: problem.KindInvalid, Code: "invalid", Message: "The request body is not valid JSON for this call."}
	}
	return nil
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func (s *Console) handleLogin(c echo.Context) error {
	if err := checkSameOrigin(c); err != nil {
		return err
	}
	var req loginRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	req.Username = strings.ToLower(strings.TrimSpace(req.Username))
	f := problem.Fields{}
	if req.Username == "" {
		f.Add("username", "is required")
	}
	if req.Password == "" {
		f.Add("password", "is required")
	}
	info := auditOf(c)
	info.actor, info.kind, info.name = req.Username, "session", req.Username
	if err := f.Err(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	attempt := throttle.Attempt{IP: c.RealIP(), Account: req.Username}
	deviceSecret := ""
	if ck, err := c.Cookie(deviceCookie); err == nil {
		deviceSecret = ck.Value
		known, err := s.users.KnownDevice(ctx, req.Username, deviceSecret)
		if err != nil {
			return err
		}
		if known {
			attempt.Device = identity.HashToken(deviceSecret)
		}
	}
	if wait, reason := s.limiter.Check(attempt); reason != throttle.ReasonNone {
		return throttled(wait, reason)
	}
	user, err := s.users.Authenticate(ctx, req.Username, req.Password)
	if errors.Is(err, identity.ErrInvalidCredentials) {
		s.limiter.Failure(attempt)
		return err
	}
	if err != nil {
		return err
	}
	s.limiter.Success(attempt)
	if attempt.Device == "" {
		if deviceSecret == "" {
			if deviceSecret, err = identity.NewDeviceToken(); err != nil {
				return err
			}
		}
		if err := s.users.RememberDevice(ctx, user.ID, deviceSecret); err != nil {
			return err
		}
		setCookie(c, deviceCookie, deviceSecret, 365*24*3600)
	}
	return s.startSession(c, user)
}

func throttled(wait interface{ Seconds() float64 }, reason throttle.Reason) error {
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	msg := fmt.Sprintf("Too many failed logins; try again in %s.", humanSeconds(secs))
	switch reason {
	case throttle.ReasonAccount:
		msg = "This account has had many failed logins from unknown devices. Log in from a browser you have used before, or try again in " +
			humanSeconds(secs) + "."
	case throttle.ReasonIP:
		msg = "Too many failed logins from your address; try again in " + humanSeconds(secs) + "."
	}
	return &problem.Error{Kind: problem.KindTooManyRequests, Code: "throttled", Message: msg, RetryAfterSeconds: secs}
}

func humanSeconds(secs int) string {
	if secs < 60 {
		if secs == 1 {
			return "1 second"
		}
		return fmt.Sprintf("%d seconds", secs)
	}
	m := (secs + 59) / 60
	if m == 1 {
		return "1 minute"
	}
	return fmt.Sprintf("%d minutes", m)
}

// startSession ends any session the browser had and starts a new one, so
// that a session id planted before login is worthless after it.
func (s *Console) startSession(c echo.Context, user identity.User) error {
	ctx := c.Request().Context()
	if ck, err := c.Cookie(sessionCookie); err == nil {
		if err := s.sessions.Delete(ctx, ck.Value); err != nil {
			return err
		}
	}
	secret, sess, err := s.sessions.Create(ctx, user.ID, c.RealIP(), c.Request().UserAgent())
	if err != nil {
		return err
	}
	setCookie(c, sessionCookie, secret, 0)
	access, err := s.tenancy.AccessFor(ctx, user.ID, user.Name, user.PlatformAdmin)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.sessionView(&principal{user: user, access: access, session: sess, sessionSecret: secret}))
}

func (s *Console) handleLogout(c echo.Context) error {
	p := principalOf(c)
	auditObject(c, "session", "", p.user.Name)
	if p.sessionSecret != "" {
		if err := s.sessions.Delete(c.Request().Context(), p.sessionSecret); err != nil {
			return err
		}
	}
	clearCookie(c, sessionCookie)
	return c.NoContent(http.StatusNoContent)
}

func (s *Console) handleSession(c echo.Context) error {
	return c.JSON(http.StatusOK, s.sessionView(principalOf(c)))
}

type passwordChange struct {
	CurrentPassword string `json:"currentPassword"`
	NewPassword     string `json:"newPassword"`
}

func (s *Console) handleChangePassword(c echo.Context) error {
	p := principalOf(c)
	auditObject(c, "user", "", p.user.Name)
	var req passwordChange
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	f := problem.Fields{}
	if req.CurrentPassword == "" {
		f.Add("currentPassword", "is required")
	}
	if req.NewPassword == "" {
		f.Add("newPassword", "is required")
	}
	if err := f.Err(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	if err := s.users.ChangePassword(ctx, p.user.ID, req.CurrentPassword, req.NewPassword); err != nil {
		return err
	}
	// Everyone else holding this account's sessions must log in again; this
	// browser gets a fresh session id.
	if err := s.sessions.DeleteUserSessions(ctx, p.user.ID, ""); err != nil {
		return err
	}
	if p.user.Name == "admin" && s.cfg.DataDir != "" {
		// The one-time password is no longer valid; do not leave it lying around.
		if err := os.Remove(filepath.Join(s.cfg.DataDir, AdminPasswordFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.log.Warn("removing the one-time admin password file", "err", err)
		}
	}
	user, err := s.users.Get(ctx, p.user.ID)
	if err != nil {
		return err
	}
	return s.startSession(c, user)
}

type providersView struct {
	OIDC     bool   `json:"oidc"`
	OIDCName string `json:"oidcName,omitempty"`
}

func (s *Console) handleProviders(c echo.Context) error {
	v := providersView{}
	if s.oidc != nil {
		v.OIDC = true
		v.OIDCName = s.oidc.Config().DisplayName
		if v.OIDCName == "" {
			v.OIDCName = "single sign-on"
		}
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Console) handleOIDCLogin(c echo.Context) error {
	if s.oidc == nil {
		return problem.NotFound("single sign-on provider")
	}
	authURL, state, err := s.oidc.Begin(c.Request().Context())
	if err != nil {
		return err
	}
	setCookie(c, oidcCookie, state, 600)
	return c.Redirect(http.StatusFound, authURL)
}

// handleOIDCCallback finishes single sign-on. It is a GET (the provider
// redirects the browser here) but changes state, so it records its own
// audit entry. Failures go back to the login page with a reason code.
func (s *Console) handleOIDCCallback(c echo.Context) error {
	if s.oidc == nil {
		return problem.NotFound("single sign-on provider")
	}
	info := &auditInfo{action: "auth.sso-login", kind: "session"}
	err := s.finishOIDC(c, info)
	s.auth.clear() // roles may have changed with the claims
	s.recordAudit(c, info, err)
	if err != nil {
		code := "sso_failed"
		if p, ok := problem.As(err); ok && p.Code != "" {
			code = p.Code
		} else {
			s.log.Error("single sign-on failed", "err", err)
		}
		return c.Redirect(http.StatusFound, "/login?error="+url.QueryEscape(code))
	}
	return nil
}

func (s *Console) finishOIDC(c echo.Context, info *auditInfo) error {
	ck, err := c.Cookie(oidcCookie)
	state := c.QueryParam("state")
	if err != nil || state == "" || ck.Value != state {
		return &problem.Error{Kind: problem.KindUnauthenticated, Code: "sso_failed", Message: "Single sign-on did not complete; start the sign-in again."}
	}
	clearCookie(c, oidcCookie)
	ctx := c.Request().Context()
	claims, err := s.oidc.Finish(ctx, state, c.QueryParam("code"))
	if err != nil {
		return err
	}
	info.actor, info.name = claims.UserName, claims.UserName
	admin, grants := s.oidc.Config().Map(claims)
	user, err := s.users.UpsertOIDC(ctx, claims, admin)
	if err != nil {
		return err
	}
	info.actor, info.name = user.Name, user.Name
	bindings := make([]tenancy.Binding, 0, len(grants))
	for _, g := range grants {
		bindings = append(bindings, tenancy.Binding{UserID: user.ID, Scope: g.Scope, ScopeName: g.ScopeName, Role: tenancy.Role(g.Role)})
	}
	if err := s.tenancy.ReplaceSourceBindings(ctx, user.ID, tenancy.SourceOIDC, bindings); err != nil {
		return err
	}
	if ck, err := c.Cookie(sessionCookie); err == nil {
		if err := s.sessions.Delete(ctx, ck.Value); err != nil {
			return err
		}
	}
	secret, _, err := s.sessions.Create(ctx, user.ID, c.RealIP(), c.Request().UserAgent())
	if err != nil {
		return err
	}
	setCookie(c, sessionCookie, secret, 0)
	return c.Redirect(http.StatusFound, "/")
}
