package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/outpost-platform/outpost/appliance/console/problem"
)

// TokenPrefix starts every API token so that leaked tokens are easy to
// recognise in logs and by secret scanners.
const TokenPrefix = "opt_"

// APIToken is a script credential acting as its user.
type APIToken struct {
	ID         int64     `json:"id"`
	Name       string    `json:"name"`
	CreatedAt  time.Time `json:"createdAt"`
	LastUsedAt time.Time `json:"lastUsedAt,omitzero"`
	ExpiresAt  time.Time `json:"expiresAt,omitzero"`
}

// CreateToken issues a token for userID. The secret is returned only here.
// ttl 0 means the token does not expire.
func (s *Store) CreateToken(ctx context.Context, userID int64, name string, ttl time.Duration) (string, APIToken, error) {
	name = strings.TrimSpace(name)
	f := problem.Fields{}
	if name == "" || len(name) > 64 {
		f.Add("name", "must be 1-64 characters long")
	}
	if ttl < 0 {
		f.Add("expiresInDays", "must not be negative")
	}
	if err := f.Err(); err != nil {
		return "", APIToken{}, err
	}
	secret, err := randomToken(32)
	if err != nil {
		return "", APIToken{}, err
	}
	secret = TokenPrefix + secret
	now := s.now()
	var expires int64
	if ttl > 0 {
		expires = now.Add(ttl).UnixMilli()
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO console_api_tokens(user_id, name, token_hash, created_at, expires_at) VALUES(?,?,?,?,?)`,
		userID, name, HashToken(secret), now.UnixMilli(), expires)
	if err != nil {
		return "", APIToken{}, fmt.Errorf("creating API token: %w", err)
	}
	id, _ := res.LastInsertId()
	t := APIToken{ID: id, Name: name, CreatedAt: time.UnixMilli(now.UnixMilli()).UTC()}
	if expires > 0 {
		t.ExpiresAt = time.UnixMilli(expires).UTC()
	}
	return secret, t, nil
}

// ListTokens returns the tokens of userID.
func (s *Store) ListTokens(ctx context.Context, userID int64) ([]APIToken, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, created_at, last_used_at, expires_at FROM console_api_tokens WHERE user_id=? ORDER BY id`, userID)
	if err != nil {
		return nil, fmt.Errorf("listing API tokens: %w", err)
	}
	defer rows.Close()
	out := []APIToken{}
	for rows.Next() {
		var t APIToken
		var created, used, expires int64
		if err := rows.Scan(&t.ID, &t.Name, &created, &used, &expires); err != nil {
			return nil, fmt.Errorf("listing API tokens: %w", err)
		}
		t.CreatedAt = time.UnixMilli(created).UTC()
		if used > 0 {
			t.LastUsedAt = time.UnixMilli(used).UTC()
		}
		if expires > 0 {
			t.ExpiresAt = time.UnixMilli(expires).UTC()
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// DeleteToken revokes token id of userID. Another user's token id is
// reported as not found.
func (s *Store) DeleteToken(ctx context.Context, userID, id int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM console_api_tokens WHERE id=? AND user_id=?`, id, userID)
	if err != nil {
		return fmt.Errorf("revoking API token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return problem.NotFound("API token")
	}
	return nil
}

// AuthenticateToken returns the enabled user owning secret.
func (s *Store) AuthenticateToken(ctx context.Context, secret string) (User, error) {
	invalid := problem.Unauthenticated("The API token is not valid or has expired.")
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) > 128 {
		return User{}, invalid
	}
	var id, userID, expires, used int64
	err := s.db.QueryRowContext(ctx, `SELECT id, user_id, expires_at, last_used_at FROM console_api_tokens WHERE token_hash=?`,
		HashToken(secret)).Scan(&id, &userID, &expires, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, invalid
	}
	if err != nil {
		return User{}, fmt.Errorf("checking API token: %w", err)
	}
	now := s.now()
	if expires > 0 && now.UnixMilli() >= expires {
		return User{}, invalid
	}
	u, err := s.Get(ctx, userID)
	if err != nil {
		return User{}, err
	}
	if u.Disabled {
		return User{}, invalid
	}
	// Record use at most once a minute: scripts may call many times a second.
	if now.UnixMilli()-used > time.Minute.Milliseconds() {
		if _, err := s.db.ExecContext(ctx, `UPDATE console_api_tokens SET last_used_at=? WHERE id=?`, now.UnixMilli(), id); err != nil {
			return User{}, fmt.Errorf("recording API token use: %w", err)
		}
	}
	return u, nil
}
