package console

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/outpost-platform/outpost/appliance/console/audit"
	"github.com/outpost-platform/outpost/appliance/console/identity"
	"github.com/outpost-platform/outpost/appliance/state"
)

func TestFirstStartAdminMustChangeOneTimePassword(t *testing.T) {
	e := newEnv(t)
	file := filepath.Join(e.dataDir, AdminPasswordFile)
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("admin password file mode %v, want 0600", st.Mode().Perm())
	}
	if len(e.adminPassword) < 16 {
		t.Fatalf("one-time password %q is too short", e.adminPassword)
	}

	c := e.browser("192.0.2.1").mustLogin("admin", e.adminPassword)
	r := c.do(http.MethodGet, "/api/v1/auth/session", nil)
	expect(t, r, http.StatusOK)
	var v sessionView
	r.json(&v)
	if !v.User.MustChangePassword || !v.User.PlatformAdmin {
		t.Fatalf("session user = %+v, want platform admin who must change password", v.User)
	}
	r = c.do(http.MethodGet, "/api/v1/users", nil)
	expect(t, r, http.StatusForbidden)
	if r.errorCode() != "password_change_required" {
		t.Fatalf("code %q, want password_change_required", r.errorCode())
	}
	r = c.do(http.MethodPost, "/api/v1/auth/password", map[string]string{"currentPassword": e.adminPassword, "newPassword": "short"})
	expect(t, r, http.StatusBadRequest)
	if r.fields()["newPassword"] == "" {
		t.Fatalf("no field reason for a short password: %s", r.Body.String())
	}
	r = c.do(http.MethodPost, "/api/v1/auth/password", map[string]string{"currentPassword": "wrong-password", "newPassword": "a-good-new-password"})
	expect(t, r, http.StatusBadRequest)
	if r.fields()["currentPassword"] == "" {
		t.Fatalf("no field reason for a wrong current password: %s", r.Body.String())
	}
	r = c.do(http.MethodPost, "/api/v1/auth/password", map[string]string{"currentPassword": e.adminPassword, "newPassword": "a-good-new-password"})
	expect(t, r, http.StatusOK)
	r.json(&v)
	c.csrf = v.CSRFToken
	expect(t, c.do(http.MethodGet, "/api/v1/users", nil), http.StatusOK)
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Fatalf("one-time password file still there after the change: %v", err)
	}
	expect(t, e.browser("192.0.2.2").login("admin", e.adminPassword), http.StatusUnauthorized)
	e.browser("192.0.2.2").mustLogin("admin", "a-good-new-password")
}

func TestSecondStartDoesNotCreateAnotherAdmin(t *testing.T) {
	e := newEnv(t)
	e.admin()
	os.Remove(filepath.Join(e.dataDir, AdminPasswordFile))
	if _, err := New(DefaultConfig(e.dataDir), Deps{DB: e.db, PasswordHash: cheapHash}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(e.dataDir, AdminPasswordFile)); !os.IsNotExist(err) {
		t.Fatal("a second start wrote a new one-time password")
	}
}

func TestResetAdminPasswordEndsSessionsAndRequiresChange(t *testing.T) {
	e := newEnv(t)
	c := e.admin()
	pw, err := ResetAdminPassword(context.Background(), e.db, e.dataDir, "")
	if err != nil {
		t.Fatal(err)
	}
	expect(t, c.do(http.MethodGet, "/api/v1/users", nil), http.StatusUnauthorized)
	data, _ := os.ReadFile(filepath.Join(e.dataDir, AdminPasswordFile))
	if strings.TrimSpace(string(data)) != pw {
		t.Fatal("reset password not written to the password file")
	}
	c = e.browser("192.0.2.1").mustLogin("admin", pw)
	expect(t, c.do(http.MethodGet, "/api/v1/users", nil), http.StatusForbidden)
}

