package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/outpost-platform/outpost/appliance/console/audit"
	"github.com/outpost-platform/outpost/appliance/console/identity"
	"github.com/outpost-platform/outpost/appliance/console/problem"
	"github.com/outpost-platform/outpost/appliance/console/session"
	"github.com/outpost-platform/outpost/appliance/console/tenancy"
)

// Cookie names. The __Host- prefix makes browsers insist on Secure, Path=/
// and no Domain, so a sibling host cannot plant or read them.
const (
	sessionCookie = "__Host-outpost-session"
	deviceCookie  = "__Host-outpost-device"
	oidcCookie    = "__Host-outpost-oidc"
	csrfHeader    = "X-CSRF-Token"
)

const (
	principalKey = "outpost.principal"
	auditKey     = "outpost.audit"
)

// principal is the authenticated caller of a request.
type principal struct {
	user   identity.User
	access *tenancy.Access
	// sessionSecret and session are set for browser sessions, empty for
	// API tokens (which need no CSRF token: browsers never send them on
	// their own).
	sessionSecret string
	session       session.Session
}

func principalOf(c echo.Context) *principal {
	p, _ := c.Get(principalKey).(*principal)
	return p
}

// auditInfo is filled by handlers and written by the audit middleware.
type auditInfo struct {
	action  string
	actor   string // overrides the principal (failed logins name the account tried)
	kind    string
	project string
	name    string
	detail  string
	// skip is set by handlers that record their own entries.
	skip bool
}

func auditOf(c echo.Context) *auditInfo {
	if a, ok := c.Get(auditKey).(*auditInfo); ok {
		return a
	}
	a := &auditInfo{}
	c.Set(auditKey, a)
	return a
}

// auditObject names the object a write acts on.
func auditObject(c echo.Context, kind, project, name string) {
	a := auditOf(c)
	a.kind, a.project, a.name = kind, project, name
}

// auditDetail describes the change; never include secret values.
func auditDetail(c echo.Context, detail string) { auditOf(c).detail = detail }

func isUnsafe(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// securityHeaders sets headers every console response carries.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Strict-Transport-Security", "max-age=31536000")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "+
			"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		return next(c)
	}
}

// noStore keeps API answers out of caches.
func noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		return next(c)
	}
}

// auditWrites records every unsafe request once the handler has run,
// including those refused before reaching it.
func (s *Console) auditWrites(actions map[string]string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !isUnsafe(c.Request().Method) {
				return next(c)
			}
			info := auditOf(c)
			info.action = actions[c.Request().Method+" "+c.Path()]
			if info.action == "" {
				info.action = strings.ToLower(c.Request().Method) + " " + c.Path()
			}
			err := next(c)
			// Whatever the write changed (roles, users, sessions), the next
			// request must see it.
			s.auth.clear()
			if info.skip {
				return err
			}
			s.recordAudit(c, info, err)
			return err
		}
	}
}

func (s *Console) recordAudit(c echo.Context, info *auditInfo, err error) {
	e := audit.Entry{Actor: info.actor, IP: c.RealIP(), Action: info.action, Kind: info.kind, Project: info.project,
		Name: info.name, Detail: info.detail}
	if p := principalOf(c); p != nil && e.Actor == "" {
		e.Actor = p.user.Name
	}
	if e.Actor == "" {
		e.Actor = "anonymous"
	}
	if e.Project == "" {
		e.Project = c.Param("project")
	}
	if err == nil {
		e.Result, e.Status = audit.ResultSuccess, c.Response().Status
	} else {
		status, body, _ := describe(err)
		e.Status, e.Message = status, body.Message
		switch status {
		case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusTooManyRequests:
			e.Result = audit.ResultDenied
		default:
			e.Result = audit.ResultFailure
		}
	}
	// The audit write uses its own context: a client that hangs up must not
	// erase the record of what it did.
	if werr := s.audit.Record(context.WithoutCancel(c.Request().Context()), e); werr != nil {
		s.log.Error("audit log write failed", "action", e.Action, "err", werr)
	}
}

// checkSameOrigin refuses unsafe requests that a browser marks as
// cross-site: a second line of defence behind the CSRF token and SameSite.
func checkSameOrigin(c echo.Context) error {
	r := c.Request()
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		return problem.Forbidden("Cross-site requests are not allowed.")
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		u, err := url.Parse(origin)
		if err != nil || u.Host != r.Host {
			return problem.Forbidden("Cross-site requests are not allowed.")
		}
	}
	return nil
}

