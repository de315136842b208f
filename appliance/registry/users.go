package registry

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/outpost-platform/outpost/appliance/state"
)

// migrations are the registry domain's tables in the shared state database.
// Append only.
var migrations = []string{
	`CREATE TABLE registry_users (
		name TEXT PRIMARY KEY,
		password_hash TEXT NOT NULL,
		created_at TEXT NOT NULL,
		updated_at TEXT NOT NULL)`,
	`CREATE TABLE registry_image_sources (
		repository TEXT NOT NULL,
		tag TEXT NOT NULL,
		digest TEXT NOT NULL,
		source TEXT NOT NULL,
		recorded_at TEXT NOT NULL,
		PRIMARY KEY (repository, tag))`,
}

// Migrate creates or updates the registry's tables in db.
func Migrate(ctx context.Context, db *state.DB) error {
	return db.Migrate(ctx, "registry", migrations)
}

// User is a registry account. Accounts may push, delete and manage; pulls
// need no account.
type User struct {
	Name      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ErrBadCredentials is returned for an unknown user or a wrong password.
var ErrBadCredentials = errors.New("wrong user name or password")

var userNamePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._@-]{0,63}$`)

// Users stores registry accounts in the state database with argon2id
// password hashes. It is safe for concurrent use; the console reuses it.
type Users struct {
	db *state.DB

	mu       sync.Mutex
	verified map[[32]byte]time.Time // successful checks, keyed by user, password and stored hash
}

// NewUsers opens the account store in db, creating its tables if needed.
func NewUsers(ctx context.Context, db *state.DB) (*Users, error) {
	if err := Migrate(ctx, db); err != nil {
		return nil, err
	}
	return &Users{db: db, verified: map[[32]byte]time.Time{}}, nil
}

// Set creates the user name or changes its password.
func (u *Users) Set(ctx context.Context, name, password string) error {
	if !userNamePattern.MatchString(name) {
		return fmt.Errorf("invalid user name %q: use 1 to 64 letters, digits, '.', '_', '@' or '-'", name)
	}
	if len(password) < 8 {
		return fmt.Errorf("password for %q is too short: use at least 8 characters", name)
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	now := time.Now().UTC().Format(time.RFC3339)
	_, err = u.db.ExecContext(ctx, `INSERT INTO registry_users(name, password_hash, created_at, updated_at) VALUES(?, ?, ?, ?)
		ON CONFLICT(name) DO UPDATE SET password_hash=excluded.password_hash, updated_at=excluded.updated_at`,
		name, hash, now, now)
	if err != nil {
		return fmt.Errorf("saving registry user %q: %w", name, err)
	}
	return nil
}

// Remove deletes the user name.
func (u *Users) Remove(ctx context.Context, name string) error {
	res, err := u.db.ExecContext(ctx, `DELETE FROM registry_users WHERE name=?`, name)
	if err != nil {
		return fmt.Errorf("removing registry user %q: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("registry user %q: %w", name, ErrNotFound)
	}
	return nil
}

// List returns every user, sorted by name.
func (u *Users) List(ctx context.Context) ([]User, error) {
	rows, err := u.db.QueryContext(ctx, `SELECT name, created_at, updated_at FROM registry_users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("listing registry users: %w", err)
	}
	defer rows.Close()
	var users []User
	for rows.Next() {
		var usr User
		var created, updated string
		if err := rows.Scan(&usr.Name, &created, &updated); err != nil {
			return nil, fmt.Errorf("listing registry users: %w", err)
		}
		usr.CreatedAt, _ = time.Parse(time.RFC3339, created)
		usr.UpdatedAt, _ = time.Parse(time.RFC3339, updated)
		users = append(users, usr)
	}
	return users, rows.Err()
}

// Authenticate checks name and password; it returns ErrBadCredentials when
// they do not match an account.
func (u *Users) Authenticate(ctx context.Context, name, password string) error {
	var stored string
	err := u.db.QueryRowContext(ctx, `SELECT password_hash FROM registry_users WHERE name=?`, name).Scan(&stored)
	if errors.Is(err, sql.ErrNoRows) {
		// Spend the same time as for a real account so that timing does
		// not reveal which names exist.
		VerifyPassword(dummyHash, password)
		return ErrBadCredentials
	}
	if err != nil {
		return fmt.Errorf("checking registry credentials: %w", err)
	}
	key := sha256.Sum256([]byte(name + "\x00" + password + "\x00" + stored))
	u.mu.Lock()
	_, ok := u.verified[key]
	u.mu.Unlock()
	if ok {
		return nil
	}
	if !VerifyPassword(stored, password) {
		return ErrBadCredentials
	}
	// Registry clients send basic credentials on every request; a push is
	// hundreds of requests. Remember successes so that argon2 runs once.
	u.mu.Lock()
	if len(u.verified) > 1024 {
		clear(u.verified)
	}
	u.verified[key] = time.Now()
	u.mu.Unlock()
	return nil
}

// argon2id parameters: the OWASP minimum recommendation (19 MiB, 2 passes),
// cheap enough for a 2-core appliance.
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
)

var dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

// HashPassword returns an argon2id hash of password in the PHC string format
// ($argon2id$v=19$m=...,t=...,p=...$salt$hash).
func HashPassword(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hashing password: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches a hash from HashPassword.
func VerifyPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	var memory, passes uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &passes, &threads); err != nil {
		return false
	}
	if memory > 1<<20 || passes > 16 || threads == 0 {
		return false // refuse parameters that would exhaust the appliance
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	want, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, passes, memory, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