func TestResetAdminPasswordOnFreshDatabase(t *testing.T) {
	dir := t.TempDir()
	db, err := state.Open(filepath.Join(dir, "outpost.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := ResetAdminPassword(context.Background(), db, dir, "explicit-password-1"); err != nil {
		t.Fatal(err)
	}
	users, _ := identity.NewStore(db.DB, identity.Options{Hash: cheapHash})
	u, err := users.Authenticate(context.Background(), "admin", "explicit-password-1")
	if err != nil || !u.PlatformAdmin || !u.MustChangePassword {
		t.Fatalf("admin after reset: %+v %v", u, err)
	}
}

func TestSessionCookieAttributes(t *testing.T) {
	e := newEnv(t)
	r := e.browser("192.0.2.1").login("admin", e.adminPassword)
	expect(t, r, http.StatusOK)
	found := map[string]bool{}
	for _, ck := range r.Result().Cookies() {
		found[ck.Name] = true
		if !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Domain != "" {
			t.Errorf("cookie %s: HttpOnly=%v Secure=%v SameSite=%v Path=%q Domain=%q", ck.Name, ck.HttpOnly, ck.Secure, ck.SameSite, ck.Path, ck.Domain)
		}
		if !strings.HasPrefix(ck.Name, "__Host-") {
			t.Errorf("cookie %s lacks the __Host- prefix", ck.Name)
		}
	}
	if !found[sessionCookie] || !found[deviceCookie] {
		t.Fatalf("cookies set at login: %v", found)
	}
	if strings.Contains(r.Body.String(), r.Result().Cookies()[0].Value) {
		t.Fatal("the session id appears in the response body")
	}
}

func TestLoginIssuesNewSessionIDAndLogoutEndsItOnServer(t *testing.T) {
	e := newEnv(t)
	e.admin()
	c := e.browser("192.0.2.9")
	c.mustLogin("admin", "admin-password-1")
	first := c.cookies[sessionCookie].Value
	// Logging in again from the same browser (e.g. an attacker-planted
	// cookie) must yield a new id and kill the old one.
	c.mustLogin("admin", "admin-password-1")
	second := c.cookies[sessionCookie].Value
	if first == second {
		t.Fatal("login reused the session id")
	}
	planted := e.browser("192.0.2.9")
	planted.cookies[sessionCookie] = &http.Cookie{Name: sessionCookie, Value: first}
	expect(t, planted.do(http.MethodGet, "/api/v1/auth/session", nil), http.StatusUnauthorized)

	expect(t, c.do(http.MethodPost, "/api/v1/auth/logout", nil), http.StatusNoContent)
	replay := e.browser("192.0.2.9")
	replay.cookies[sessionCookie] = &http.Cookie{Name: sessionCookie, Value: second}
	expect(t, replay.do(http.MethodGet, "/api/v1/auth/session", nil), http.StatusUnauthorized)
}

func TestSessionIdleAndAbsoluteTimeouts(t *testing.T) {
	e := newEnv(t, func(c *Config, _ *Deps) {
		c.SessionIdleTimeout = config30m
		c.SessionAbsoluteTimeout = config2h
	})
	c := e.admin()
	e.clock.Advance(29 * time.Minute)
	expect(t, c.do(http.MethodGet, "/api/v1/auth/session", nil), http.StatusOK)
	e.clock.Advance(29 * time.Minute) // active within the idle limit: still valid
	expect(t, c.do(http.MethodGet, "/api/v1/auth/session", nil), http.StatusOK)
	e.clock.Advance(31 * time.Minute)
	expect(t, c.do(http.MethodGet, "/api/v1/auth/session", nil), http.StatusUnauthorized)

	c.mustLogin("admin", "admin-password-1")
	for i := 0; i < 4; i++ { // busy, never idle, but past the absolute limit
		e.clock.Advance(25 * time.Minute)
		expect(t, c.do(http.MethodGet, "/api/v1/auth/session", nil), http.StatusOK)
	}
	e.clock.Advance(25 * time.Minute)
	expect(t, c.do(http.MethodGet, "/api/v1/auth/session", nil), http.StatusUnauthorized)
}

func TestCSRFIsRequiredOnEveryBrowserWrite(t *testing.T) {
	e := newEnv(t)
	c := e.admin()
	token := c.csrf
	for _, tc := range []struct {
		name    string
		csrf    string
		headers map[string]string
		want    int
	}{
		{"missing token", "", nil, http.StatusForbidden},
		{"wrong token", "not-the-token", nil, http.StatusForbidden},
		{"cross-site fetch", token, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"foreign origin", token, map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"valid token", token, map[string]string{"Origin": "http://example.com", "Sec-Fetch-Site": "same-origin"}, http.StatusCreated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.csrf, c.headers = tc.csrf, tc.headers
			if c.headers == nil {
				c.headers = map[string]string{}
			}
			r := c.do(http.MethodPost, "/api/v1/workspaces", map[string]string{"name": "ws-" + strings.ReplaceAll(tc.name, " ", "-")})
			expect(t, r, tc.want)
		})
	}
	// Another session's token is not this session's token.
	other := e.user("other", true)
	c.csrf, c.headers = other.csrf, map[string]string{}
	expect(t, c.do(http.MethodPost, "/api/v1/workspaces", map[string]string{"name": "ws-x"}), http.StatusForbidden)

	entries, err := e.console.audit.Search(context.Background(), audit.Query{Action: "workspace.create", Result: audit.ResultDenied})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) < 5 {
		t.Fatalf("denied CSRF attempts audited %d times, want 5", len(entries))
	}
}

