package console

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/outpost-platform/outpost/appliance/console/audit"
	"github.com/outpost-platform/outpost/appliance/console/tenancy"
)

// tenants sets up: platform admin "root"; workspace "team" administered by
// "wsadmin" with project "dev" (padmin admin, op operator, view viewer);
// workspace "other" with project "secret-proj" where "outsider" operates.
type tenants struct {
	e     *env
	users map[string]*client
}

func newTenants(t *testing.T) *tenants {
	e := newEnv(t)
	root := e.admin()
	ts := &tenants{e: e, users: map[string]*client{"root": root}}
	// "pawn" is only ever the target of membership changes.
	for _, n := range []string{"wsadmin", "padmin", "op", "view", "outsider", "nobody", "pawn"} {
		ts.users[n] = e.user(n, false)
	}
	ctx := context.Background()
	for _, ws := range []string{"team", "other"} {
		if _, err := e.console.tenancy.CreateWorkspace(ctx, ws, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.console.tenancy.CreateProject(ctx, "team", "dev", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.console.tenancy.CreateProject(ctx, "other", "secret-proj", ""); err != nil {
		t.Fatal(err)
	}
	e.bind("wsadmin", tenancy.ScopeWorkspace, "team", tenancy.RoleAdmin)
	e.bind("padmin", tenancy.ScopeProject, "dev", tenancy.RoleAdmin)
	e.bind("op", tenancy.ScopeProject, "dev", tenancy.RoleOperator)
	e.bind("view", tenancy.ScopeProject, "dev", tenancy.RoleViewer)
	e.bind("outsider", tenancy.ScopeProject, "secret-proj", tenancy.RoleOperator)
	return ts
}

type call struct {
	name   string
	method string
	path   string
	body   any
	// want maps a user to the expected status; users not listed expect other.
	want  map[string]int
	other int
}

var roleNames = []string{"root", "wsadmin", "padmin", "op", "view", "outsider", "nobody"}

// TestRoleActionMatrix runs every console action as every role and checks
// the status: allowed, 403 when the caller may see the object, 404 when the
// caller may not know it exists. Actions that need the cluster answer 503
// once authorization has passed (this console has no cluster), which shows
// the check happened before any Kubernetes call.
func TestRoleActionMatrix(t *testing.T) {
	const (
		ok       = http.StatusOK
		created  = http.StatusCreated
		none     = http.StatusNoContent
		denied   = http.StatusForbidden
		hidden   = http.StatusNotFound
		noKube   = http.StatusServiceUnavailable
		disabled = http.StatusServiceUnavailable
	)
	ts := newTenants(t)
	calls := []call{
		{"list users", "GET", "/api/v1/users", nil, map[string]int{"root": ok}, denied},
		{"create user", "POST", "/api/v1/users", map[string]any{"name": "fresh-%s", "password": "fresh-password-1"}, map[string]int{"root": created}, denied},
		{"directory", "GET", "/api/v1/directory", nil, map[string]int{"root": ok, "wsadmin": ok, "padmin": ok}, denied},
		{"create workspace", "POST", "/api/v1/workspaces", map[string]any{"name": "ws-%s"}, map[string]int{"root": created}, denied},
		{"get workspace", "GET", "/api/v1/workspaces/team", nil, map[string]int{"root": ok, "wsadmin": ok, "padmin": ok, "op": ok, "view": ok}, hidden},
		{"workspace members", "GET", "/api/v1/workspaces/team/members", nil, map[string]int{"root": ok, "wsadmin": ok, "padmin": ok, "op": ok, "view": ok}, hidden},
		{"set workspace member", "PUT", "/api/v1/workspaces/team/members/pawn", map[string]any{"role": "admin"},
			map[string]int{"root": ok, "wsadmin": ok, "padmin": denied, "op": denied, "view": denied}, hidden},
		{"create project", "POST", "/api/v1/workspaces/team/projects", map[string]any{"name": "p-%s"},
			map[string]int{"root": created, "wsadmin": created, "padmin": denied, "op": denied, "view": denied}, hidden},
		{"get project", "GET", "/api/v1/projects/dev", nil, map[string]int{"root": ok, "wsadmin": ok, "padmin": ok, "op": ok, "view": ok}, hidden},
		{"get missing project", "GET", "/api/v1/projects/no-such-project", nil, map[string]int{}, hidden},
		{"project members", "GET", "/api/v1/projects/dev/members", nil, map[string]int{"root": ok, "wsadmin": ok, "padmin": ok, "op": ok, "view": ok}, hidden},
		{"set project member", "PUT", "/api/v1/projects/dev/members/pawn", map[string]any{"role": "viewer"},
			map[string]int{"root": ok, "wsadmin": ok, "padmin": ok, "op": denied, "view": denied}, hidden},
		{"other tenant's project", "GET", "/api/v1/projects/secret-proj", nil, map[string]int{"root": ok, "outsider": ok}, hidden},
		{"list workloads", "GET", "/api/v1/projects/dev/workloads", nil,
			map[string]int{"root": noKube, "wsadmin": noKube, "padmin": noKube, "op": noKube, "view": noKube}, hidden},
		{"create workload", "POST", "/api/v1/projects/dev/workloads", map[string]any{"name": "web", "image": "registry.local/web:1"},
			map[string]int{"root": noKube, "wsadmin": noKube, "padmin": noKube, "op": noKube, "view": denied}, hidden},
		{"scale workload", "POST", "/api/v1/projects/dev/workloads/deployments/web/scale", map[string]any{"replicas": 3},
			map[string]int{"root": noKube, "wsadmin": noKube, "padmin": noKube, "op": noKube, "view": denied}, hidden},
		{"restart workload", "POST", "/api/v1/projects/dev/workloads/deployments/web/restart", nil,
			map[string]int{"root": noKube, "wsadmin": noKube, "padmin": noKube, "op": noKube, "view": denied}, hidden},
		{"set image", "POST", "/api/v1/projects/dev/workloads/deployments/web/image", map[string]any{"image": "registry.local/web:2"},
			map[string]int{"root": noKube, "wsadmin": noKube, "padmin": noKube, "op": noKube, "view": denied}, hidden},
		{"rollback", "POST", "/api/v1/projects/dev/workloads/deployments/web/rollback", map[string]any{"revision": 1},
			map[string]int{"root": noKube, "wsadmin": noKube, "padmin": noKube, "op": noKube, "view": denied}, hidden},
		{"delete workload", "DELETE", "/api/v1/projects/dev/workloads/deployments/web", nil,
			map[string]int{"root": noKube, "wsadmin": noKube, "padmin": noKube, "op": noKube, "view": denied}, hidden},
		{"apply yaml", "POST", "/api/v1/projects/dev/apply", map[string]any{"yaml": "kind: ConfigMap"},
			map[string]int{"root": noKube, "wsadmin": noKube, "padmin": noKube, "op": noKube, "view": denied}, hidden},
		{"read logs", "GET", "/api/v1/projects/dev/pods/web-1/logs", nil,
			map[string]int{"root": noKube, "wsadmin": noKube, "padmin": noKube, "op": noKube, "view": noKube}, hidden},
		{"delete pod", "DELETE", "/api/v1/projects/dev/pods/web-1", nil,
			map[string]int{"root": noKube, "wsadmin": noKube, "padmin": noKube, "op": noKube, "view": denied}, hidden},
		{"list secrets", "GET", "/api/v1/projects/dev/resources/secrets", nil,
			map[string]int{"root": noKube, "wsadmin": noKube, "padmin": noKube, "op": noKube, "view": noKube}, hidden},
		{"reveal secret", "POST", "/api/v1/projects/dev/secrets/db/reveal", nil,
			map[string]int{"root": noKube, "wsadmin": noKube, "padmin": noKube, "op": noKube, "view": denied}, hidden},
		{"delete config map", "DELETE", "/api/v1/projects/dev/resources/configmaps/cfg", nil,
			map[string]int{"root": noKube, "wsadmin": noKube, "padmin": noKube, "op": noKube, "view": denied}, hidden},
		{"workload metrics", "GET", "/api/v1/projects/dev/workloads/deployments/web/metrics", nil,
			map[string]int{"root": noKube, "wsadmin": noKube, "padmin": noKube, "op": noKube, "view": noKube}, hidden},
		{"watch other project", "GET", "/api/v1/watch?project=secret-proj", nil, map[string]int{"root": -1, "outsider": -1}, hidden},
		{"cluster nodes", "GET", "/api/v1/cluster/nodes", nil, map[string]int{}, noKube},
		{"namespaces", "GET", "/api/v1/cluster/namespaces", nil, map[string]int{"root": noKube}, denied},
		{"overview", "GET", "/api/v1/cluster/overview", nil, map[string]int{}, ok},
		{"list images", "GET", "/api/v1/images", nil, map[string]int{}, disabled},
		{"delete image", "DELETE", "/api/v1/images?ref=app:1", nil, map[string]int{"root": disabled}, denied},
		{"registry gc", "POST", "/api/v1/images/gc", nil, map[string]int{"root": disabled}, denied},
		{"list bundle uploads", "GET", "/api/v1/bundles/uploads", nil, map[string]int{"root": ok}, denied},
		{"start bundle upload", "POST", "/api/v1/bundles/uploads", map[string]any{"fileName": "b.tar", "size": 10}, map[string]int{"root": created}, denied},
		{"alert receivers", "GET", "/api/v1/alerts/receivers", nil, map[string]int{"root": disabled}, denied},
		{"create silence", "POST", "/api/v1/alerts/silences", map[string]any{"matchers": []string{"a=b"}}, map[string]int{"root": disabled}, denied},
		{"audit log", "GET", "/api/v1/audit", nil, map[string]int{"root": ok, "wsadmin": ok, "padmin": ok, "outsider": denied}, denied},
		{"delete project", "DELETE", "/api/v1/projects/dev", nil,
			map[string]int{"root": -2, "wsadmin": -2, "padmin": denied, "op": denied, "view": denied}, hidden},
	}
	for _, cl := range calls {
		t.Run(cl.name, func(t *testing.T) {
			for _, who := range roleNames {
				want, listed := cl.want[who]
				if !listed {
					want = cl.other
				}
				if want < 0 {
					continue // success shapes that the other tests check (streams, destructive)
				}
				body := cl.body
				if m, ok := body.(map[string]any); ok {
					cp := map[string]any{}
					for k, v := range m {
						if s, ok := v.(string); ok && strings.Contains(s, "%s") {
							v = fmt.Sprintf(s, who)
						}
						cp[k] = v
					}
					body = cp
				}
				r := ts.users[who].do(cl.method, cl.path, body)
				if r.Code != want {
					t.Errorf("%s as %s: got %d %s, want %d", cl.name, who, r.Code, r.Body.String(), want)
				}
			}
		})
	}
}

func TestDeleteProjectByWorkspaceAdmin(t *testing.T) {
	ts := newTenants(t)
	expect(t, ts.users["padmin"].do("DELETE", "/api/v1/projects/dev", nil), http.StatusForbidden)
	expect(t, ts.users["wsadmin"].do("DELETE", "/api/v1/projects/dev", nil), http.StatusNoContent)
	expect(t, ts.users["padmin"].do("GET", "/api/v1/projects/dev", nil), http.StatusNotFound)
	expect(t, ts.users["root"].do("DELETE", "/api/v1/projects/secret-proj", nil), http.StatusNoContent)
}

func TestNotFoundAnswersDoNotRevealExistence(t *testing.T) {
	ts := newTenants(t)
	out := ts.users["op"]
	hiddenReal := out.do("GET", "/api/v1/projects/secret-proj/workloads", nil)
	missing := out.do("GET", "/api/v1/projects/no-such-project/workloads", nil)
	if hiddenReal.Code != http.StatusNotFound || hiddenReal.Body.String() != missing.Body.String() {
		t.Fatalf("another tenant's project: %d %s; missing project: %d %s", hiddenReal.Code, hiddenReal.Body.String(), missing.Code, missing.Body.String())
	}
	a := out.do("DELETE", "/api/v1/projects/secret-proj/members/outsider", nil)
	b := out.do("DELETE", "/api/v1/projects/nope/members/outsider", nil)
	if a.Code != http.StatusNotFound || a.Body.String() != b.Body.String() {
		t.Fatalf("members of a hidden project leak: %d %s vs %d %s", a.Code, a.Body.String(), b.Code, b.Body.String())
	}
	ws := out.do("GET", "/api/v1/workspaces/other", nil)
	nows := out.do("GET", "/api/v1/workspaces/nope", nil)
	if ws.Code != http.StatusNotFound || ws.Body.String() != nows.Body.String() {
		t.Fatalf("hidden workspace leaks: %d vs %d", ws.Code, nows.Code)
	}
}

func TestListsShowOnlyVisibleTenants(t *testing.T) {
	ts := newTenants(t)
	var projects struct{ Items []projectView }
	r := ts.users["view"].do("GET", "/api/v1/projects", nil)
	expect(t, r, http.StatusOK)
	r.json(&projects)
	if len(projects.Items) != 1 || projects.Items[0].Name != "dev" || projects.Items[0].Role != tenancy.RoleViewer {
		t.Fatalf("viewer sees projects %+v", projects.Items)
	}
	r = ts.users["wsadmin"].do("GET", "/api/v1/projects", nil)
	r.json(&projects)
	if len(projects.Items) != 1 || projects.Items[0].Role != tenancy.RoleAdmin {
		t.Fatalf("workspace admin sees %+v, want dev as admin", projects.Items)
	}
	r = ts.users["root"].do("GET", "/api/v1/projects", nil)
	r.json(&projects)
	if len(projects.Items) != 2 {
		t.Fatalf("platform admin sees %d projects, want 2", len(projects.Items))
	}
	var workspaces struct{ Items []tenancy.Workspace }
	r = ts.users["op"].do("GET", "/api/v1/workspaces", nil)
	r.json(&workspaces)
	if len(workspaces.Items) != 1 || workspaces.Items[0].Name != "team" {
		t.Fatalf("operator sees workspaces %+v", workspaces.Items)
	}
	r = ts.users["nobody"].do("GET", "/api/v1/workspaces", nil)
	r.json(&workspaces)
	if len(workspaces.Items) != 0 {
		t.Fatalf("user without roles sees workspaces %+v", workspaces.Items)
	}
}

func TestProjectAdminSeesOnlyOwnProjectsAuditEntries(t *testing.T) {
	ts := newTenants(t)
	expect(t, ts.users["padmin"].do("PUT", "/api/v1/projects/dev/members/nobody", map[string]any{"role": "viewer"}), http.StatusOK)
	expect(t, ts.users["root"].do("PUT", "/api/v1/projects/secret-proj/members/nobody", map[string]any{"role": "viewer"}), http.StatusOK)
	var res struct{ Items []audit.Entry }
	r := ts.users["padmin"].do("GET", "/api/v1/audit", nil)
	expect(t, r, http.StatusOK)
	r.json(&res)
	if len(res.Items) == 0 {
		t.Fatal("project admin sees no audit entries of their project")
	}
	for _, e := range res.Items {
		if e.Project != "dev" {
			t.Fatalf("project admin sees entry of project %q: %+v", e.Project, e)
		}
	}
	r = ts.users["padmin"].do("GET", "/api/v1/audit?project=secret-proj", nil)
	r.json(&res)
	if len(res.Items) != 0 {
		t.Fatalf("project admin reads another project's audit entries: %+v", res.Items)
	}
}

func TestMemberChangesTakeEffectImmediately(t *testing.T) {
	ts := newTenants(t)
	nobody := ts.users["nobody"]
	expect(t, nobody.do("GET", "/api/v1/projects/dev", nil), http.StatusNotFound)
	expect(t, ts.users["padmin"].do("PUT", "/api/v1/projects/dev/members/nobody", map[string]any{"role": "operator"}), http.StatusOK)
	expect(t, nobody.do("GET", "/api/v1/projects/dev", nil), http.StatusOK)
	expect(t, ts.users["padmin"].do("DELETE", "/api/v1/projects/dev/members/nobody", nil), http.StatusNoContent)
	expect(t, nobody.do("GET", "/api/v1/projects/dev", nil), http.StatusNotFound)
	r := ts.users["padmin"].do("PUT", "/api/v1/projects/dev/members/ghost", map[string]any{"role": "viewer"})
	expect(t, r, http.StatusBadRequest)
	if r.fields()["user"] == "" {
		t.Fatalf("unknown member has no field reason: %s", r.Body.String())
	}
	r = ts.users["padmin"].do("PUT", "/api/v1/projects/dev/members/nobody", map[string]any{"role": "owner"})
	expect(t, r, http.StatusBadRequest)
	if r.fields()["role"] == "" {
		t.Fatalf("bad role has no field reason: %s", r.Body.String())
	}
}

func TestKubernetesGroupsFollowRoles(t *testing.T) {
	ts := newTenants(t)
	ctx := context.Background()
	u, _ := ts.e.console.users.GetByName(ctx, "wsadmin")
	a, err := ts.e.console.tenancy.AccessFor(ctx, u.ID, u.Name, false)
	if err != nil {
		t.Fatal(err)
	}
	groups := strings.Join(a.KubeGroups(), " ")
	if !strings.Contains(groups, tenancy.ProjectGroup("dev", tenancy.RoleAdmin)) || strings.Contains(groups, "secret-proj") ||
		strings.Contains(groups, tenancy.KubeGroupPlatformAdmin) {
		t.Fatalf("workspace admin impersonates groups %s", groups)
	}
	if a.KubeUser() != "outpost:wsadmin" {
		t.Fatalf("kube user %q", a.KubeUser())
	}
}
