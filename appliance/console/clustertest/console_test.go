package clustertest_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/outpost-platform/outpost/appliance/console"
	"github.com/outpost-platform/outpost/appliance/console/audit"
	"github.com/outpost-platform/outpost/appliance/console/identity"
	"github.com/outpost-platform/outpost/appliance/console/kube"
	"github.com/outpost-platform/outpost/appliance/console/tenancy"
	"github.com/outpost-platform/outpost/appliance/kube/kubetest"
	"github.com/outpost-platform/outpost/appliance/state"
)

// env is one console served over HTTPS against the test control plane.
type env struct {
	base    string
	admin   kubernetes.Interface
	adminRC *rest.Config
	db      *state.DB
	caPool  *x509.CertPool
	dataDir string
}

var shared *env

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "console-cluster-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cluster, err := kubetest.Start(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the test control plane:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	shared, err = startConsole(dir, cluster)
	code := 1
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the console:", err)
	} else {
		code = m.Run()
	}
	cluster.Stop()
	os.RemoveAll(dir)
	os.Exit(code)
}

func startConsole(dir string, cluster *kubetest.Cluster) (*env, error) {
	db, err := state.Open(filepath.Join(dir, "state", "outpost.db"))
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := console.DefaultConfig(dir)
	cfg.Listen, cfg.MonitoringURL = addr, ""
	c, err := console.New(cfg, console.Deps{DB: db, Kube: cluster.Admin, PasswordHash: identity.HashParams{MemoryKiB: 64, Time: 1, Threads: 1},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return nil, err
	}
	go func() {
		if err := c.Run(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, "console:", err)
		}
	}()
	caPEM, err := os.ReadFile(filepath.Join(dir, "pki", "ca.crt"))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	admin, err := kubernetes.NewForConfig(cluster.Admin)
	if err != nil {
		return nil, err
	}
	e := &env{base: "https://" + addr, admin: admin, adminRC: cluster.Admin, db: db, caPool: pool, dataDir: dir}
	// The console is up when it answers; its cluster caches sync on their own.
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := e.httpClient(nil).Get(e.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("console did not answer: %w", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return e, nil
}

func (e *env) httpClient(jar http.CookieJar) *http.Client {
	return &http.Client{Jar: jar, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.caPool}}}
}

// browser is a logged-in user over HTTPS with a real cookie jar.
type browser struct {
	t    *testing.T
	e    *env
	hc   *http.Client
	csrf string
	name string
}

type reply struct {
	status int
	body   []byte
}

func (r reply) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

func (b *browser) do(method, path string, body any) reply {
	b.t.Helper()
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, b.e.base+"/api/v1"+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if method != http.MethodGet {
		req.Header.Set("X-CSRF-Token", b.csrf)
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, data}
}

func (b *browser) expect(method, path string, body any, status int) reply {
	b.t.Helper()
	r := b.do(method, path, body)
	if r.status != status {
		b.t.Fatalf("%s %s as %s: got %d %s, want %d", method, path, b.name, r.status, r.body, status)
	}
	return r
}

var counter int

// user creates an account (platform admin if asked) and logs it in.
func (e *env) user(t *testing.T, platformAdmin bool) *browser {
	t.Helper()
	counter++
	name := fmt.Sprintf("u%d-%d", counter, time.Now().UnixNano()%100000)
	users, _ := identity.NewStore(e.db.DB, identity.Options{Hash: identity.HashParams{MemoryKiB: 64, Time: 1, Threads: 1}})
	if _, err := users.CreateLocal(context.Background(), identity.NewLocalUser{Name: name, Password: name + "-password", PlatformAdmin: platformAdmin}); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, e: e, hc: e.httpClient(jar), name: name}
	r := b.expect("POST", "/auth/login", map[string]string{"username": name, "password": name + "-password"}, http.StatusOK)
	var s struct {
		CSRFToken string `json:"csrfToken"`
	}
	r.decode(t, &s)
	b.csrf = s.CSRFToken
	return b
}

// project creates a workspace and project through the API (as a platform
// admin) and gives members roles.
func (e *env) project(t *testing.T, root *browser, members map[*browser]tenancy.Role) string {
	t.Helper()
	counter++
	ws, p := fmt.Sprintf("ws%d", counter), fmt.Sprintf("proj%d", counter)
	root.expect("POST", "/workspaces", map[string]string{"name": ws}, http.StatusCreated)
	root.expect("POST", "/workspaces/"+ws+"/projects", map[string]string{"name": p}, http.StatusCreated)
	for b, role := range members {
		root.expect("PUT", "/projects/"+p+"/members/"+b.name, map[string]string{"role": string(role)}, http.StatusOK)
	}
	return p
}

