package console

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outpost-platform/outpost/appliance/console/audit"
	"github.com/outpost-platform/outpost/appliance/console/identity"
	"github.com/outpost-platform/outpost/appliance/console/problem"
)

func TestAPITokensActForTheirUserWithoutCSRF(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	r := admin.do("POST", "/api/v1/tokens", map[string]any{"name": "ci", "expiresInDays": 1})
	expect(t, r, http.StatusCreated)
	var created struct {
		Token string            `json:"token"`
		Info  identity.APIToken `json:"info"`
	}
	r.json(&created)
	if !strings.HasPrefix(created.Token, identity.TokenPrefix) {
		t.Fatalf("token %q lacks its prefix", created.Token)
	}
	script := e.browser("10.1.1.1")
	script.token = created.Token
	expect(t, script.do("GET", "/api/v1/users", nil), http.StatusOK)
	// Tokens carry no ambient authority, so writes need no CSRF token.
	expect(t, script.do("POST", "/api/v1/workspaces", map[string]any{"name": "from-script"}), http.StatusCreated)
	entries, _ := e.console.audit.Search(context.Background(), audit.Query{Action: "workspace.create", Result: audit.ResultSuccess})
	if len(entries) != 1 || entries[0].Actor != "admin" || entries[0].IP != "10.1.1.1" {
		t.Fatalf("token write audited as %+v", entries)
	}
	// The token listing never shows secrets.
	r = admin.do("GET", "/api/v1/tokens", nil)
	if strings.Contains(r.Body.String(), created.Token) {
		t.Fatal("token list shows the secret")
	}
	// Expiry.
	e.clock.Advance(25 * 3600 * 1e9)
	expect(t, script.do("GET", "/api/v1/users", nil), http.StatusUnauthorized)

	// Another user cannot revoke admin's token by id (IDOR): 404, and it survives.
	admin.mustLogin("admin", "admin-password-1")
	r = admin.do("POST", "/api/v1/tokens", map[string]any{"name": "second"})
	r.json(&created)
	bob := e.user("bob", false)
	expect(t, bob.do("DELETE", fmt.Sprintf("/api/v1/tokens/%d", created.Info.ID), nil), http.StatusNotFound)
	script.token = created.Token
	expect(t, script.do("GET", "/api/v1/auth/session", nil), http.StatusOK)
	expect(t, admin.do("DELETE", fmt.Sprintf("/api/v1/tokens/%d", created.Info.ID), nil), http.StatusNoContent)
	expect(t, script.do("GET", "/api/v1/auth/session", nil), http.StatusUnauthorized)

	script.token = "opt_forged"
	expect(t, script.do("GET", "/api/v1/auth/session", nil), http.StatusUnauthorized)
	script.token = ""
	script.headers["Authorization"] = "Basic YWRtaW46eA=="
	expect(t, script.do("GET", "/api/v1/auth/session", nil), http.StatusUnauthorized)
}

