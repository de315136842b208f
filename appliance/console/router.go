package console

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/outpost-platform/outpost/appliance/console/tenancy"
)

// routes registers handlers and remembers the audit action of each write.
type routes struct {
	g       *echo.Group
	prefix  string
	actions map[string]string
}

func (r routes) get(path string, h echo.HandlerFunc) { r.g.GET(path, h) }

// write registers an unsafe route whose audit entries are called action.
func (r routes) write(method, path, action string, h echo.HandlerFunc) {
	r.g.Add(method, path, h)
	r.actions[method+" "+r.prefix+path] = action
}

// newRouter builds the console's HTTP routes: /api/v1 (JSON API) and the
// single-page UI for every other path.
func (s *Console) newRouter() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	// Only the connection's address counts for throttling and audit; a
	// forwarded-for header is trivially forged.
	e.IPExtractor = echo.ExtractIPDirect()
	e.HTTPErrorHandler = errorHandler(s.log)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true, LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
		s.log.Error("console handler panicked", "path", c.Request().URL.Path, "err", err, "stack", string(stack))
		return err
	}}))
	e.Use(securityHeaders)
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })

	actions := map[string]string{}
	const prefix = "/api/v1"
	api := e.Group(prefix, noStore, middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{
		Limit: "2M",
		// Chunks have their own, larger limit in handleChunk.
		Skipper: func(c echo.Context) bool { return strings.HasSuffix(c.Path(), "/chunk") },
	}), s.auditWrites(actions))

	public := routes{g: api, prefix: prefix, actions: actions}
	public.write(http.MethodPost, "/auth/login", "auth.login", s.handleLogin)
	public.get("/auth/providers", s.handleProviders)
	public.get("/auth/oidc/login", s.handleOIDCLogin)
	public.get("/auth/oidc/callback", s.handleOIDCCallback)

	r := routes{g: api.Group("", s.authenticate), prefix: prefix, actions: actions}
	r.get("/auth/session", s.handleSession)
	r.write(http.MethodPost, "/auth/logout", "auth.logout", s.handleLogout)
	r.write(http.MethodPost, "/auth/password", "auth.change-password", s.handleChangePassword)

	r.get("/tokens", s.handleListTokens)
	r.write(http.MethodPost, "/tokens", "token.create", s.handleCreateToken)
	r.write(http.MethodDelete, "/tokens/:id", "token.delete", s.handleDeleteToken)

	r.get("/users", s.handleListUsers)
	r.get("/directory", s.handleDirectory)
	r.write(http.MethodPost, "/users", "user.create", s.handleCreateUser)
	r.get("/users/:id", s.handleGetUser)
	r.write(http.MethodPatch, "/users/:id", "user.update", s.handleUpdateUser)
	r.write(http.MethodDelete, "/users/:id", "user.delete", s.handleDeleteUser)
	r.write(http.MethodPost, "/users/:id/password", "user.reset-password", s.handleResetPassword)

	r.get("/workspaces", s.handleListWorkspaces)
	r.write(http.MethodPost, "/workspaces", "workspace.create", s.handleCreateWorkspace)
	r.get("/workspaces/:workspace", s.handleGetWorkspace)
	r.write(http.MethodDelete, "/workspaces/:workspace", "workspace.delete", s.handleDeleteWorkspace)
	r.get("/workspaces/:workspace/members", s.handleListMembers(tenancy.ScopeWorkspace))
	r.write(http.MethodPut, "/workspaces/:workspace/members/:user", "workspace.set-member", s.handleSetMember(tenancy.ScopeWorkspace))
	r.write(http.MethodDelete, "/workspaces/:workspace/members/:user", "workspace.remove-member", s.handleRemoveMember(tenancy.ScopeWorkspace))
	r.get("/workspaces/:workspace/projects", s.handleListProjects)
	r.write(http.MethodPost, "/workspaces/:workspace/projects", "project.create", s.handleCreateProject)

	r.get("/projects", s.handleListProjects)
	r.get("/projects/:project", s.handleGetProject)
	r.write(http.MethodDelete, "/projects/:project", "project.delete", s.handleDeleteProject)
	r.get("/projects/:project/members", s.handleListMembers(tenancy.ScopeProject))
	r.write(http.MethodPut, "/projects/:project/members/:user", "project.set-member", s.handleSetMember(tenancy.ScopeProject))
	r.write(http.MethodDelete, "/projects/:project/members/:user", "project.remove-member", s.handleRemoveMember(tenancy.ScopeProject))

	r.get("/projects/:project/workloads", s.handleListWorkloads)
	r.write(http.MethodPost, "/projects/:project/workloads", "workload.create", s.handleCreateWorkload)
	r.write(http.MethodPost, "/projects/:project/apply", "manifest.apply", s.handleApply)
	r.get("/projects/:project/workloads/:kind/:name", s.handleGetWorkload)
	r.get("/projects/:project/workloads/:kind/:name/metrics", s.handleWorkloadMetrics)
	r.write(http.MethodPost, "/projects/:project/workloads/:kind/:name/scale", "workload.scale", s.handleScale)
	r.write(http.MethodPost, "/projects/:project/workloads/:kind/:name/restart", "workload.restart", s.handleRestart)
	r.write(http.MethodPost, "/projects/:project/workloads/:kind/:name/image", "workload.set-image", s.handleSetImage)
	r.write(http.MethodPost, "/projects/:project/workloads/:kind/:name/rollback", "workload.rollback", s.handleRollback)
	r.write(http.MethodDelete, "/projects/:project/workloads/:kind/:name", "workload.delete", s.handleDeleteWorkload)
	r.get("/projects/:project/pods", s.handleListPods)
	r.get("/projects/:project/pods/:name", s.handleGetPod)
	r.get("/projects/:project/pods/:name/logs", s.handleLogs)
	r.write(http.MethodDelete, "/projects/:project/pods/:name", "pod.delete", s.handleDeletePod)
	r.get("/projects/:project/events", s.handleEvents)
	r.get("/projects/:project/resources/:kind", s.handleListObjects)
	r.get("/projects/:project/resources/:kind/:name", s.handleGetObject)
	r.write(http.MethodDelete, "/projects/:project/resources/:kind/:name", "resource.delete", s.handleDeleteObject)
	r.write(http.MethodPost, "/projects/:project/secrets/:name/reveal", "secret.reveal", s.handleRevealSecret)

	r.get("/cluster/overview", s.handleOverview)
	r.get("/cluster/nodes", s.handleNodes)
	r.get("/cluster/storageclasses", s.handleStorageClasses)
	r.get("/cluster/namespaces", s.handleNamespaces)
	r.get("/cluster/metrics", s.handleClusterMetrics)
	r.get("/watch", s.handleWatch)

	r.get("/images", s.handleImages)
	r.write(http.MethodDelete, "/images", "image.delete", s.handleDeleteImage)
	r.write(http.MethodPost, "/images/gc", "registry.gc", s.handleGC)

	r.get("/bundles/uploads", s.handleListUploads)
	r.write(http.MethodPost, "/bundles/uploads", "bundle.upload", s.handleCreateUpload)
	r.get("/bundles/uploads/:id", s.handleGetUpload)
	r.write(http.MethodPut, "/bundles/uploads/:id/chunk", "bundle.chunk", s.handleChunk)
	r.write(http.MethodDelete, "/bundles/uploads/:id", "bundle.cancel", s.handleCancelUpload)

	r.get("/alerts", s.handleAlerts)
	r.get("/alerts/rules", s.handleAlertRules)
	r.get("/alerts/receivers", s.handleReceivers)
	r.write(http.MethodPut, "/alerts/receivers/:name", "alert-receiver.put", s.handlePutReceiver)
	r.write(http.MethodDelete, "/alerts/receivers/:name", "alert-receiver.delete", s.handleDeleteReceiver)
	r.get("/alerts/silences", s.handleSilences)
	r.write(http.MethodPost, "/alerts/silences", "silence.create", s.handleCreateSilence)
	r.write(http.MethodDelete, "/alerts/silences/:id", "silence.expire", s.handleExpireSilence)

	r.get("/audit", s.handleAuditSearch)
	r.get("/audit/export", s.handleAuditExport)

	// Unknown API paths are 404 JSON, not the UI.
	api.Any("/*", func(c echo.Context) error { return echo.ErrNotFound })

	ui := newUIAssets(s.cfg.UIDir)
	e.GET("/*", ui.handle)
	e.HEAD("/*", ui.handle)
	return e
}