// eventually retries check until it passes; the caches follow the
// apiserver asynchronously. The bound is the test binary's -timeout.
func eventually(t *testing.T, what string, check func() bool) {
	t.Helper()
	for i := 0; ; i++ {
		if check() {
			return
		}
		if i > 0 && i%100 == 0 {
			t.Logf("still waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestProjectCreatesNamespaceAndRoleBindings(t *testing.T) {
	root := shared.user(t, true)
	p := shared.project(t, root, nil)
	ctx := context.Background()
	ns, err := shared.admin.CoreV1().Namespaces().Get(ctx, p, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ns.Labels["outpost.io/managed-by"] != "outpost-console" || !strings.HasPrefix(ns.Labels["outpost.io/workspace"], "ws") {
		t.Fatalf("namespace labels %v", ns.Labels)
	}
	for _, role := range tenancy.Roles {
		rb, err := shared.admin.RbacV1().RoleBindings(p).Get(ctx, "outpost-"+string(role), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if rb.RoleRef.Name != "outpost-project-"+string(role) || rb.Subjects[0].Name != tenancy.ProjectGroup(p, role) {
			t.Fatalf("role binding %s = %+v", rb.Name, rb)
		}
	}
	// A namespace created outside the console cannot be adopted.
	if _, err := shared.admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "foreign-ns"}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	ws := strings.Replace(p, "proj", "ws", 1)
	r := root.expect("POST", "/workspaces/"+ws+"/projects", map[string]string{"name": "foreign-ns"}, http.StatusConflict)
	if !strings.Contains(string(r.body), `"name"`) {
		t.Fatalf("conflict has no field reason: %s", r.body)
	}
	// Deleting the project deletes the namespace.
	root.expect("DELETE", "/projects/"+p, nil, http.StatusNoContent)
	ns, err = shared.admin.CoreV1().Namespaces().Get(ctx, p, metav1.GetOptions{})
	if err == nil && ns.DeletionTimestamp == nil {
		t.Fatal("namespace not being deleted after project deletion")
	}
}

type workload struct {
	Kind     string   `json:"kind"`
	Name     string   `json:"name"`
	Status   string   `json:"status"`
	Desired  int32    `json:"desired"`
	Revision int64    `json:"revision"`
	Images   []string `json:"images"`
}

type workloadDetail struct {
	workload
	Pods      []struct{ Name, Status string } `json:"pods"`
	Revisions []struct {
		Revision int64    `json:"revision"`
		Images   []string `json:"images"`
		Current  bool     `json:"current"`
	} `json:"revisions"`
}

func TestOperatorDeploysScalesChangesImageAndRollsBack(t *testing.T) {
	root := shared.user(t, true)
	op := shared.user(t, false)
	p := shared.project(t, root, map[*browser]tenancy.Role{op: tenancy.RoleOperator})
	base := "/projects/" + p + "/workloads"

	r := op.do("POST", base, map[string]any{"name": "Web", "image": "", "replicas": -1, "port": 70000, "expose": "LoadBalancer"})
	if r.status != http.StatusBadRequest {
		t.Fatalf("invalid form: %d %s", r.status, r.body)
	}
	var bad struct {
		Error struct{ Fields map[string]string } `json:"error"`
	}
	r.decode(t, &bad)
	for _, f := range []string{"name", "image", "replicas", "port", "expose"} {
		if bad.Error.Fields[f] == "" {
			t.Errorf("no reason for field %s: %s", f, r.body)
		}
	}

	op.expect("POST", base, map[string]any{"name": "web", "image": "registry.local/shop/web:1", "replicas": 1, "port": 8080, "expose": "ClusterIP",
		"env": []map[string]string{{"name": "MODE", "value": "prod"}}, "cpuRequest": "100m", "memoryLimit": "128Mi"}, http.StatusCreated)
	op.expect("POST", base, map[string]any{"name": "web", "image": "registry.local/shop/web:1"}, http.StatusConflict)

	ctx := context.Background()
	d, err := shared.admin.AppsV1().Deployments(p).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ct := d.Spec.Template.Spec.Containers[0]
	if ct.Image != "registry.local/shop/web:1" || ct.ReadinessProbe == nil || ct.Env[0].Value != "prod" || ct.Resources.Limits.Memory().String() != "128Mi" {
		t.Fatalf("created container = %+v", ct)
	}
	if _, err := shared.admin.CoreV1().Services(p).Get(ctx, "web", metav1.GetOptions{}); err != nil {
		t.Fatalf("service not created: %v", err)
	}

	var detail workloadDetail
	eventually(t, "revision 1 and pods in the cache", func() bool {
		r := op.do("GET", base+"/deployments/web", nil)
		if r.status != http.StatusOK {
			return false
		}
		r.decode(t, &detail)
		return detail.Revision == 1 && len(detail.Pods) == 1
	})

	op.expect("POST", base+"/deployments/web/scale", map[string]any{"replicas": 3}, http.StatusNoContent)
	op.expect("POST", base+"/deployments/web/scale", map[string]any{"replicas": 5000}, http.StatusBadRequest)
	eventually(t, "three pods", func() bool {
		op.do("GET", base+"/deployments/web", nil).decode(t, &detail)
		return detail.Desired == 3 && len(detail.Pods) == 3
	})

	op.expect("POST", base+"/deployments/web/image", map[string]any{"image": "registry.local/shop/web:2"}, http.StatusNoContent)
	op.expect("POST", base+"/deployments/web/image", map[string]any{"container": "nope", "image": "x:1"}, http.StatusBadRequest)
	eventually(t, "revision 2", func() bool {
		op.do("GET", base+"/deployments/web", nil).decode(t, &detail)
		return detail.Revision == 2 && len(detail.Revisions) == 2
	})
	op.expect("POST", base+"/deployments/web/rollback", map[string]any{"revision": 2}, http.StatusConflict)
	op.expect("POST", base+"/deployments/web/rollback", map[string]any{"revision": 9}, http.StatusBadRequest)
	op.expect("POST", base+"/deployments/web/rollback", map[string]any{"revision": 1}, http.StatusNoContent)
	eventually(t, "rolled back to web:1 as revision 3", func() bool {
		op.do("GET", base+"/deployments/web", nil).decode(t, &detail)
		return detail.Revision == 3 && len(detail.Images) == 1 && detail.Images[0] == "registry.local/shop/web:1"
	})
	op.expect("POST", base+"/deployments/web/restart", nil, http.StatusNoContent)

	// Every change is in the audit log with what changed.
	log := audit.New(shared.db.DB, nil)
	entries, err := log.Search(ctx, audit.Query{Project: p, Actor: op.name, Result: audit.ResultSuccess})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range entries {
		got[e.Action] = e.Detail
	}
	if got["workload.scale"] != "replicas 1 → 3" || got["workload.set-image"] != "image registry.local/shop/web:1 → registry.local/shop/web:2" ||
		got["workload.rollback"] != "to revision 1" || got["workload.create"] == "" {
		t.Fatalf("audit details = %v", got)
	}

	op.expect("DELETE", base+"/deployments/web", nil, http.StatusNoContent)
	eventually(t, "deployment gone from the list", func() bool {
		var list struct{ Items []workload }
		op.do("GET", base, nil).decode(t, &list)
		return len(list.Items) == 0
	})
}

func TestViewerIsRefusedByConsoleAndByKubernetesRBAC(t *testing.T) {
	root := shared.user(t, true)
	viewer := shared.user(t, false)
	p := shared.project(t, root, map[*browser]tenancy.Role{viewer: tenancy.RoleViewer})
	root.expect("POST", "/projects/"+p+"/workloads", map[string]any{"name": "api", "image": "registry.local/api:1"}, http.StatusCreated)
	eventually(t, "the viewer sees the deployment", func() bool {
		return viewer.do("GET", "/projects/"+p+"/workloads/deployments/api", nil).status == http.StatusOK
	})
	for _, c := range []struct{ method, path string }{
		{"DELETE", "/projects/" + p + "/workloads/deployments/api"},
		{"POST", "/projects/" + p + "/workloads/deployments/api/scale"},
		{"POST", "/projects/" + p + "/apply"},
		{"POST", "/projects/" + p + "/secrets/x/reveal"},
	} {
		viewer.expect(c.method, c.path, map[string]any{"replicas": 0, "yaml": "kind: ConfigMap"}, http.StatusForbidden)
	}
	// Kubernetes agrees: impersonating the viewer's identity directly, as
	// the console would, the apiserver refuses writes and secret reads.
	as := rest.CopyConfig(shared.adminRC)
	as.Impersonate = rest.ImpersonationConfig{UserName: "outpost:" + viewer.name,
		Groups: []string{tenancy.KubeGroupAuthenticated, tenancy.ProjectGroup(p, tenancy.RoleViewer)}}
	cs, err := kubernetes.NewForConfig(as)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := cs.AppsV1().Deployments(p).List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatalf("RBAC refuses the viewer a read: %v", err)
	}
	if err := cs.AppsV1().Deployments(p).Delete(ctx, "api", metav1.DeleteOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("RBAC let the viewer delete: %v", err)
	}
	if _, err := cs.CoreV1().Secrets(p).List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("RBAC let the viewer read secrets: %v", err)
	}
	if _, err := cs.AppsV1().Deployments("kube-system").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("RBAC let a project viewer read kube-system: %v", err)
	}
	// An operator group in another project grants nothing here.
	as.Impersonate.Groups = []string{tenancy.ProjectGroup("other-project", tenancy.RoleOperator)}
	cs, _ = kubernetes.NewForConfig(as)
	if _, err := cs.AppsV1().Deployments(p).List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("another project's group reads this project: %v", err)
	}
}