// authenticate resolves the caller from a bearer token or the session
// cookie, then enforces CSRF on browser writes and the first-password gate.
func (s *Console) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		p := &principal{}
		authz := c.Request().Header.Get(echo.HeaderAuthorization)
		var key [32]byte
		if authz != "" {
			key = authKey("token", authz)
		} else if ck, err := c.Cookie(sessionCookie); err == nil {
			key = authKey("session", ck.Value)
		}
		cached, hit := s.auth.get(key)
		switch {
		case hit:
			*p = cached
		case authz != "":
			secret, ok := strings.CutPrefix(authz, "Bearer ")
			if !ok {
				return problem.Unauthenticated("Use \"Authorization: Bearer <token>\" with an API token.")
			}
			u, err := s.users.AuthenticateToken(ctx, strings.TrimSpace(secret))
			if err != nil {
				return err
			}
			p.user = u
		default:
			ck, err := c.Cookie(sessionCookie)
			if err != nil {
				return problem.Unauthenticated("Log in to continue.")
			}
			sess, err := s.sessions.Lookup(ctx, ck.Value)
			if err != nil {
				if errors.Is(err, session.ErrNoSession) {
					clearCookie(c, sessionCookie)
				}
				return err
			}
			u, err := s.users.Get(ctx, sess.UserID)
			if err != nil || u.Disabled {
				_ = s.sessions.Delete(ctx, ck.Value)
				return session.ErrNoSession
			}
			p.user, p.session, p.sessionSecret = u, sess, ck.Value
		}
		if p.sessionSecret != "" && isUnsafe(c.Request().Method) {
			if err := checkSameOrigin(c); err != nil {
				return err
			}
			if !p.session.CheckCSRF(c.Request().Header.Get(csrfHeader)) {
				return &problem.Error{Kind: problem.KindForbidden, Code: "csrf",
					Message: "The request is missing its security token; reload the page and try again."}
			}
		}
		if !hit {
			access, err := s.tenancy.AccessFor(ctx, p.user.ID, p.user.Name, p.user.PlatformAdmin)
			if err != nil {
				return err
			}
			p.access = access
			s.auth.put(key, *p)
		}
		c.Set(principalKey, p)
		if p.user.MustChangePassword && !passwordGateExempt(c) {
			return &problem.Error{Kind: problem.KindPasswordChangeRequired, Code: "password_change_required",
				Message: "Change your password before continuing."}
		}
		return next(c)
	}
}

// passwordGateExempt lists what a user who must change their password may do.
func passwordGateExempt(c echo.Context) bool {
	switch c.Request().Method + " " + c.Path() {
	case "GET /api/v1/auth/session", "POST /api/v1/auth/password", "POST /api/v1/auth/logout":
		return true
	}
	return false
}

func setCookie(c echo.Context, name, value string, maxAge int) {
	c.SetCookie(&http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, Secure: true, HttpOnly: true,
		SameSite: http.SameSiteLaxMode})
}

func clearCookie(c echo.Context, name string) { setCookie(c, name, "", -1) }

// requirePlatform refuses callers without a platform permission.
func requirePlatform(c echo.Context, act tenancy.Action) error {
	if !principalOf(c).access.Can(act) {
		return problem.Forbidden("Only platform administrators may do this.")
	}
	return nil
}

// projectAccess checks act in project, answering 404 when the caller may not
// know the project exists, so ids and names cannot be probed.
func projectAccess(c echo.Context, act tenancy.Action, project string) error {
	allowed, visible := principalOf(c).access.CanInProject(act, project)
	if !visible {
		return problem.NotFound("project")
	}
	if !allowed {
		return problem.Forbidden(forbiddenMessage(act))
	}
	return nil
}

func forbiddenMessage(act tenancy.Action) string {
	switch act {
	case tenancy.ActionWrite:
		return "Your role in this project allows viewing only; ask a project admin for the operator role."
	case tenancy.ActionRevealSecret:
		return "Your role in this project does not allow revealing secret values."
	case tenancy.ActionManageMembers:
		return "Only project admins may change project members."
	case tenancy.ActionManageWorkspace:
		return "Only workspace admins may do this."
	}
	return "You are not allowed to do this."
}

// workspaceAccess is projectAccess for workspaces.
func workspaceAccess(c echo.Context, act tenancy.Action, workspace string) error {
	allowed, visible := principalOf(c).access.CanInWorkspace(act, workspace)
	if !visible {
		return problem.NotFound("workspace")
	}
	if !allowed {
		return problem.Forbidden(forbiddenMessage(act))
	}
	return nil
}
