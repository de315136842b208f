package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/outpost-platform/outpost/appliance/console/problem"
)

// OIDCConfig configures single sign-on with the company's OpenID Connect
// provider. The client secret is not serialized: the caller reads it from a
// file under the data directory.
type OIDCConfig struct {
	// Issuer is the provider's issuer URL (discovery at Issuer/.well-known/openid-configuration).
	Issuer string `json:"issuer"`
	// ClientID is the console's client id at the provider.
	ClientID string `json:"client-id"`
	// ClientSecret is the console's client secret; never serialized. When
	// empty it is read from ClientSecretFile.
	ClientSecret string `json:"-"`
	// ClientSecretFile holds the client secret; default
	// <data-dir>/console/oidc-client-secret (mode 0600).
	ClientSecretFile string `json:"client-secret-file,omitempty"`
	// RedirectURL is the console's callback, https://<host>:<port>/api/v1/auth/oidc/callback.
	RedirectURL string `json:"redirect-url"`
	// Scopes requested besides "openid"; default profile and email.
	Scopes []string `json:"scopes"`
	// UsernameClaim names the claim that becomes the console user name;
	// default "preferred_username".
	UsernameClaim string `json:"username-claim"`
	// GroupsClaim names the claim holding the user's groups; default "groups".
	GroupsClaim string `json:"groups-claim"`
	// DisplayName labels the sign-in button, e.g. "ACME account"; default "single sign-on".
	DisplayName string `json:"display-name"`
	// Mappings turn claim values into console roles at every login. An OIDC
	// user's roles are exactly those the mappings give; there is no default.
	Mappings []ClaimMapping `json:"mappings"`
}

// ClaimMapping grants a role when a claim (a string or a list of strings)
// contains Value. Exactly one of PlatformAdmin, Workspace or Project applies.
type ClaimMapping struct {
	// Claim to inspect; default the groups claim.
	Claim string `json:"claim"`
	// Value the claim must equal or contain.
	Value string `json:"value"`
	// PlatformAdmin grants the platform admin role.
	PlatformAdmin bool `json:"platform-admin"`
	// Workspace grants workspace admin of this workspace.
	Workspace string `json:"workspace"`
	// Project grants Role in this project.
	Project string `json:"project"`
	// Role is "admin", "operator" or "viewer" for a project mapping.
	Role string `json:"role"`
}

// Grant is one role derived from claims.
type Grant struct {
	Scope     string // "workspace" or "project"
	ScopeName string
	Role      string
}

// Claims is what the console uses from a verified ID token.
type Claims struct {
	Issuer      string
	Subject     string
	UserName    string
	Email       string
	DisplayName string
	Raw         map[string]any
}

// Map applies the configured mappings to claims.
func (c *OIDCConfig) Map(cl Claims) (platformAdmin bool, grants []Grant) {
	for _, m := range c.Mappings {
		claim := m.Claim
		if claim == "" {
			claim = c.groupsClaim()
		}
		if !claimContains(cl.Raw[claim], m.Value) {
			continue
		}
		switch {
		case m.PlatformAdmin:
			platformAdmin = true
		case m.Workspace != "":
			grants = append(grants, Grant{Scope: "workspace", ScopeName: m.Workspace, Role: "admin"})
		case m.Project != "":
			grants = append(grants, Grant{Scope: "project", ScopeName: m.Project, Role: m.Role})
		}
	}
	return platformAdmin, grants
}

func claimContains(v any, want string) bool {
	switch x := v.(type) {
	case string:
		return x == want
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok && s == want {
				return true
			}
		}
	}
	return false
}

func (c *OIDCConfig) groupsClaim() string {
	if c.GroupsClaim == "" {
		return "groups"
	}
	return c.GroupsClaim
}