func TestNoAccessAcrossProjects(t *testing.T) {
	root := shared.user(t, true)
	alice := shared.user(t, false)
	mine := shared.project(t, root, map[*browser]tenancy.Role{alice: tenancy.RoleAdmin})
	theirs := shared.project(t, root, nil)
	root.expect("POST", "/projects/"+theirs+"/workloads", map[string]any{"name": "db", "image": "registry.local/db:1"}, http.StatusCreated)
	eventually(t, "root sees db", func() bool { return root.do("GET", "/projects/"+theirs+"/workloads/deployments/db", nil).status == 200 })
	hidden := alice.do("GET", "/projects/"+theirs+"/workloads/deployments/db", nil)
	missing := alice.do("GET", "/projects/no-such-project/workloads/deployments/db", nil)
	if hidden.status != http.StatusNotFound || string(hidden.body) != string(missing.body) {
		t.Fatalf("other project: %d %s; missing: %d %s", hidden.status, hidden.body, missing.status, missing.body)
	}
	for _, path := range []string{"/workloads", "/pods", "/events", "/resources/secrets", "/members", "/pods/db-x/logs"} {
		alice.expect("GET", "/projects/"+theirs+path, nil, http.StatusNotFound)
	}
	alice.expect("DELETE", "/projects/"+theirs+"/workloads/deployments/db", nil, http.StatusNotFound)
	alice.expect("POST", "/projects/"+theirs+"/apply", map[string]any{"yaml": "kind: ConfigMap"}, http.StatusNotFound)
	// YAML cannot smuggle objects into another project or the cluster scope.
	r := alice.expect("POST", "/projects/"+mine+"/apply", map[string]any{"yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: " + theirs + "\n"}, http.StatusBadRequest)
	if !strings.Contains(string(r.body), "yaml") {
		t.Fatalf("no yaml field reason: %s", r.body)
	}
	alice.expect("POST", "/projects/"+mine+"/apply", map[string]any{"yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: evil\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\n"}, http.StatusBadRequest)
	// The live stream of one's own project carries nothing from another.
	_, err := shared.admin.CoreV1().ConfigMaps(theirs).Get(context.Background(), "x", metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		t.Fatalf("config map leaked into the other project: %v", err)
	}
}