func TestUserAdministration(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	r := admin.do("POST", "/api/v1/users", map[string]any{"name": "Bad Name", "password": "short", "email": "nope"})
	expect(t, r, http.StatusBadRequest)
	f := r.fields()
	if f["name"] == "" || f["password"] == "" || f["email"] == "" {
		t.Fatalf("field reasons = %v", f)
	}
	r = admin.do("POST", "/api/v1/users", map[string]any{"name": "grace", "password": "grace-initial-1", "displayName": "Grace"})
	expect(t, r, http.StatusCreated)
	var grace identity.User
	r.json(&grace)
	r = admin.do("POST", "/api/v1/users", map[string]any{"name": "GRACE", "password": "grace-initial-1"})
	expect(t, r, http.StatusConflict)
	if r.fields()["name"] == "" {
		t.Fatalf("duplicate user has no field reason: %s", r.Body.String())
	}
	// The administrator's password is only a first password.
	g := e.browser("198.51.100.20").mustLogin("grace", "grace-initial-1")
	expect(t, g.do("GET", "/api/v1/projects", nil), http.StatusForbidden)

	// The last platform admin can be neither demoted, disabled nor deleted.
	var me sessionView
	admin.do("GET", "/api/v1/auth/session", nil).json(&me)
	path := fmt.Sprintf("/api/v1/users/%d", me.User.ID)
	expect(t, admin.do("PATCH", path, map[string]any{"platformAdmin": false}), http.StatusConflict)
	expect(t, admin.do("PATCH", path, map[string]any{"disabled": true}), http.StatusConflict)
	expect(t, admin.do("DELETE", path, nil), http.StatusConflict)
	expect(t, admin.do("PATCH", fmt.Sprintf("/api/v1/users/%d", grace.ID), map[string]any{"platformAdmin": true}), http.StatusOK)
	expect(t, admin.do("PATCH", path, map[string]any{"platformAdmin": false}), http.StatusOK)

	// Reset: the user's sessions end and a change is required again.
	expect(t, admin.do("POST", fmt.Sprintf("/api/v1/users/%d/password", grace.ID), map[string]any{"password": "grace-reset-123"}), http.StatusForbidden)
	root := e.user("root2", true)
	expect(t, root.do("POST", fmt.Sprintf("/api/v1/users/%d/password", grace.ID), map[string]any{"password": "grace-reset-123"}), http.StatusNoContent)
	expect(t, g.do("GET", "/api/v1/auth/session", nil), http.StatusUnauthorized)
	expect(t, root.do("DELETE", "/api/v1/users/99999", nil), http.StatusNotFound)
	expect(t, root.do("DELETE", "/api/v1/users/abc", nil), http.StatusNotFound)
	expect(t, root.do("DELETE", fmt.Sprintf("/api/v1/users/%d", grace.ID), nil), http.StatusNoContent)
	expect(t, e.browser("198.51.100.21").login("grace", "grace-reset-123"), http.StatusUnauthorized)
}

func TestBadInputGetsClearAnswersNot500(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		field              string
	}{
		{"not JSON", "POST", "/api/v1/workspaces", "name=x", http.StatusBadRequest, ""},
		{"wrong JSON type", "POST", "/api/v1/workspaces", map[string]any{"name": 42}, http.StatusBadRequest, ""},
		{"bad workspace name", "POST", "/api/v1/workspaces", map[string]any{"name": "No_Such"}, http.StatusBadRequest, "name"},
		{"reserved project", "POST", "/api/v1/workspaces/w1/projects", map[string]any{"name": "kube-system"}, http.StatusBadRequest, "name"},
		{"project in missing workspace", "POST", "/api/v1/workspaces/missing/projects", map[string]any{"name": "ok"}, http.StatusNotFound, ""},
		{"bad audit time", "GET", "/api/v1/audit?since=yesterday", nil, http.StatusBadRequest, "since"},
		{"bad audit result", "GET", "/api/v1/audit?result=maybe", nil, http.StatusBadRequest, "result"},
		{"bad export format", "GET", "/api/v1/audit/export?format=xml", nil, http.StatusBadRequest, "format"},
		{"unknown API path", "GET", "/api/v1/nothing-here", nil, http.StatusNotFound, ""},
		{"token bad expiry", "POST", "/api/v1/tokens", map[string]any{"name": "x", "expiresInDays": -1}, http.StatusBadRequest, "expiresInDays"},
		{"upload size", "POST", "/api/v1/bundles/uploads", map[string]any{"fileName": "b.tar", "size": 0}, http.StatusBadRequest, "size"},
		{"delete image without ref", "DELETE", "/api/v1/images?ref=", nil, http.StatusServiceUnavailable, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "reserved project" {
				admin.do("POST", "/api/v1/workspaces", map[string]any{"name": "w1"})
			}
			r := admin.do(tc.method, tc.path, tc.body)
			expect(t, r, tc.status)
			if !strings.HasPrefix(r.Header().Get("Content-Type"), "application/json") {
				t.Fatalf("error answered as %q", r.Header().Get("Content-Type"))
			}
			if r.errorCode() == "" {
				t.Fatalf("no error code in %s", r.Body.String())
			}
			if tc.field != "" && r.fields()[tc.field] == "" {
				t.Fatalf("no reason for field %q in %s", tc.field, r.Body.String())
			}
		})
	}
	big := bytes.Repeat([]byte("x"), 3<<20)
	r := admin.do("POST", "/api/v1/workspaces", map[string]any{"name": string(big)})
	expect(t, r, http.StatusRequestEntityTooLarge)
}