func TestLoginNeedsJSONAndSameOrigin(t *testing.T) {
	e := newEnv(t)
	c := e.browser("192.0.2.1")
	r := c.do(http.MethodPost, "/api/v1/auth/login", "username=admin&password=x")
	expect(t, r, http.StatusBadRequest)
	c.headers["Origin"] = "https://evil.example"
	expect(t, c.login("admin", e.adminPassword), http.StatusForbidden)
}

func TestUnknownUserAndWrongPasswordLookTheSame(t *testing.T) {
	e := newEnv(t)
	a := e.browser("192.0.2.1").login("admin", "wrong-password")
	b := e.browser("192.0.2.2").login("nobody", "wrong-password")
	if a.Code != http.StatusUnauthorized || a.Code != b.Code || a.Body.String() != b.Body.String() {
		t.Fatalf("wrong password: %d %s; unknown user: %d %s", a.Code, a.Body.String(), b.Code, b.Body.String())
	}
}

func TestLoginThrottlingNeverLocksOutAKnownDevice(t *testing.T) {
	e := newEnv(t, func(c *Config, _ *Deps) {
		c.LoginThrottle = ThrottleConfig{FreeFailures: 3, BaseDelay: config1s, MaxDelay: config1m, IPFailures: 10, AccountFailures: 6, Window: config15m}
	})
	admin := e.admin()
	e.user("alice", false)
	// Alice's laptop has logged in before: it holds a device cookie.
	laptop := e.browser("203.0.113.5").mustLogin("alice", "alice-password")
	expect(t, laptop.do(http.MethodPost, "/api/v1/auth/logout", nil), http.StatusNoContent)

	// One attacker address: backoff after the free failures.
	attacker := e.browser("192.0.2.66")
	for i := 0; i < 3; i++ {
		expect(t, attacker.login("alice", "guess"), http.StatusUnauthorized)
	}
	expect(t, attacker.login("alice", "guess"), http.StatusUnauthorized)
	r := attacker.login("alice", "alice-password")
	expect(t, r, http.StatusTooManyRequests)
	if r.Header().Get("Retry-After") == "" || r.errorCode() != "throttled" {
		t.Fatalf("throttled answer lacks Retry-After or code: %v %s", r.Header(), r.Body.String())
	}

	// Many addresses guessing alice's password (4 failures so far, limit 6):
	// unknown devices are refused...
	for i := 0; i < 2; i++ {
		expect(t, e.browser("198.18.0."+string(rune('1'+i))).login("alice", "guess"), http.StatusUnauthorized)
	}
	r = e.browser("198.19.0.1").login("alice", "alice-password")
	expect(t, r, http.StatusTooManyRequests)
	if !strings.Contains(r.Body.String(), "browser you have used before") {
		t.Fatalf("account-limit message does not tell the user what to do: %s", r.Body.String())
	}
	// ...but alice's own laptop still gets in, even behind the attacker's NAT.
	laptop.ip = "192.0.2.66"
	laptop.mustLogin("alice", "alice-password")
	// Other accounts are unaffected.
	expect(t, e.browser("198.19.0.2").login("admin", "admin-password-1"), http.StatusOK)

	// Waiting out the window lifts the limit.
	e.clock.Advance(16 * time.Minute)
	e.browser("198.19.0.1").mustLogin("alice", "alice-password")

	entries, _ := e.console.audit.Search(context.Background(), audit.Query{Action: "auth.login", Actor: "alice", Result: audit.ResultDenied})
	if len(entries) < 8 {
		t.Fatalf("failed and throttled logins audited %d times, want at least 8", len(entries))
	}
	_ = admin
}

func TestPerIPLimitAcrossAccounts(t *testing.T) {
	e := newEnv(t, func(c *Config, _ *Deps) {
		c.LoginThrottle = ThrottleConfig{FreeFailures: 100, IPFailures: 5, AccountFailures: 100, Window: config15m}
	})
	sprayer := e.browser("192.0.2.77")
	for _, u := range []string{"a1", "a2", "a3", "a4", "a5"} {
		expect(t, sprayer.login(u, "guess"), http.StatusUnauthorized)
	}
	expect(t, sprayer.login("admin", e.adminPassword), http.StatusTooManyRequests)
	expect(t, e.browser("192.0.2.78").login("admin", e.adminPassword), http.StatusOK)
}

func TestDisabledUserLosesSessionAndCannotLogIn(t *testing.T) {
	e := newEnv(t)
	admin := e.admin()
	bob := e.user("bob", false)
	u, _ := e.console.users.GetByName(context.Background(), "bob")
	expect(t, admin.do(http.MethodPatch, "/api/v1/users/"+itoa64(u.ID), map[string]any{"disabled": true}), http.StatusOK)
	expect(t, bob.do(http.MethodGet, "/api/v1/auth/session", nil), http.StatusUnauthorized)
	expect(t, e.browser("198.51.100.9").login("bob", "bob-password"), http.StatusUnauthorized)
}