func TestApplyIsAllOrNothingAndSecretsRevealOnlyWhenAsked(t *testing.T) {
	root := shared.user(t, true)
	op := shared.user(t, false)
	viewer := shared.user(t, false)
	p := shared.project(t, root, map[*browser]tenancy.Role{op: tenancy.RoleOperator, viewer: tenancy.RoleViewer})
	bad := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: first\ndata:\n  a: b\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: broken\nspec:\n  replicas: 1\n"
	r := op.expect("POST", "/projects/"+p+"/apply", map[string]any{"yaml": bad}, http.StatusBadRequest)
	if !strings.Contains(string(r.body), "spec") {
		t.Fatalf("invalid deployment answer lacks the reason: %s", r.body)
	}
	if _, err := shared.admin.CoreV1().ConfigMaps(p).Get(context.Background(), "first", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("first document applied although the second was invalid: %v", err)
	}
	op.expect("POST", "/projects/"+p+"/apply", map[string]any{"yaml": "not: [valid"}, http.StatusBadRequest)
	op.expect("POST", "/projects/"+p+"/apply", map[string]any{"yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: s3cr3t-value\n"}, http.StatusOK)
	eventually(t, "secret in cache", func() bool {
		return op.do("GET", "/projects/"+p+"/resources/secrets/db", nil).status == http.StatusOK
	})
	list := viewer.expect("GET", "/projects/"+p+"/resources/secrets", nil, http.StatusOK)
	if strings.Contains(string(list.body), "s3cr3t") || strings.Contains(string(list.body), "czNjcjN0") || !strings.Contains(string(list.body), "password") {
		t.Fatalf("secret list shows values or lacks keys: %s", list.body)
	}
	viewer.expect("POST", "/projects/"+p+"/secrets/db/reveal", nil, http.StatusForbidden)
	rv := op.expect("POST", "/projects/"+p+"/secrets/db/reveal", nil, http.StatusOK)
	if !strings.Contains(string(rv.body), "s3cr3t-value") {
		t.Fatalf("reveal = %s", rv.body)
	}
	op.expect("POST", "/projects/"+p+"/secrets/nope/reveal", nil, http.StatusNotFound)
	entries, _ := audit.New(shared.db.DB, nil).Search(context.Background(), audit.Query{Action: "secret.reveal", Project: p})
	results := map[string]int{}
	for _, e := range entries {
		results[e.Actor+" "+e.Result]++
		if strings.Contains(e.Detail, "s3cr3t") {
			t.Fatal("audit entry contains the secret value")
		}
	}
	if results[op.name+" success"] != 1 || results[viewer.name+" denied"] != 1 {
		t.Fatalf("reveal audit = %v", results)
	}
}

