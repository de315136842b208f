package console

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"k8s.io/client-go/rest"

	"github.com/outpost-platform/outpost/appliance/console/kube"
	"github.com/outpost-platform/outpost/appliance/console/problem"
	"github.com/outpost-platform/outpost/appliance/console/tenancy"
)

func newKubeCluster(cfg *rest.Config, log *slog.Logger, events *hub) (*kube.Cluster, error) {
	return kube.New(cfg, kube.Options{Logger: log, OnChange: func(ch kube.Change) {
		events.publish(change{Kind: ch.Kind, Project: ch.Namespace, Type: ch.Type, Name: ch.Name, Object: ch.Object})
	}})
}

// syncProjectsWhenReady makes sure every project recorded in the database
// has its namespace and RoleBindings, e.g. after a restore or when projects
// were created while the cluster was down.
func (s *Console) syncProjectsWhenReady(ctx context.Context) {
	for !s.cluster.Ready() {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
	projects, err := s.tenancy.ListProjects(ctx, "")
	if err != nil {
		s.log.Error("listing projects to sync", "err", err)
		return
	}
	for _, p := range projects {
		if err := s.cluster.EnsureProject(ctx, p.Name, p.Workspace); err != nil {
			s.log.Error("syncing project namespace", "project", p.Name, "err", err)
		}
	}
}

func (s *Console) requireCluster() error {
	if s.cluster == nil {
		return problem.Unavailable("This console is not connected to a cluster.")
	}
	return nil
}

// identity is the Kubernetes identity the console impersonates for the caller.
func identityOf(c echo.Context) kube.Identity {
	a := principalOf(c).access
	return kube.Identity{User: a.KubeUser(), Groups: a.KubeGroups()}
}

// inProject checks the cluster is there and the caller may do act in the
// path's project; it returns the project (namespace) name.
func (s *Console) inProject(c echo.Context, act tenancy.Action) (string, error) {
	project := c.Param("project")
	if err := projectAccess(c, act, project); err != nil {
		return "", err
	}
	if err := s.requireCluster(); err != nil {
		return "", err
	}
	return project, nil
}

func items[T any](list []T) map[string]any { return map[string]any{"items": list} }

// writeEncoded sends a cached list answer, compressed when the client accepts it.
func writeEncoded(c echo.Context, enc *kube.Encoded, err error) error {
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Add("Vary", "Accept-Encoding")
	if len(enc.JSON) > 4096 && strings.Contains(c.Request().Header.Get("Accept-Encoding"), "gzip") {
		h.Set(echo.HeaderContentEncoding, "gzip")
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, enc.Gzip())
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, enc.JSON)
}

func (s *Console) handleNodes(c echo.Context) error {
	if err := s.requireCluster(); err != nil {
		return err
	}
	enc, err := s.cluster.NodesList()
	return writeEncoded(c, enc, err)
}

func (s *Console) handleStorageClasses(c echo.Context) error {
	if err := s.requireCluster(); err != nil {
		return err
	}
	list, err := s.cluster.StorageClasses()
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, items(list))
}

func (s *Console) handleNamespaces(c echo.Context) error {
	if err := requirePlatform(c, tenancy.ActionViewNamespaces); err != nil {
		return err
	}
	if err := s.requireCluster(); err != nil {
		return err
	}
	list, err := s.cluster.Namespaces()
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, items(list))
}

// overview is the landing page's data.
type overview struct {
	Cluster    *kube.Summary     `json:"cluster,omitempty"`
	Nodes      []kube.Node       `json:"nodes"`
	Versions   map[string]string `json:"versions"`
	Alerts     *alertCounts      `json:"alerts,omitempty"`
	Registry   *registryUsage    `json:"registry,omitempty"`
	Monitoring bool              `json:"monitoring"`
	// Unavailable lists parts that could not be read, so the page can say so.
	Unavailable []string `json:"unavailable"`
}

type alertCounts struct {
	Firing  int `json:"firing"`
	Pending int `json:"pending"`
}

type registryUsage struct {
	Repositories int   `json:"repositories"`
	Tags         int   `json:"tags"`
	Bytes        int64 `json:"bytes"`
}

