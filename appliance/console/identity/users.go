package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/outpost-platform/outpost/appliance/console/problem"
)

// Sources of an account.
const (
	SourceLocal = "local"
	SourceOIDC  = "oidc"
)

// User is a console account.
type User struct {
	ID                 int64     `json:"id"`
	Name               string    `json:"name"`
	DisplayName        string    `json:"displayName"`
	Email              string    `json:"email"`
	Source             string    `json:"source"`
	PlatformAdmin      bool      `json:"platformAdmin"`
	MustChangePassword bool      `json:"mustChangePassword"`
	Disabled           bool      `json:"disabled"`
	CreatedAt          time.Time `json:"createdAt"`
	LastLoginAt        time.Time `json:"lastLoginAt,omitzero"`
}

// ErrInvalidCredentials is returned by Authenticate for an unknown user, a
// wrong password or a disabled account alike, so callers cannot tell which.
var ErrInvalidCredentials = &problem.Error{Kind: problem.KindUnauthenticated, Code: "invalid_credentials",
	Message: "The user name or password is not correct."}

// Options tune a Store.
type Options struct {
	// Hash is the argon2id cost for new hashes; default DefaultHashParams().
	Hash HashParams
	// ConcurrentHashes bounds simultaneous argon2 computations so a burst of
	// logins cannot exhaust memory; default 2.
	ConcurrentHashes int
	// Now returns the current time; default time.Now.
	Now func() time.Time
}

// Store reads and writes accounts in the console database.
type Store struct {
	db        *sql.DB
	hash      HashParams
	hashSlots chan struct{}
	now       func() time.Time
	// dummyHash is verified against when the user does not exist so that
	// the response time does not reveal which user names exist.
	dummyHash string
}

// NewStore returns a Store over db, whose schema appliance/console/store created.
func NewStore(db *sql.DB, opts Options) (*Store, error) {
	if opts.Hash == (HashParams{}) {
		opts.Hash = DefaultHashParams()
	}
	if opts.ConcurrentHashes <= 0 {
		opts.ConcurrentHashes = 2
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Store{db: db, hash: opts.Hash, hashSlots: make(chan struct{}, opts.ConcurrentHashes), now: opts.Now}
	dummy, err := hashPassword("outpost-dummy-password", opts.Hash)
	if err != nil {
		return nil, err
	}
	s.dummyHash = dummy
	return s, nil
}

var userNamePattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?$`)

// CheckUserName returns why name is not an acceptable user name, or "".
// Names are limited so that "outpost:<name>" is a clean Kubernetes user.
func CheckUserName(name string) string {
	if !userNamePattern.MatchString(name) {
		return "must be 1-64 lower-case letters, digits, '.', '_' or '-', starting and ending with a letter or digit"
	}
	return ""
}

func (s *Store) hashLimited(ctx context.Context, fn func()) error {
	select {
	case s.hashSlots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.hashSlots }()
	fn()
	return nil
}

func (s *Store) hashNew(ctx context.Context, password string) (string, error) {
	var h string
	var herr error
	if err := s.hashLimited(ctx, func() { h, herr = hashPassword(password, s.hash) }); err != nil {
		return "", err
	}
	return h, herr
}

// NewLocalUser describes a local account to create.
type NewLocalUser struct {
	Name               string `json:"name"`
	DisplayName        string `json:"displayName"`
	Email              string `json:"email"`
	Password           string `json:"password"`
	PlatformAdmin      bool   `json:"platformAdmin"`
	MustChangePassword bool   `json:"mustChangePassword"`
}

// CreateLocal creates a local account.
func (s *Store) CreateLocal(ctx context.Context, nu NewLocalUser) (User, error) {
	nu.Name = strings.ToLower(strings.TrimSpace(nu.Name))
	f := problem.Fields{}
	if r := CheckUserName(nu.Name); r != "" {
		f.Add("name", r)
	}
	if r := CheckPasswordPolicy(nu.Password, nu.Name); r != "" {
		f.Add("password", r)
	}
	if len(nu.DisplayName) > 128 {
		f.Add("displayName", "must be at most 128 characters long")
	}
	if nu.Email != "" && (len(nu.Email) > 254 || !strings.Contains(nu.Email, "@")) {
		f.Add("email", "must be an e-mail address such as ops@example.com")
	}
	if err := f.Err(); err != nil {
		return User{}, err
	}
	h, err := s.hashNew(ctx, nu.Password)
	if err != nil {
		return User{}, fmt.Errorf("hashing password: %w", err)
	}
	now := s.now().UnixMilli()
	res, err := s.db.ExecContext(ctx, `INSERT INTO console_users(name, display_name, email, source, password_hash,
		must_change_password, platform_admin, created_at, updated_at) VALUES(?,?,?,?,?,?,?,?,?)`,
		nu.Name, nu.DisplayName, nu.Email, SourceLocal, h, nu.MustChangePassword, nu.PlatformAdmin, now, now)
	if isUniqueViolation(err) {
		return User{}, &problem.Error{Kind: problem.KindConflict, Code: "conflict", Message: "A user with this name already exists.",
			Fields: map[string]string{"name": "is already taken"}}
	}
	if err != nil {
		return User{}, fmt.Errorf("creating user %q: %w", nu.Name, err)
	}
	id, _ := res.LastInsertId()
	return s.Get(ctx, id)
}

const userColumns = `id, name, display_name, email, source, platform_admin, must_change_password, disabled, created_at, last_login_at`

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	var created, lastLogin int64
	err := row.Scan(&u.ID, &u.Name, &u.DisplayName, &u.Email, &u.Source, &u.PlatformAdmin, &u.MustChangePassword,
		&u.Disabled, &created, &lastLogin)
	u.CreatedAt = time.UnixMilli(created).UTC()
	if lastLogin > 0 {
		u.LastLoginAt = time.UnixMilli(lastLogin).UTC()
	}
	return u, err
}

// Get returns the user with id.
func (s *Store) Get(ctx context.Context, id int64) (User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM console_users WHERE id=?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, problem.NotFound("user")
	}
	if err != nil {
		return User{}, fmt.Errorf("reading user %d: %w", id, err)
	}
	return u, nil
}

// GetByName returns the user called name (case-insensitive).
func (s *Store) GetByName(ctx context.Context, name string) (User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM console_users WHERE name=?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, problem.NotFound("user")
	}
	if err != nil {
		return User{}, fmt.Errorf("reading user %q: %w", name, err)
	}
	return u, nil
}

// List returns all users ordered by name.
func (s *Store) List(ctx context.Context) ([]User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+userColumns+` FROM console_users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("listing users: %w", err)
	}
	defer rows.Close()
	users := []User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("listing users: %w", err)
		}
		users = append(users, u)
	}
	return users, rows.Err()
}