func TestLiveUpdatesArriveWithoutPolling(t *testing.T) {
	root := shared.user(t, true)
	op := shared.user(t, false)
	p := shared.project(t, root, map[*browser]tenancy.Role{op: tenancy.RoleOperator})
	eventually(t, "caches ready", func() bool { return op.do("GET", "/projects/"+p+"/workloads", nil).status == http.StatusOK })
	req, _ := http.NewRequest("GET", shared.base+"/api/v1/watch?project="+p, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp, err := op.hc.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("watch answered %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() && sc.Text() != "event: ready" {
	}
	op.expect("POST", "/projects/"+p+"/workloads", map[string]any{"name": "live", "image": "registry.local/live:1", "replicas": 2}, http.StatusCreated)
	sawDeployment, sawPod := false, false
	for sc.Scan() && !(sawDeployment && sawPod) {
		line := sc.Text()
		if !strings.HasPrefix(line, "data: ") {
			continue
		}
		var ch struct {
			Kind, Project, Type, Name string
		}
		json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ch)
		if ch.Project != p && ch.Project != "" {
			t.Fatalf("change from project %q in the stream of %q", ch.Project, p)
		}
		sawDeployment = sawDeployment || (ch.Kind == "deployments" && ch.Name == "live")
		sawPod = sawPod || (ch.Kind == "pods" && strings.HasPrefix(ch.Name, "live-"))
	}
	if !sawDeployment || !sawPod {
		t.Fatalf("stream ended before the deployment and its pods appeared: %v", sc.Err())
	}
}

func TestEnsureProjectIsIdempotentAndRepairsBindings(t *testing.T) {
	c, err := kube.New(shared.adminRC, kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const ns = "repair-me"
	if err := c.EnsureProject(ctx, ns, "ws-a"); err != nil {
		t.Fatal(err)
	}
	if err := c.EnsureProject(ctx, ns, "ws-a"); err != nil {
		t.Fatalf("second EnsureProject: %v", err)
	}
	rb, err := shared.admin.RbacV1().RoleBindings(ns).Get(ctx, "outpost-viewer", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rb.Subjects[0].Name = "system:authenticated" // someone widened it by hand
	if _, err := shared.admin.RbacV1().RoleBindings(ns).Update(ctx, rb, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.EnsureProject(ctx, ns, "ws-b"); err != nil {
		t.Fatal(err)
	}
	rb, _ = shared.admin.RbacV1().RoleBindings(ns).Get(ctx, "outpost-viewer", metav1.GetOptions{})
	if rb.Subjects[0].Name != tenancy.ProjectGroup(ns, tenancy.RoleViewer) {
		t.Fatalf("binding not repaired: %+v", rb.Subjects)
	}
	n, _ := shared.admin.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if n.Labels["outpost.io/workspace"] != "ws-b" {
		t.Fatalf("namespace labels %v", n.Labels)
	}
}
