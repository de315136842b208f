package console

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/outpost-platform/outpost/appliance/console/identity"
	"github.com/outpost-platform/outpost/appliance/console/tenancy"
)

// provider is a small but real OpenID Connect provider: discovery, JWKS,
// an authorization endpoint that approves at once, and a token endpoint
// that checks the client secret and the PKCE verifier and signs ID tokens.
type provider struct {
	t       *testing.T
	srv     *httptest.Server
	key     *rsa.PrivateKey
	signKey *rsa.PrivateKey // normally key; another key simulates a forged token
	now     func() time.Time

	mu     sync.Mutex
	claims map[string]any // claims of the next login
	codes  map[string]pendingCode
}

type pendingCode struct {
	nonce, challenge, redirect string
}

const (
	testClientID     = "outpost-console"
	testClientSecret = "client-secret-1"
	testRedirect     = "https://console.example/api/v1/auth/oidc/callback"
)

func newProvider(t *testing.T, now func() time.Time) *provider {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &provider{t: t, key: key, signKey: key, now: now, codes: map[string]pendingCode{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": p.srv.URL, "authorization_endpoint": p.srv.URL + "/auth", "token_endpoint": p.srv.URL + "/token",
			"jwks_uri": p.srv.URL + "/jwks", "id_token_signing_alg_values_supported": []string{"RS256"},
			"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
		})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &p.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("/auth", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != testClientID || q.Get("code_challenge_method") != "S256" || q.Get("nonce") == "" {
			http.Error(w, "bad authorization request", http.StatusBadRequest)
			return
		}
		code := fmt.Sprintf("code-%d", len(p.codes)+1)
		p.mu.Lock()
		p.codes[code] = pendingCode{nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri")}
		p.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?code="+code+"&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
	})
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		p.mu.Lock()
		pc, found := p.codes[r.PostForm.Get("code")]
		delete(p.codes, r.PostForm.Get("code"))
		claims := p.claims
		p.mu.Unlock()
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		switch {
		case id != testClientID || secret != testClientSecret:
			http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
			return
		case !found || pc.redirect != r.PostForm.Get("redirect_uri") || base64.RawURLEncoding.EncodeToString(sum[:]) != pc.challenge:
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: p.signKey}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
		if err != nil {
			t.Error(err)
			return
		}
		now := p.now()
		all := map[string]any{"iss": p.srv.URL, "aud": testClientID, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "nonce": pc.nonce}
		for k, v := range claims {
			all[k] = v
		}
		raw, err := jwt.Signed(signer).Claims(all).Serialize()
		if err != nil {
			t.Error(err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": raw})
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *provider) nextLogin(claims map[string]any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.claims = claims
}

func newOIDCEnv(t *testing.T) (*env, *provider) {
	clk := &clock{t: time.Now().UTC().Truncate(time.Second)}
	p := newProvider(t, clk.Now)
	e := newEnv(t, func(c *Config, d *Deps) {
		d.Now = clk.Now
		// The secret comes from its file, as on an appliance.
		secretFile := filepath.Join(t.TempDir(), "oidc-client-secret")
		os.WriteFile(secretFile, []byte(testClientSecret+"\n"), 0o600)
		c.OIDC = &identity.OIDCConfig{Issuer: p.srv.URL, ClientID: testClientID, ClientSecretFile: secretFile, RedirectURL: testRedirect,
			GroupsClaim: "groups", DisplayName: "ACME SSO", Mappings: []identity.ClaimMapping{
				{Value: "ops-admins", PlatformAdmin: true},
				{Value: "dev-team", Project: "dev", Role: "operator"},
				{Value: "team-leads", Workspace: "team"},
			}}
	})
	e.clock = clk
	return e, p
}

// sso runs the browser side of a sign-in: console → provider → console.
func (c *client) sso(t *testing.T) response {
	t.Helper()
	r := c.do(http.MethodGet, "/api/v1/auth/oidc/login", nil)
	expect(t, r, http.StatusFound)
	authURL := r.Header().Get("Location")
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("provider authorization answered %d", resp.StatusCode)
	}
	cb, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return c.do(http.MethodGet, cb.Path+"?"+cb.RawQuery, nil)
}

func TestOIDCLoginMapsClaimsToRoles(t *testing.T) {
	e, p := newOIDCEnv(t)
	root := e.admin()
	expect(t, root.do("POST", "/api/v1/workspaces", map[string]any{"name": "team"}), http.StatusCreated)
	expect(t, root.do("POST", "/api/v1/workspaces/team/projects", map[string]any{"name": "dev"}), http.StatusCreated)

	var prov providersView
	r := e.browser("192.0.2.5").do("GET", "/api/v1/auth/providers", nil)
	r.json(&prov)
	if !prov.OIDC || prov.OIDCName != "ACME SSO" {
		t.Fatalf("providers = %+v", prov)
	}

	p.nextLogin(map[string]any{"sub": "u-1001", "preferred_username": "Carol", "email": "carol@acme.example", "name": "Carol Chen",
		"groups": []string{"ops-admins", "dev-team"}})
	carol := e.browser("192.0.2.5")
	r = carol.sso(t)
	expect(t, r, http.StatusFound)
	if r.Header().Get("Location") != "/" {
		t.Fatalf("after sign-in redirected to %q", r.Header().Get("Location"))
	}
	var v sessionView
	r = carol.do("GET", "/api/v1/auth/session", nil)
	expect(t, r, http.StatusOK)
	r.json(&v)
	if v.User.Name != "carol" || v.User.Source != identity.SourceOIDC || !v.User.PlatformAdmin || v.User.MustChangePassword {
		t.Fatalf("SSO user = %+v", v.User)
	}
	if v.Access.Projects["dev"] != tenancy.RoleOperator {
		t.Fatalf("SSO project roles = %v", v.Access.Projects)
	}

	// Claims are the truth at every login: leaving ops-admins ends platform admin.
	p.nextLogin(map[string]any{"sub": "u-1001", "preferred_username": "carol", "groups": []string{"team-leads"}})
	carol = e.browser("192.0.2.5")
	expect(t, carol.sso(t), http.StatusFound)
	carol.do("GET", "/api/v1/auth/session", nil).json(&v)
	if v.User.PlatformAdmin || v.Access.Projects["dev"] != tenancy.RoleAdmin || len(v.Access.WorkspaceAdmin) != 1 {
		t.Fatalf("after group change: admin=%v access=%+v", v.User.PlatformAdmin, v.Access)
	}
	// The same person is one account, found by subject.
	users, _ := e.console.users.List(t.Context())
	n := 0
	for _, u := range users {
		if u.Name == "carol" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d accounts named carol", n)
	}
}

func TestOIDCRefusesForgedOrUnboundResponses(t *testing.T) {
	e, p := newOIDCEnv(t)
	p.nextLogin(map[string]any{"sub": "u-7", "preferred_username": "dave"})

	t.Run("state from another browser", func(t *testing.T) {
		victim := e.browser("192.0.2.8")
		r := victim.do(http.MethodGet, "/api/v1/auth/oidc/login", nil)
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(r.Header().Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		cb, _ := url.Parse(resp.Header.Get("Location"))
		attacker := e.browser("192.0.2.9") // has no state cookie
		r = attacker.do(http.MethodGet, cb.Path+"?"+cb.RawQuery, nil)
		expect(t, r, http.StatusFound)
		if r.Header().Get("Location") != "/login?error=sso_failed" || attacker.cookies[sessionCookie] != nil {
			t.Fatalf("login CSRF accepted: %s, cookies %v", r.Header().Get("Location"), attacker.cookies)
		}
	})
	t.Run("token signed by another key", func(t *testing.T) {
		other, _ := rsa.GenerateKey(rand.Reader, 2048)
		p.signKey = other
		defer func() { p.signKey = p.key }()
		c := e.browser("192.0.2.10")
		r := c.sso(t)
		if r.Header().Get("Location") != "/login?error=sso_failed" || c.cookies[sessionCookie] != nil {
			t.Fatalf("forged token accepted: %s", r.Header().Get("Location"))
		}
	})
	t.Run("local account of the same name", func(t *testing.T) {
		e.user("erin", false)
		p.nextLogin(map[string]any{"sub": "u-8", "preferred_username": "erin"})
		c := e.browser("192.0.2.11")
		r := c.sso(t)
		if r.Header().Get("Location") != "/login?error=sso_name_taken" || c.cookies[sessionCookie] != nil {
			t.Fatalf("SSO took over a local account: %s", r.Header().Get("Location"))
		}
	})
	t.Run("callback replayed", func(t *testing.T) {
		p.nextLogin(map[string]any{"sub": "u-9", "preferred_username": "frank"})
		c := e.browser("192.0.2.12")
		r := c.do(http.MethodGet, "/api/v1/auth/oidc/login", nil)
		resp, _ := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(r.Header().Get("Location"))
		resp.Body.Close()
		cb, _ := url.Parse(resp.Header.Get("Location"))
		state := c.cookies[oidcCookie]
		expect(t, c.do(http.MethodGet, cb.Path+"?"+cb.RawQuery, nil), http.StatusFound)
		if c.cookies[sessionCookie] == nil {
			t.Fatal("first callback did not log in")
		}
		replay := e.browser("192.0.2.12")
		replay.cookies[oidcCookie] = state
		r = replay.do(http.MethodGet, cb.Path+"?"+cb.RawQuery, nil)
		if r.Header().Get("Location") != "/login?error=sso_failed" || replay.cookies[sessionCookie] != nil {
			t.Fatalf("replayed callback accepted: %s", r.Header().Get("Location"))
		}
	})
}

func TestOIDCConfigValidation(t *testing.T) {
	cfg := identity.OIDCConfig{Issuer: "sso.example", ClientID: "", RedirectURL: "x",
		Mappings: []identity.ClaimMapping{{Value: "g", Project: "p", Role: "owner"}, {Value: "", PlatformAdmin: true, Workspace: "w"}}}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("invalid OIDC config accepted")
	}
	for _, want := range []string{"issuer", "client-id", "redirect-url", "mappings[0] role", "mappings[1]: set exactly one", "mappings[1] value"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}
