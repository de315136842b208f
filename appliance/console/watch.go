package console

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/outpost-platform/outpost/appliance/console/tenancy"
)

func jsonString(s string) ([]byte, error) { return json.Marshal(s) }

// Kinds of live updates that are not Kubernetes objects.
const changeKindBundles = "bundles"

// handleWatch streams live updates as server-sent events ("change" events
// whose data is a change). project limits them to one project and kinds to
// a comma-separated list of kinds. The caller's access is re-checked every
// half minute so a removed member stops receiving updates.
func (s *Console) handleWatch(c echo.Context) error {
	p := principalOf(c)
	project := c.QueryParam("project")
	if project != "" {
		if err := projectAccess(c, tenancy.ActionView, project); err != nil {
			return err
		}
	}
	kinds := map[string]bool{}
	for _, k := range strings.Split(c.QueryParam("kinds"), ",") {
		if k = strings.TrimSpace(k); k != "" {
			kinds[k] = true
		}
	}
	// The filter runs on the publisher's goroutine; the access snapshot is
	// replaced atomically when re-checked, never mutated.
	var access atomic.Pointer[tenancy.Access]
	access.Store(p.access)
	accessOf := access.Load
	filter := func(ch change) bool {
		if len(kinds) > 0 && !kinds[ch.Kind] {
			return false
		}
		if ch.Kind == changeKindBundles {
			return accessOf().Can(tenancy.ActionImportBundles)
		}
		if ch.Project == "" {
			return project == ""
		}
		if project != "" && ch.Project != project {
			return false
		}
		_, visible := accessOf().CanInProject(tenancy.ActionView, ch.Project)
		return visible
	}
	sub := s.events.subscribe(filter)
	defer s.events.unsubscribe(sub)

	w := c.Response()
	w.Header().Set(echo.HeaderContentType, "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, "retry: 3000\nevent: ready\ndata: {}\n\n")
	w.Flush()

	heartbeat := time.NewTicker(20 * time.Second)
	defer heartbeat.Stop()
	recheck := time.NewTicker(30 * time.Second)
	defer recheck.Stop()
	ctx := c.Request().Context()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-heartbeat.C:
			io.WriteString(w, ": keep-alive\n\n")
			w.Flush()
		case <-recheck.C:
			if p.sessionSecret != "" {
				if _, err := s.sessions.Lookup(ctx, p.sessionSecret); err != nil {
					io.WriteString(w, "event: end\ndata: {\"reason\":\"session\"}\n\n")
					w.Flush()
					return nil
				}
			}
			u, err := s.users.Get(ctx, p.user.ID)
			if err != nil || u.Disabled {
				return nil
			}
			a, err := s.tenancy.AccessFor(ctx, u.ID, u.Name, u.PlatformAdmin)
			if err != nil {
				return nil
			}
			access.Store(a)
			if project != "" {
				if _, visible := a.CanInProject(tenancy.ActionView, project); !visible {
					return nil
				}
			}
		case ch, ok := <-sub.ch:
			if !ok {
				// Dropped for being slow, or shutting down: the browser
				// reconnects and reloads its lists.
				io.WriteString(w, "event: reset\ndata: {}\n\n")
				w.Flush()
				return nil
			}
			b, err := json.Marshal(ch)
			if err != nil {
				return fmt.Errorf("encoding live update: %w", err)
			}
			fmt.Fprintf(w, "event: change\ndata: %s\n\n", b)
			w.Flush()
		}
	}
}