func (s *Console) handleOverview(c echo.Context) error {
	ctx := c.Request().Context()
	a := principalOf(c).access
	o := overview{Versions: map[string]string{}, Nodes: []kube.Node{}, Unavailable: []string{}, Monitoring: s.monitor != nil}
	for k, v := range s.deps.Versions {
		o.Versions[k] = v
	}
	if s.cluster != nil && s.cluster.Ready() {
		// The apiserver of a source build reports v0.0.0-master; the
		// version the binary was built with (Deps.Versions) is then the truth.
		if v := s.cluster.ServerVersion(); v != "" && !strings.HasPrefix(v, "v0.0.0") {
			o.Versions["kubernetes"] = v
		}
		sum, err := s.cluster.Summarize(a.VisibleProjects())
		if err == nil {
			o.Cluster = &sum
		}
		if o.Nodes, err = s.cluster.Nodes(); err != nil {
			o.Nodes = []kube.Node{}
		}
	} else {
		o.Unavailable = append(o.Unavailable, "cluster")
	}
	if alerts, err := s.listAlerts(ctx, a); err == nil {
		o.Alerts = &alertCounts{}
		for _, al := range alerts {
			switch al.State {
			case "firing":
				o.Alerts.Firing++
			case "pending":
				o.Alerts.Pending++
			}
		}
	} else {
		o.Unavailable = append(o.Unavailable, "alerts")
	}
	if s.deps.Registry != nil {
		if imgs, err := s.deps.Registry.Images(ctx); err == nil {
			u := &registryUsage{}
			repos := map[string]bool{}
			blobs := map[string]int64{}
			for _, im := range imgs {
				repos[im.Repository] = true
				u.Tags++
				blobs[im.Digest] = im.Size
			}
			for _, size := range blobs {
				u.Bytes += size
			}
			u.Repositories = len(repos)
			o.Registry = u
		} else {
			o.Unavailable = append(o.Unavailable, "registry")
		}
	} else {
		o.Unavailable = append(o.Unavailable, "registry")
	}
	return c.JSON(http.StatusOK, o)
}

func (s *Console) handleListWorkloads(c echo.Context) error {
	ns, err := s.inProject(c, tenancy.ActionView)
	if err != nil {
		return err
	}
	kind := c.QueryParam("kind")
	if kind != "" && !kube.IsWorkloadKind(kind) {
		return problem.Field("kind", "must be one of "+strings.Join(kube.WorkloadKinds, ", "))
	}
	if kind == "" {
		enc, err := s.cluster.WorkloadsList(ns)
		return writeEncoded(c, enc, err)
	}
	list, err := s.cluster.Workloads(ns, kind)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, items(list))
}