// Validate checks the configuration; each error names the key.
func (c *OIDCConfig) Validate() error {
	var errs []error
	if !strings.HasPrefix(c.Issuer, "https://") && !strings.HasPrefix(c.Issuer, "http://") {
		errs = append(errs, fmt.Errorf("oidc issuer: must be a URL such as https://sso.example.com/realms/acme, got %q", c.Issuer))
	}
	if c.ClientID == "" {
		errs = append(errs, errors.New("oidc client-id: must be set"))
	}
	if !strings.HasPrefix(c.RedirectURL, "https://") && !strings.HasPrefix(c.RedirectURL, "http://") {
		errs = append(errs, fmt.Errorf("oidc redirect-url: must be the console's callback URL, got %q", c.RedirectURL))
	}
	for i, m := range c.Mappings {
		n := 0
		if m.PlatformAdmin {
			n++
		}
		if m.Workspace != "" {
			n++
		}
		if m.Project != "" {
			n++
			switch m.Role {
			case "admin", "operator", "viewer":
			default:
				errs = append(errs, fmt.Errorf("oidc mappings[%d] role: must be admin, operator or viewer, got %q", i, m.Role))
			}
		}
		if n != 1 {
			errs = append(errs, fmt.Errorf("oidc mappings[%d]: set exactly one of platform-admin, workspace or project", i))
		}
		if m.Value == "" {
			errs = append(errs, fmt.Errorf("oidc mappings[%d] value: must be set", i))
		}
	}
	return errors.Join(errs...)
}

// OIDC runs the authorization-code flow with PKCE and nonce.
type OIDC struct {
	cfg    OIDCConfig
	client *http.Client
	now    func() time.Time

	mu       sync.Mutex
	provider *oidc.Provider
	flows    map[string]pendingFlow
}

type pendingFlow struct {
	nonce, verifier string
	expires         time.Time
}

const (
	flowLifetime = 10 * time.Minute
	maxFlows     = 10000
)

// NewOIDC returns an OIDC client. Discovery happens at the first login so a
// provider that is down at boot does not stop the console. client may be nil
// (http.DefaultClient); pass one trusting the company CA if needed.
func NewOIDC(cfg OIDCConfig, client *http.Client, now func() time.Time) (*OIDC, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if client == nil {
		client = http.DefaultClient
	}
	if now == nil {
		now = time.Now
	}
	return &OIDC{cfg: cfg, client: client, now: now, flows: map[string]pendingFlow{}}, nil
}

// Config returns the configuration.
func (o *OIDC) Config() *OIDCConfig { return &o.cfg }

func (o *OIDC) providerFor(ctx context.Context) (*oidc.Provider, error) {
	o.mu.Lock()
	p := o.provider
	o.mu.Unlock()
	if p != nil {
		return p, nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, o.client), o.cfg.Issuer)
	if err != nil {
		return nil, &problem.Error{Kind: problem.KindUnavailable, Code: "sso_unavailable",
			Message: "The single sign-on provider cannot be reached; try again later or log in with a local account."}
	}
	o.mu.Lock()
	o.provider = p
	o.mu.Unlock()
	return p, nil
}

func (o *OIDC) oauth2Config(p *oidc.Provider) *oauth2.Config {
	scopes := []string{oidc.ScopeOpenID}
	if len(o.cfg.Scopes) == 0 {
		scopes = append(scopes, "profile", "email")
	} else {
		scopes = append(scopes, o.cfg.Scopes...)
	}
	return &oauth2.Config{ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: o.cfg.RedirectURL, Scopes: scopes}
}

// Begin starts a login and returns the provider URL to redirect to and the
// state, which the caller must also bind to the browser (a cookie) and
// compare at the callback.
func (o *OIDC) Begin(ctx context.Context) (authURL, state string, err error) {
	p, err := o.providerFor(ctx)
	if err != nil {
		return "", "", err
	}
	state, err = randomToken(24)
	if err != nil {
		return "", "", err
	}
	nonce, err := randomToken(24)
	if err != nil {
		return "", "", err
	}
	verifier := oauth2.GenerateVerifier()
	now := o.now()
	o.mu.Lock()
	for k, f := range o.flows {
		if now.After(f.expires) {
			delete(o.flows, k)
		}
	}
	if len(o.flows) >= maxFlows {
		o.mu.Unlock()
		return "", "", &problem.Error{Kind: problem.KindTooManyRequests, Code: "too_many_logins",
			Message: "Too many sign-ins are in progress; try again in a few minutes.", RetryAfterSeconds: 60}
	}
	o.flows[state] = pendingFlow{nonce: nonce, verifier: verifier, expires: now.Add(flowLifetime)}
	o.mu.Unlock()
	return o.oauth2Config(p).AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), state, nil
}

var errSSOFailed = &problem.Error{Kind: problem.KindUnauthenticated, Code: "sso_failed",
	Message: "Single sign-on did not complete; start the sign-in again."}