// Count returns the number of accounts.
func (s *Store) Count(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM console_users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting users: %w", err)
	}
	return n, nil
}

// UserPatch changes some attributes of an account; nil fields stay.
type UserPatch struct {
	DisplayName   *string `json:"displayName"`
	Email         *string `json:"email"`
	PlatformAdmin *bool   `json:"platformAdmin"`
	Disabled      *bool   `json:"disabled"`
}

// Update applies patch to the user with id.
func (s *Store) Update(ctx context.Context, id int64, p UserPatch) (User, error) {
	u, err := s.Get(ctx, id)
	if err != nil {
		return User{}, err
	}
	f := problem.Fields{}
	if p.DisplayName != nil {
		if len(*p.DisplayName) > 128 {
			f.Add("displayName", "must be at most 128 characters long")
		}
		u.DisplayName = *p.DisplayName
	}
	if p.Email != nil {
		if *p.Email != "" && (len(*p.Email) > 254 || !strings.Contains(*p.Email, "@")) {
			f.Add("email", "must be an e-mail address such as ops@example.com")
		}
		u.Email = *p.Email
	}
	if err := f.Err(); err != nil {
		return User{}, err
	}
	if p.PlatformAdmin != nil {
		u.PlatformAdmin = *p.PlatformAdmin
	}
	if p.Disabled != nil {
		u.Disabled = *p.Disabled
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE console_users SET display_name=?, email=?, platform_admin=?, disabled=?, updated_at=? WHERE id=?`,
		u.DisplayName, u.Email, u.PlatformAdmin, u.Disabled, s.now().UnixMilli(), id); err != nil {
		return User{}, fmt.Errorf("updating user %q: %w", u.Name, err)
	}
	if u.Disabled {
		// A disabled account must lose its sessions and tokens at once.
		if _, err := s.db.ExecContext(ctx, `DELETE FROM console_sessions WHERE user_id=?`, id); err != nil {
			return User{}, fmt.Errorf("ending sessions of user %q: %w", u.Name, err)
		}
	}
	return u, nil
}

// Delete removes the account and, by cascade, its sessions, tokens and role bindings.
func (s *Store) Delete(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM console_users WHERE id=?`, id)
	if err != nil {
		return fmt.Errorf("deleting user %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return problem.NotFound("user")
	}
	return nil
}

// CountActivePlatformAdmins counts enabled platform admins, so that the last
// one cannot be removed or demoted.
func (s *Store) CountActivePlatformAdmins(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM console_users WHERE platform_admin=1 AND disabled=0`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("counting platform admins: %w", err)
	}
	return n, nil
}

// Authenticate checks a local user's password. It returns ErrInvalidCredentials
// for every kind of failure and spends the same hashing work either way.
func (s *Store) Authenticate(ctx context.Context, name, password string) (User, error) {
	if len(password) > 4*MaxPasswordLength {
		return User{}, ErrInvalidCredentials
	}
	var id int64
	var hash string
	var disabled bool
	err := s.db.QueryRowContext(ctx, `SELECT id, password_hash, disabled FROM console_users WHERE name=? AND source=?`,
		strings.TrimSpace(name), SourceLocal).Scan(&id, &hash, &disabled)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("looking up user: %w", err)
	}
	known := err == nil && hash != ""
	if !known {
		hash = s.dummyHash
	}
	var ok bool
	var verr error
	if err := s.hashLimited(ctx, func() { ok, verr = verifyPassword(password, hash) }); err != nil {
		return User{}, err
	}
	if verr != nil {
		return User{}, fmt.Errorf("checking password of user %d: %w", id, verr)
	}
	if !known || !ok || disabled {
		return User{}, ErrInvalidCredentials
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE console_users SET last_login_at=? WHERE id=?`, s.now().UnixMilli(), id); err != nil {
		return User{}, fmt.Errorf("recording login: %w", err)
	}
	return s.Get(ctx, id)
}

