package console

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outpost-platform/outpost/appliance/console/identity"
	"github.com/outpost-platform/outpost/appliance/console/tenancy"
	"github.com/outpost-platform/outpost/appliance/state"
)

// clock is a settable time source so tests expire sessions and throttles
// without sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a console over a real SQLite database in a temporary directory.
type env struct {
	t       *testing.T
	console *Console
	clock   *clock
	dataDir string
	db      *state.DB
	// adminPassword is the first-start one-time password.
	adminPassword string
}

// cheapHash keeps argon2id real but fast in tests.
var cheapHash = identity.HashParams{MemoryKiB: 64, Time: 1, Threads: 1}

func newEnv(t *testing.T, mutate ...func(*Config, *Deps)) *env {
	t.Helper()
	dir := t.TempDir()
	db, err := state.Open(filepath.Join(dir, "state", "outpost.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clk := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	cfg := DefaultConfig(dir)
	cfg.MonitoringURL = ""
	deps := Deps{DB: db, Now: clk.Now, PasswordHash: cheapHash,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, m := range mutate {
		m(&cfg, &deps)
	}
	c, err := New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	pw, err := os.ReadFile(filepath.Join(dir, AdminPasswordFile))
	if err != nil {
		t.Fatalf("first-start password file: %v", err)
	}
	return &env{t: t, console: c, clock: clk, dataDir: dir, db: db, adminPassword: strings.TrimSpace(string(pw))}
}

// client is a browser: it keeps cookies (by name; the test server is plain
// HTTP, so a cookie jar would refuse the Secure cookies), the CSRF token and
// a client address.
type client struct {
	e       *env
	ip      string
	cookies map[string]*http.Cookie
	csrf    string
	token   string // API token instead of a session when set
	headers map[string]string
}

func (e *env) browser(ip string) *client {
	return &client{e: e, ip: ip, cookies: map[string]*http.Cookie{}, headers: map[string]string{}}
}

type response struct {
	*httptest.ResponseRecorder
	t   *testing.T
	req string
}

func (r response) json(v any) {
	r.t.Helper()
	if err := json.Unmarshal(r.Body.Bytes(), v); err != nil {
		r.t.Fatalf("decoding %q: %v", r.Body.String(), err)
	}
}

// errorCode returns the error code of an error response.
func (r response) errorCode() string {
	var b errorBody
	_ = json.Unmarshal(r.Body.Bytes(), &b)
	return b.Error.Code
}

func (r response) fields() map[string]string {
	var b errorBody
	_ = json.Unmarshal(r.Body.Bytes(), &b)
	return b.Error.Fields
}

func (c *client) do(method, path string, body any) response {
	c.e.t.Helper()
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd, ctype = bytes.NewReader(b), "application/octet-stream"
	case string:
		rd, ctype = strings.NewReader(b), "text/plain"
	default:
		data, err := json.Marshal(b)
		if err != nil {
			c.e.t.Fatal(err)
		}
		rd, ctype = bytes.NewReader(data), "application/json"
	}
	req := httptest.NewRequest(method, path, rd)
	req.RemoteAddr = c.ip + ":40000"
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for _, ck := range c.cookies {
		req.AddCookie(ck)
	}
	if c.csrf != "" && method != http.MethodGet {
		req.Header.Set(csrfHeader, c.csrf)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	c.e.console.Handler().ServeHTTP(rec, req)
	for _, ck := range rec.Result().Cookies() {
		if ck.MaxAge < 0 {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck
		}
	}
	return response{rec, c.e.t, method + " " + path}
}

func (c *client) login(user, password string) response {
	c.e.t.Helper()
	r := c.do(http.MethodPost, "/api/v1/auth/login", map[string]string{"username": user, "password": password})
	if r.Code == http.StatusOK {
		var v sessionView
		r.json(&v)
		c.csrf = v.CSRFToken
	}
	return r
}

func (c *client) mustLogin(user, password string) *client {
	c.e.t.Helper()
	if r := c.login(user, password); r.Code != http.StatusOK {
		c.e.t.Fatalf("login %s: %d %s", user, r.Code, r.Body.String())
	}
	return c
}

func expect(t *testing.T, r response, status int) {
	t.Helper()
	if r.Code != status {
		t.Fatalf("%s: got %d %s, want %d", r.req, r.Code, r.Body.String(), status)
	}
}

// admin returns a logged-in platform admin whose first password is changed.
func (e *env) admin() *client {
	e.t.Helper()
	c := e.browser("192.0.2.1").mustLogin("admin", e.adminPassword)
	r := c.do(http.MethodPost, "/api/v1/auth/password", map[string]string{"currentPassword": e.adminPassword, "newPassword": "admin-password-1"})
	if r.Code != http.StatusOK {
		e.t.Fatalf("changing admin password: %d %s", r.Code, r.Body.String())
	}
	var v sessionView
	r.json(&v)
	c.csrf = v.CSRFToken
	return c
}

// user creates a local user directly in the store with a changed password
// and returns a logged-in client for it.
func (e *env) user(name string, platformAdmin bool) *client {
	e.t.Helper()
	_, err := e.console.users.CreateLocal(context.Background(), identity.NewLocalUser{Name: name, Password: name + "-password",
		PlatformAdmin: platformAdmin})
	if err != nil {
		e.t.Fatal(err)
	}
	return e.browser("198.51.100.7").mustLogin(name, name+"-password")
}

func (e *env) bind(user string, scope, scopeName string, role tenancy.Role) {
	e.t.Helper()
	u, err := e.console.users.GetByName(context.Background(), user)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.console.tenancy.SetBinding(context.Background(), tenancy.Binding{UserID: u.ID, Scope: scope, ScopeName: scopeName, Role: role}); err != nil {
		e.t.Fatal(err)
	}
}

var (
	config1s  = configDuration(time.Second)
	config1m  = configDuration(time.Minute)
	config15m = configDuration(15 * time.Minute)
	config30m = configDuration(30 * time.Minute)
	config2h  = configDuration(2 * time.Hour)
)

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// flushRecorder is an httptest.ResponseRecorder safe to read after the
// handler returns and usable with streaming handlers.
type flushRecorder struct{ *httptest.ResponseRecorder }

func newFlushRecorder() *flushRecorder { return &flushRecorder{httptest.NewRecorder()} }

func (f *flushRecorder) String() string { return f.Body.String() }

// waitSubscribers blocks until the hub has n subscribers (the stream
// handler subscribes asynchronously). It polls without a deadline of its
// own: the test binary's timeout bounds it.
func waitSubscribers(t *testing.T, h *hub, n int) {
	t.Helper()
	for {
		h.mu.Lock()
		got := len(h.subs)
		h.mu.Unlock()
		if got >= n {
			return
		}
		runtime.Gosched()
	}
}