func (s *Console) handleGetWorkload(c echo.Context) error {
	ns, err := s.inProject(c, tenancy.ActionView)
	if err != nil {
		return err
	}
	d, err := s.cluster.Workload(ns, c.Param("kind"), c.Param("name"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

func (s *Console) handleCreateWorkload(c echo.Context) error {
	var form kube.WorkloadForm
	if err := bindJSON(c, &form); err != nil {
		return err
	}
	if form.Kind == "" {
		form.Kind = kube.KindDeployments
	}
	auditObject(c, form.Kind, c.Param("project"), form.Name)
	auditDetail(c, "image="+form.Image)
	ns, err := s.inProject(c, tenancy.ActionWrite)
	if err != nil {
		return err
	}
	w, err := s.cluster.CreateWorkload(c.Request().Context(), identityOf(c), ns, form)
	if err != nil {
		return err
	}
	auditObject(c, w.Kind, ns, w.Name)
	return c.JSON(http.StatusCreated, w)
}

type applyRequest struct {
	YAML string `json:"yaml"`
}

func (s *Console) handleApply(c echo.Context) error {
	var req applyRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	auditObject(c, "manifest", c.Param("project"), "")
	ns, err := s.inProject(c, tenancy.ActionWrite)
	if err != nil {
		return err
	}
	applied, err := s.cluster.Apply(c.Request().Context(), identityOf(c), ns, []byte(req.YAML))
	if err != nil {
		return err
	}
	names := make([]string, 0, len(applied))
	for _, a := range applied {
		names = append(names, a.Kind+"/"+a.Name)
	}
	auditDetail(c, "applied "+strings.Join(names, ", "))
	return c.JSON(http.StatusOK, items(applied))
}

// workloadWrite checks write access for a workload route and names the
// object in the audit entry.
func (s *Console) workloadWrite(c echo.Context) (string, string, string, error) {
	kind, name := c.Param("kind"), c.Param("name")
	auditObject(c, kind, c.Param("project"), name)
	ns, err := s.inProject(c, tenancy.ActionWrite)
	if err != nil {
		return "", "", "", err
	}
	if !kube.IsWorkloadKind(kind) {
		return "", "", "", problem.NotFound("workload")
	}
	return ns, kind, name, nil
}

func (s *Console) handleScale(c echo.Context) error {
	var req struct {
		Replicas *int32 `json:"replicas"`
	}
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	ns, kind, name, err := s.workloadWrite(c)
	if err != nil {
		return err
	}
	if req.Replicas == nil {
		return problem.Field("replicas", "is required")
	}
	before, err := s.cluster.Scale(c.Request().Context(), identityOf(c), ns, kind, name, *req.Replicas)
	auditDetail(c, fmt.Sprintf("replicas %d → %d", before, *req.Replicas))
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Console) handleRestart(c echo.Context) error {
	ns, kind, name, err := s.workloadWrite(c)
	if err != nil {
		return err
	}
	if err := s.cluster.Restart(c.Request().Context(), identityOf(c), ns, kind, name, s.now()); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Console) handleSetImage(c echo.Context) error {
	var req struct {
		Container string `json:"container"`
		Image     string `json:"image"`
	}
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	ns, kind, name, err := s.workloadWrite(c)
	if err != nil {
		return err
	}
	before, err := s.cluster.SetImage(c.Request().Context(), identityOf(c), ns, kind, name, req.Container, req.Image)
	auditDetail(c, fmt.Sprintf("image %s → %s", before, req.Image))
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Console) handleRollback(c echo.Context) error {
	var req struct {
		Revision int64 `json:"revision"`
	}
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	ns, kind, name, err := s.workloadWrite(c)
	if err != nil {
		return err
	}
	auditDetail(c, fmt.Sprintf("to revision %d", req.Revision))
	if req.Revision <= 0 {
		return problem.Field("revision", "must be a revision number from the workload's history")
	}
	if err := s.cluster.Rollback(c.Request().Context(), identityOf(c), ns, kind, name, req.Revision); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Console) handleDeleteWorkload(c echo.Context) error {
	ns, kind, name, err := s.workloadWrite(c)
	if err != nil {
		return err
	}
	if err := s.cluster.DeleteWorkload(c.Request().Context(), identityOf(c), ns, kind, name); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Console) handleListPods(c echo.Context) error {
	ns, err := s.inProject(c, tenancy.ActionView)
	if err != nil {
		return err
	}
	enc, err := s.cluster.PodsList(ns)
	return writeEncoded(c, enc, err)
}

func (s *Console) handleGetPod(c echo.Context) error {
	ns, err := s.inProject(c, tenancy.ActionView)
	if err != nil {
		return err
	}
	p, err := s.cluster.Pod(ns, c.Param("name"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (s *Console) handleDeletePod(c echo.Context) error {
	auditObject(c, "pods", c.Param("project"), c.Param("name"))
	ns, err := s.inProject(c, tenancy.ActionWrite)
	if err != nil {
		return err
	}
	if err := s.cluster.DeletePod(c.Request().Context(), identityOf(c), ns, c.Param("name")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Console) handleEvents(c echo.Context) error {
	ns, err := s.inProject(c, tenancy.ActionView)
	if err != nil {
		return err
	}
	enc, err := s.cluster.EventsList(ns)
	return writeEncoded(c, enc, err)
}

// logFilter keeps lines matching the user's keyword: case-insensitive
// substring by default, exact (case-sensitive) with match=exact.
type logFilter struct {
	keyword string
	exact   bool
}

func (f logFilter) keep(line string) bool {
	if f.keyword == "" {
		return true
	}
	if f.exact {
		return strings.Contains(line, f.keyword)
	}
	return strings.Contains(strings.ToLower(line), strings.ToLower(f.keyword))
}

// handleLogs serves a container log. follow=true streams it as server-sent
// events (one "line" event per line) until the client goes; download=true
// returns the whole (filtered) log as a file; otherwise the last lines as
// JSON. filter and match select lines.
func (s *Console) handleLogs(c echo.Context) error {
	ns, err := s.inProject(c, tenancy.ActionView)
	if err != nil {
		return err
	}
	q := c.QueryParams()
	opts := kube.LogOptions{Container: q.Get("container"), Previous: q.Get("previous") == "true", Timestamps: q.Get("timestamps") == "true"}
	f := problem.Fields{}
	if v := q.Get("tail"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 || n > 100000 {
			f.Add("tail", "must be a whole number between 1 and 100000")
		}
		opts.TailLines = n
	}
	if err := f.Err(); err != nil {
		return err
	}
	filter := logFilter{keyword: q.Get("filter"), exact: q.Get("match") == "exact"}
	pod := c.Param("name")
	ctx := c.Request().Context()
	switch {
	case q.Get("follow") == "true":
		if opts.TailLines == 0 {
			opts.TailLines = 500
		}
		opts.Follow = true
		rc, err := s.cluster.Logs(ctx, identityOf(c), ns, pod, opts)
		if err != nil {
			return err
		}
		defer rc.Close()
		return streamLogLines(c, rc, filter)
	case q.Get("download") == "true":
		opts.LimitBytes = 256 << 20
		rc, err := s.cluster.Logs(ctx, identityOf(c), ns, pod, opts)
		if err != nil {
			return err
		}
		defer rc.Close()
		name := pod
		if opts.Container != "" {
			name += "-" + opts.Container
		}
		c.Response().Header().Set(echo.HeaderContentDisposition, fmt.Sprintf("attachment; filename=%q", name+".log"))
		c.Response().Header().Set(echo.HeaderContentType, "text/plain; charset=utf-8")
		c.Response().WriteHeader(http.StatusOK)
		sc := bufio.NewScanner(rc)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		w := bufio.NewWriter(c.Response())
		for sc.Scan() {
			if filter.keep(sc.Text()) {
				w.WriteString(sc.Text())
				w.WriteByte('\n')
			}
		}
		return w.Flush()
	default:
		if opts.TailLines == 0 {
			opts.TailLines = 1000
		}
		opts.LimitBytes = 8 << 20
		rc, err := s.cluster.Logs(ctx, identityOf(c), ns, pod, opts)
		if err != nil {
			return err
		}
		defer rc.Close()
		lines := []string{}
		sc := bufio.NewScanner(rc)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if filter.keep(sc.Text()) {
				lines = append(lines, sc.Text())
			}
		}
		return c.JSON(http.StatusOK, map[string]any{"lines": lines})
	}
}

func streamLogLines(c echo.Context, rc io.Reader, filter logFilter) error {
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	w.Flush()
	lines := make(chan string, 256)
	done := c.Request().Context().Done()
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(rc)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			// When the client has gone nobody reads: stop rather than block.
			select {
			case lines <- sc.Text():
			case <-done:
				return
			}
		}
	}()
	heartbeat := time.NewTicker(20 * time.Second)
	defer heartbeat.Stop()
	for {
		select {
		case <-c.Request().Context().Done():
			return nil
		case <-heartbeat.C:
			io.WriteString(w, ": keep-alive\n\n")
			w.Flush()
		case line, ok := <-lines:
			if !ok {
				io.WriteString(w, "event: end\ndata: {}\n\n")
				w.Flush()
				return nil
			}
			if !filter.keep(line) {
				continue
			}
			writeSSE(w, "line", line)
			// Send what is queued in one flush: a chatty container must not
			// cost a syscall per line.
			for drained := false; !drained; {
				select {
				case more, ok := <-lines:
					if !ok {
						drained = true
						lines = nil
						break
					}
					if filter.keep(more) {
						writeSSE(w, "line", more)
					}
				default:
					drained = true
				}
			}
			w.Flush()
			if lines == nil {
				io.WriteString(w, "event: end\ndata: {}\n\n")
				w.Flush()
				return nil
			}
		}
	}
}

// writeSSE writes one event; data is written as JSON string so that any
// byte sequence in a log line survives.
func writeSSE(w io.Writer, event, data string) {
	b, _ := jsonString(data)
	fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b)
}

func (s *Console) handleListObjects(c echo.Context) error {
	ns, err := s.inProject(c, tenancy.ActionView)
	if err != nil {
		return err
	}
	kind := c.Param("kind")
	if !kube.IsConfigKind(kind) {
		return problem.NotFound("resource type")
	}
	enc, err := s.cluster.ObjectsList(ns, kind)
	return writeEncoded(c, enc, err)
}

func (s *Console) handleGetObject(c echo.Context) error {
	ns, err := s.inProject(c, tenancy.ActionView)
	if err != nil {
		return err
	}
	obj, err := s.cluster.Object(ns, c.Param("kind"), c.Param("name"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, obj)
}

func (s *Console) handleDeleteObject(c echo.Context) error {
	kind := c.Param("kind")
	auditObject(c, kind, c.Param("project"), c.Param("name"))
	ns, err := s.inProject(c, tenancy.ActionWrite)
	if err != nil {
		return err
	}
	if !kube.IsConfigKind(kind) {
		return problem.NotFound("resource type")
	}
	if err := s.cluster.DeleteObject(c.Request().Context(), identityOf(c), ns, kind, c.Param("name")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// handleRevealSecret returns a secret's values. It is a POST so that every
// reveal passes CSRF checks and lands in the audit log.
func (s *Console) handleRevealSecret(c echo.Context) error {
	auditObject(c, "secrets", c.Param("project"), c.Param("name"))
	ns, err := s.inProject(c, tenancy.ActionRevealSecret)
	if err != nil {
		return err
	}
	values, err := s.cluster.RevealSecret(c.Request().Context(), identityOf(c), ns, c.Param("name"))
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	auditDetail(c, "revealed keys: "+strings.Join(keys, ", "))
	return c.JSON(http.StatusOK, map[string]any{"data": values})
}