// Finish exchanges code for tokens, verifies the ID token and returns its claims.
func (o *OIDC) Finish(ctx context.Context, state, code string) (Claims, error) {
	o.mu.Lock()
	flow, ok := o.flows[state]
	delete(o.flows, state)
	o.mu.Unlock()
	if !ok || o.now().After(flow.expires) || code == "" {
		return Claims{}, errSSOFailed
	}
	p, err := o.providerFor(ctx)
	if err != nil {
		return Claims{}, err
	}
	ctx = oidc.ClientContext(ctx, o.client)
	tok, err := o.oauth2Config(p).Exchange(ctx, code, oauth2.VerifierOption(flow.verifier))
	if err != nil {
		return Claims{}, fmt.Errorf("exchanging authorization code: %w", errSSOFailed)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		return Claims{}, fmt.Errorf("provider returned no ID token: %w", errSSOFailed)
	}
	idt, err := p.VerifierContext(ctx, &oidc.Config{ClientID: o.cfg.ClientID, Now: o.now}).Verify(ctx, raw)
	if err != nil {
		return Claims{}, fmt.Errorf("verifying ID token: %w", errSSOFailed)
	}
	if idt.Nonce != flow.nonce {
		return Claims{}, fmt.Errorf("ID token nonce mismatch: %w", errSSOFailed)
	}
	all := map[string]any{}
	if err := idt.Claims(&all); err != nil {
		return Claims{}, fmt.Errorf("decoding ID token claims: %w", errSSOFailed)
	}
	cl := Claims{Issuer: idt.Issuer, Subject: idt.Subject, Raw: all}
	userClaim := o.cfg.UsernameClaim
	if userClaim == "" {
		userClaim = "preferred_username"
	}
	cl.UserName, _ = all[userClaim].(string)
	cl.Email, _ = all["email"].(string)
	cl.DisplayName, _ = all["name"].(string)
	return cl, nil
}

// UpsertOIDC finds or creates the account of an SSO user and sets its
// platform-admin flag from the mappings. The user name comes from the
// configured claim, lower-cased; an existing local account of that name is
// never taken over.
func (s *Store) UpsertOIDC(ctx context.Context, cl Claims, platformAdmin bool) (User, error) {
	name := strings.ToLower(strings.TrimSpace(cl.UserName))
	if CheckUserName(name) != "" {
		return User{}, &problem.Error{Kind: problem.KindForbidden, Code: "sso_bad_username",
			Message: fmt.Sprintf("The single sign-on user name %q cannot be used for a console account; ask the administrator to map another claim.", cl.UserName)}
	}
	subject := cl.Issuer + "|" + cl.Subject
	now := s.now().UnixMilli()
	var id int64
	var disabled bool
	err := s.db.QueryRowContext(ctx, `SELECT id, disabled FROM console_users WHERE oidc_subject=?`, subject).Scan(&id, &disabled)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		res, err := s.db.ExecContext(ctx, `INSERT INTO console_users(name, display_name, email, source, oidc_subject,
			platform_admin, created_at, updated_at, last_login_at) VALUES(?,?,?,?,?,?,?,?,?)`,
			name, cl.DisplayName, cl.Email, SourceOIDC, subject, platformAdmin, now, now, now)
		if isUniqueViolation(err) {
			return User{}, &problem.Error{Kind: problem.KindConflict, Code: "sso_name_taken",
				Message: fmt.Sprintf("A local account named %q already exists; ask the administrator to rename or remove it.", name)}
		}
		if err != nil {
			return User{}, fmt.Errorf("creating SSO user %q: %w", name, err)
		}
		id, _ = res.LastInsertId()
	case err != nil:
		return User{}, fmt.Errorf("looking up SSO user: %w", err)
	default:
		if disabled {
			return User{}, problem.Forbidden("This account is disabled; ask the administrator to enable it.")
		}
		if _, err := s.db.ExecContext(ctx, `UPDATE console_users SET display_name=?, email=?, platform_admin=?, updated_at=?, last_login_at=? WHERE id=?`,
			cl.DisplayName, cl.Email, platformAdmin, now, now, id); err != nil {
			return User{}, fmt.Errorf("updating SSO user %q: %w", name, err)
		}
	}
	return s.Get(ctx, id)
}
