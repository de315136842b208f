package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/outpost-platform/outpost/appliance/console/problem"
	"github.com/outpost-platform/outpost/appliance/console/tenancy"
	"github.com/outpost-platform/outpost/appliance/monitor/settings"
)

// listAlerts returns the alerts the caller may see: platform admins all,
// others those labelled with one of their projects' namespaces.
func (s *Console) listAlerts(ctx context.Context, a *tenancy.Access) ([]Alert, error) {
	if err := s.requireAlerting(); err != nil {
		return nil, err
	}
	all, err := s.deps.Alerting.Alerts(ctx)
	if err != nil {
		return nil, err
	}
	out := []Alert{}
	for _, al := range all {
		if a.PlatformAdmin {
			out = append(out, al)
			continue
		}
		if ns := al.Labels["namespace"]; ns != "" {
			if _, visible := a.CanInProject(tenancy.ActionView, ns); visible {
				out = append(out, al)
			}
		}
	}
	// Firing first, then pending, silenced, resolved; newest first within each.
	rank := map[string]int{"firing": 0, "pending": 1, "silenced": 2, "resolved": 3}
	sort.SliceStable(out, func(i, j int) bool {
		if rank[out[i].State] != rank[out[j].State] {
			return rank[out[i].State] < rank[out[j].State]
		}
		return out[i].ActiveAt.After(out[j].ActiveAt)
	})
	return out, nil
}

func (s *Console) handleAlerts(c echo.Context) error {
	alerts, err := s.listAlerts(c.Request().Context(), principalOf(c).access)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, items(alerts))
}

func (s *Console) handleAlertRules(c echo.Context) error {
	if err := s.requireAlerting(); err != nil {
		return err
	}
	rules, err := s.deps.Alerting.Rules(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, items(rules))
}

func (s *Console) requireAlerting() error {
	if s.deps.Alerting == nil {
		return errMonitoringOff
	}
	return nil
}

func (s *Console) handleReceivers(c echo.Context) error {
	if err := requirePlatform(c, tenancy.ActionManageAlerts); err != nil {
		return err
	}
	if err := s.requireAlerting(); err != nil {
		return err
	}
	list, err := s.deps.Alerting.Receivers(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, items(list))
}

func (s *Console) handlePutReceiver(c echo.Context) error {
	name := c.Param("name")
	auditObject(c, "alert-receiver", "", name)
	var raw json.RawMessage
	if err := bindJSON(c, &raw); err != nil {
		return err
	}
	// Decoded only to check it and to name its type in the audit log;
	// what is forwarded is the body as sent (see Alerting.PutReceiver).
	var r settings.Receiver
	if err := json.Unmarshal(raw, &r); err != nil {
		return problem.Field("receiver", "is not a notification channel: "+err.Error())
	}
	if r.Name != "" && r.Name != name {
		return problem.Field("name", "differs from the name in the path")
	}
	auditDetail(c, "type="+r.Kind())
	if err := requirePlatform(c, tenancy.ActionManageAlerts); err != nil {
		return err
	}
	if err := s.requireAlerting(); err != nil {
		return err
	}
	if err := s.deps.Alerting.PutReceiver(c.Request().Context(), name, raw); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Console) handleDeleteReceiver(c echo.Context) error {
	auditObject(c, "alert-receiver", "", c.Param("name"))
	if err := requirePlatform(c, tenancy.ActionManageAlerts); err != nil {
		return err
	}
	if err := s.requireAlerting(); err != nil {
		return err
	}
	if err := s.deps.Alerting.DeleteReceiver(c.Request().Context(), c.Param("name")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Console) handleSilences(c echo.Context) error {
	if err := s.requireAlerting(); err != nil {
		return err
	}
	list, err := s.deps.Alerting.Silences(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, items(list))
}

func (s *Console) handleCreateSilence(c echo.Context) error {
	var sil Silence
	if err := bindJSON(c, &sil); err != nil {
		return err
	}
	auditObject(c, "silence", "", "")
	if err := requirePlatform(c, tenancy.ActionManageAlerts); err != nil {
		return err
	}
	if err := s.requireAlerting(); err != nil {
		return err
	}
	f := problem.Fields{}
	if len(sil.Matchers) == 0 {
		f.Add("matchers", "at least one matcher such as alertname=HighCPU is required")
	} else if _, err := settings.ParseMatchers(sil.Matchers); err != nil {
		f.Add("matchers", err.Error())
	}
	if sil.StartsAt.IsZero() {
		sil.StartsAt = s.now()
	}
	if !sil.EndsAt.After(sil.StartsAt) {
		f.Add("endsAt", "must be after the start")
	}
	if err := f.Err(); err != nil {
		return err
	}
	sil.CreatedBy = principalOf(c).user.Name
	created, err := s.deps.Alerting.CreateSilence(c.Request().Context(), sil)
	if err != nil {
		return err
	}
	auditObject(c, "silence", "", created.ID)
	auditDetail(c, fmt.Sprintf("matchers=%v until %s", sil.Matchers, sil.EndsAt.UTC().Format(time.RFC3339)))
	return c.JSON(http.StatusCreated, created)
}

func (s *Console) handleExpireSilence(c echo.Context) error {
	auditObject(c, "silence", "", c.Param("id"))
	if err := requirePlatform(c, tenancy.ActionManageAlerts); err != nil {
		return err
	}
	if err := s.requireAlerting(); err != nil {
		return err
	}
	if err := s.deps.Alerting.ExpireSilence(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
