package console

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/outpost-platform/outpost/appliance/console/audit"
	"github.com/outpost-platform/outpost/appliance/console/problem"
	"github.com/outpost-platform/outpost/appliance/console/tenancy"
)

// auditQuery turns query parameters into a search restricted to what the
// caller may see: platform admins everything, project admins their projects.
func auditQuery(c echo.Context) (audit.Query, error) {
	a := principalOf(c).access
	q := audit.Query{Actor: c.QueryParam("actor"), Action: c.QueryParam("action"), Kind: c.QueryParam("kind"),
		Project: c.QueryParam("project"), Result: c.QueryParam("result"), Text: c.QueryParam("q")}
	if !a.Can(tenancy.ActionViewAllAudit) {
		q.Projects = a.AdminProjects()
		if len(q.Projects) == 0 {
			return q, problem.Forbidden("Only administrators may read the audit log.")
		}
	}
	f := problem.Fields{}
	parseTime := func(field string) time.Time {
		v := c.QueryParam(field)
		if v == "" {
			return time.Time{}
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			f.Add(field, "must be a time such as 2026-01-02T15:04:05Z")
		}
		return t
	}
	q.Since, q.Until = parseTime("since"), parseTime("until")
	parseInt := func(field string, max int64) int64 {
		v := c.QueryParam(field)
		if v == "" {
			return 0
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || n > max {
			f.Add(field, fmt.Sprintf("must be a whole number between 0 and %d", max))
		}
		return n
	}
	q.BeforeID = parseInt("before", 1<<62)
	q.Limit = int(parseInt("limit", 1000))
	switch q.Result {
	case "", audit.ResultSuccess, audit.ResultDenied, audit.ResultFailure:
	default:
		f.Add("result", "must be success, denied or failure")
	}
	return q, f.Err()
}

func (s *Console) handleAuditSearch(c echo.Context) error {
	q, err := auditQuery(c)
	if err != nil {
		return err
	}
	entries, err := s.audit.Search(c.Request().Context(), q)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": entries})
}

func (s *Console) handleAuditExport(c echo.Context) error {
	q, err := auditQuery(c)
	if err != nil {
		return err
	}
	format := c.QueryParam("format")
	if format == "" {
		format = "csv"
	}
	contentType := map[string]string{"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson"}[format]
	if contentType == "" {
		return problem.Field("format", "must be csv or ndjson")
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, contentType)
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf("attachment; filename=\"outpost-audit-%s.%s\"", s.now().UTC().Format("20060102-150405"), format))
	c.Response().WriteHeader(http.StatusOK)
	// Once streaming has begun an error can only be logged.
	if err := s.audit.Export(c.Request().Context(), q, format, c.Response()); err != nil {
		s.log.Error("exporting audit log", "err", err)
	}
	return nil
}