func TestAuditSearchAndExport(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	expect(t, admin.do("POST", "/api/v1/workspaces", map[string]any{"name": "alpha", "description": "first"}), http.StatusCreated)
	expect(t, admin.do("POST", "/api/v1/workspaces", map[string]any{"name": "beta"}), http.StatusCreated)
	expect(t, admin.do("DELETE", "/api/v1/workspaces/alpha", nil), http.StatusNoContent)
	// A user-chosen name that a spreadsheet would run as a formula.
	evil := "=HYPERLINK(\"http://x\")"
	expect(t, admin.do("POST", "/api/v1/tokens", map[string]any{"name": evil}), http.StatusCreated)

	var res struct{ Items []audit.Entry }
	r := admin.do("GET", "/api/v1/audit?action=workspace.create", nil)
	expect(t, r, http.StatusOK)
	r.json(&res)
	if len(res.Items) != 2 || res.Items[0].Name != "beta" || res.Items[0].Actor != "admin" || res.Items[0].Result != audit.ResultSuccess {
		t.Fatalf("search by action = %+v", res.Items)
	}
	admin.do("GET", "/api/v1/audit?q=alph", nil).json(&res)
	if len(res.Items) != 2 {
		t.Fatalf("text search found %d entries, want create and delete of alpha", len(res.Items))
	}
	admin.do("GET", "/api/v1/audit?limit=1", nil).json(&res)
	if len(res.Items) != 1 {
		t.Fatal("limit ignored")
	}
	first := res.Items[0].ID
	admin.do(http.MethodGet, fmt.Sprintf("/api/v1/audit?limit=1&before=%d", first), nil).json(&res)
	if len(res.Items) != 1 || res.Items[0].ID >= first {
		t.Fatal("paging backwards does not work")
	}

	r = admin.do("GET", "/api/v1/audit/export?format=csv", nil)
	expect(t, r, http.StatusOK)
	if !strings.Contains(r.Header().Get("Content-Disposition"), "attachment") {
		t.Fatal("export is not a download")
	}
	rows, err := csv.NewReader(r.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if rows[0][2] != "actor" || len(rows) < 5 {
		t.Fatalf("csv export: %v", rows)
	}
	for _, row := range rows {
		if row[7] == evil {
			t.Fatal("formula exported unescaped")
		}
	}
	r = admin.do("GET", "/api/v1/audit/export?format=ndjson&action=workspace.delete", nil)
	if n := strings.Count(r.Body.String(), "\n"); n != 1 {
		t.Fatalf("ndjson export has %d lines, want 1", n)
	}
}

// bundleImporter is a minimal BundleImporter for the upload tests: it
// checks the received bytes' SHA-256 against the file name's expectation.
type bundleImporter struct {
	mu       sync.Mutex
	imported [][]byte
	wantSum  [32]byte
}

func (b *bundleImporter) Import(ctx context.Context, r io.ReaderAt, size int64, opts ImportOptions, progress func(ImportProgress)) (ImportResult, error) {
	if !opts.AllowUnsigned {
		return ImportResult{}, problem.Field("bundle", "is not signed by a trusted key")
	}
	data := make([]byte, size)
	if _, err := r.ReadAt(data, 0); err != nil {
		return ImportResult{}, err
	}
	progress(ImportProgress{Phase: "verifying", Done: size, Total: size})
	if sha256.Sum256(data) != b.wantSum {
		return ImportResult{}, problem.Field("bundle", "layer sha256:... does not match its digest")
	}
	b.mu.Lock()
	b.imported = append(b.imported, data)
	b.mu.Unlock()
	return ImportResult{Name: "demo", Version: "1.0", Images: []string{"demo/app:1"}}, nil
}

func TestBundleUploadIsResumable(t *testing.T) {
	imp := &bundleImporter{}
	e := newEnv(t, func(_ *Config, d *Deps) { d.Bundles = imp })
	admin := e.admin()
	content := bytes.Repeat([]byte("outpost-bundle-"), 1<<20) // 15 MiB: two chunks
	imp.wantSum = sha256.Sum256(content)

	r := admin.do("POST", "/api/v1/bundles/uploads", map[string]any{"fileName": "../../demo.tar", "size": len(content), "allowUnsigned": true})
	expect(t, r, http.StatusCreated)
	var up Upload
	r.json(&up)
	if up.FileName != "demo.tar" || up.ChunkSize != ChunkSize {
		t.Fatalf("upload = %+v", up)
	}
	chunk := func(off, n int) response {
		return admin.do("PUT", fmt.Sprintf("/api/v1/bundles/uploads/%s/chunk?offset=%d", up.ID, off), content[off:off+n])
	}
	// The connection drops halfway through the first chunk: the server
	// records nothing and the browser asks where to resume.
	expect(t, chunk(0, 1000), http.StatusOK)
	r = chunk(0, ChunkSize)
	expect(t, r, http.StatusConflict)
	if r.fields()["offset"] != "1000" {
		t.Fatalf("offset mismatch does not say where to resume: %s", r.Body.String())
	}
	admin.do("GET", "/api/v1/bundles/uploads/"+up.ID, nil).json(&up)
	if up.Received != 1000 || up.State != uploadReceiving {
		t.Fatalf("after partial chunk: %+v", up)
	}
	expect(t, chunk(1000, ChunkSize), http.StatusOK)
	rest := len(content) - 1000 - ChunkSize
	tooLong := append(append([]byte{}, content[1000+ChunkSize:]...), 'x')
	r = admin.do("PUT", fmt.Sprintf("/api/v1/bundles/uploads/%s/chunk?offset=%d", up.ID, 1000+ChunkSize), tooLong)
	expect(t, r, http.StatusBadRequest)
	if r.fields()["chunk"] == "" {
		t.Fatalf("oversized chunk has no field reason: %s", r.Body.String())
	}
	expect(t, chunk(1000+ChunkSize, rest), http.StatusOK)
	// Import runs in the background loop; drive it here.
	e.console.uploads.importOne(context.Background(), e.console, <-e.console.uploads.queue)
	admin.do("GET", "/api/v1/bundles/uploads/"+up.ID, nil).json(&up)
	if up.State != uploadImported || up.Result == nil || up.Result.Images[0] != "demo/app:1" {
		t.Fatalf("after import: %+v", up)
	}
	if len(imp.imported) != 1 || !bytes.Equal(imp.imported[0], content) {
		t.Fatal("importer did not receive the exact bytes")
	}
	expect(t, chunk(0, 10), http.StatusConflict)

	var list struct{ Items []Upload }
	admin.do("GET", "/api/v1/bundles/uploads", nil).json(&list)
	if len(list.Items) != 1 {
		t.Fatalf("history has %d uploads", len(list.Items))
	}
	entries, _ := e.console.audit.Search(context.Background(), audit.Query{Action: "bundle.import"})
	if len(entries) != 1 || entries[0].Result != audit.ResultSuccess {
		t.Fatalf("import audit = %+v", entries)
	}
}

func TestBundleImportFailureIsReported(t *testing.T) {
	imp := &bundleImporter{}
	e := newEnv(t, func(_ *Config, d *Deps) { d.Bundles = imp })
	admin := e.admin()
	r := admin.do("POST", "/api/v1/bundles/uploads", map[string]any{"fileName": "bad.tar", "size": 4, "allowUnsigned": true})
	var up Upload
	r.json(&up)
	expect(t, admin.do("PUT", "/api/v1/bundles/uploads/"+up.ID+"/chunk?offset=0", []byte("evil")), http.StatusOK)
	e.console.uploads.importOne(context.Background(), e.console, <-e.console.uploads.queue)
	admin.do("GET", "/api/v1/bundles/uploads/"+up.ID, nil).json(&up)
	if up.State != uploadFailed || !strings.Contains(up.Message, "does not match") {
		t.Fatalf("failed import = %+v", up)
	}
}

func TestUIIsServedWithFallback(t *testing.T) {
	e := newEnv(t)
	c := e.browser("192.0.2.1")
	r := c.do("GET", "/workloads/dev", nil)
	expect(t, r, http.StatusOK)
	if !strings.Contains(r.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("client route answered %q", r.Header().Get("Content-Type"))
	}
	if r.Header().Get("Content-Security-Policy") == "" || r.Header().Get("X-Frame-Options") != "DENY" {
		t.Fatal("security headers missing")
	}
	expect(t, c.do("GET", "/assets/missing.js", nil), http.StatusNotFound)
}

func TestWatchStreamDeliversOnlyVisibleChanges(t *testing.T) {
	ts := newTenants(t)
	// The stream is long-lived; drive the hub directly with the same filter
	// the handler builds by subscribing through a request in a goroutine.
	view := ts.users["view"]
	done := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "GET", "/api/v1/watch", nil)
		req.RemoteAddr = view.ip + ":1"
		for _, ck := range view.cookies {
			req.AddCookie(ck)
		}
		rec := newFlushRecorder()
		ts.e.console.Handler().ServeHTTP(rec, req)
		done <- rec.String()
	}()
	waitSubscribers(t, ts.e.console.events, 1)
	ts.e.console.events.publish(change{Kind: "pods", Project: "secret-proj", Type: "ADDED", Name: "leak"})
	ts.e.console.events.publish(change{Kind: "pods", Project: "dev", Type: "ADDED", Name: "mine"})
	ts.e.console.events.publish(change{Kind: changeKindBundles, Type: "MODIFIED", Name: "upload"})
	ts.e.console.events.publish(change{Kind: "nodes", Type: "MODIFIED", Name: "node-1"})
	ts.e.console.events.close() // ends the stream
	out := <-done
	cancel()
	if !strings.Contains(out, `"name":"mine"`) || !strings.Contains(out, `"name":"node-1"`) {
		t.Fatalf("visible changes missing from stream:\n%s", out)
	}
	if strings.Contains(out, "leak") || strings.Contains(out, `"name":"upload"`) {
		t.Fatalf("stream leaked another project's or an admin-only change:\n%s", out)
	}
}