// SetPassword replaces a local user's password. mustChange makes the user
// set another one at next login (used for admin resets and first start).
func (s *Store) SetPassword(ctx context.Context, id int64, password string, mustChange bool) error {
	u, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if u.Source != SourceLocal {
		return problem.Conflict("This account signs in through single sign-on and has no local password.")
	}
	if r := CheckPasswordPolicy(password, u.Name); r != "" {
		return problem.Field("password", r)
	}
	h, err := s.hashNew(ctx, password)
	if err != nil {
		return fmt.Errorf("hashing password: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE console_users SET password_hash=?, must_change_password=?, updated_at=? WHERE id=?`,
		h, mustChange, s.now().UnixMilli(), id); err != nil {
		return fmt.Errorf("setting password of user %q: %w", u.Name, err)
	}
	return nil
}

// ChangePassword is the user's own change: the current password must match
// and the new one must differ from it.
func (s *Store) ChangePassword(ctx context.Context, id int64, current, next string) error {
	u, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if _, err := s.Authenticate(ctx, u.Name, current); err != nil {
		if errors.Is(err, ErrInvalidCredentials) {
			return problem.Field("currentPassword", "is not correct")
		}
		return err
	}
	if current == next {
		return problem.Field("newPassword", "must differ from the current password")
	}
	if r := CheckPasswordPolicy(next, u.Name); r != "" {
		return problem.Field("newPassword", r)
	}
	return s.SetPassword(ctx, id, next, false)
}

// EnsureAdmin creates the account "admin" as platform admin with password if
// no account exists yet. It reports whether it created one.
func (s *Store) EnsureAdmin(ctx context.Context, password string) (bool, error) {
	n, err := s.Count(ctx)
	if err != nil || n > 0 {
		return false, err
	}
	_, err = s.CreateLocal(ctx, NewLocalUser{Name: "admin", DisplayName: "Administrator", Password: password,
		PlatformAdmin: true, MustChangePassword: true})
	if err != nil {
		return false, fmt.Errorf("creating the first admin account: %w", err)
	}
	return true, nil
}

// ResetAdminPassword sets the password of the account "admin" (creating it as
// platform admin if missing), re-enables it and requires a change at next login.
func (s *Store) ResetAdminPassword(ctx context.Context, password string) error {
	u, err := s.GetByName(ctx, "admin")
	if errors.Is(err, problem.ErrNotFound) {
		_, err = s.CreateLocal(ctx, NewLocalUser{Name: "admin", DisplayName: "Administrator", Password: password,
			PlatformAdmin: true, MustChangePassword: true})
		return err
	}
	if err != nil {
		return err
	}
	if err := s.SetPassword(ctx, u.ID, password, true); err != nil {
		return err
	}
	enabled, admin := false, true
	_, err = s.Update(ctx, u.ID, UserPatch{Disabled: &enabled, PlatformAdmin: &admin})
	return err
}

// GeneratePassword returns a random password for first start and resets:
// 20 characters from an alphabet without look-alikes.
func GeneratePassword() (string, error) {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	// Reject bytes beyond the largest multiple of len(alphabet) so every
	// character is equally likely.
	limit := byte(256 / len(alphabet) * len(alphabet))
	out := make([]byte, 0, 20)
	buf := make([]byte, 32)
	for len(out) < 20 {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("generating password: %w", err)
		}
		for _, c := range buf {
			if c < limit && len(out) < 20 {
				out = append(out, alphabet[int(c)%len(alphabet)])
			}
		}
	}
	return string(out), nil
}

// randomToken returns a URL-safe random string of n random bytes.
func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// HashToken returns the hex SHA-256 of a bearer secret; only hashes are
// stored so a copy of the database does not hand out sessions or tokens.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func isUniqueViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}