func TestAbandonedUploadIsDropped(t *testing.T) {
	e := newEnv(t, func(_ *Config, d *Deps) { d.Bundles = &bundleImporter{} })
	admin := e.admin()
	var up Upload
	admin.do("POST", "/api/v1/bundles/uploads", map[string]any{"fileName": "half.tar", "size": 100}).json(&up)
	expect(t, admin.do("PUT", "/api/v1/bundles/uploads/"+up.ID+"/chunk?offset=0", []byte("first half")), http.StatusOK)
	e.clock.Advance(6 * 24 * time.Hour)
	e.console.uploads.dropAbandoned(context.Background(), e.console)
	admin.mustLogin("admin", "admin-password-1")
	admin.do("GET", "/api/v1/bundles/uploads/"+up.ID, nil).json(&up)
	if up.State != uploadReceiving {
		t.Fatalf("upload dropped after 6 days: %+v", up)
	}
	e.clock.Advance(2 * 24 * time.Hour)
	e.console.uploads.dropAbandoned(context.Background(), e.console)
	admin.mustLogin("admin", "admin-password-1")
	admin.do("GET", "/api/v1/bundles/uploads/"+up.ID, nil).json(&up)
	if up.State != uploadCanceled {
		t.Fatalf("upload kept after 8 days: %+v", up)
	}
	if _, err := os.Stat(e.console.uploads.path(up.ID)); !os.IsNotExist(err) {
		t.Fatalf("partial file kept: %v", err)
	}
}
