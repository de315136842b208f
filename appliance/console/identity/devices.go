package identity

import (
	"context"
	"fmt"
)

// A device token is a long-lived random cookie set after a successful login.
// Presenting it later proves that the browser has logged in to that account
// before, which lets the login throttle exempt it from account-wide limits:
// an attacker guessing passwords from elsewhere cannot lock the real user
// out of a browser they already use.

// NewDeviceToken returns a fresh device secret.
func NewDeviceToken() (string, error) { return randomToken(32) }

// RememberDevice records that the device holding secret logged in as userID.
func (s *Store) RememberDevice(ctx context.Context, userID int64, secret string) error {
	now := s.now().UnixMilli()
	_, err := s.db.ExecContext(ctx, `INSERT INTO console_devices(token_hash, user_id, created_at, last_used_at) VALUES(?,?,?,?)
		ON CONFLICT(token_hash, user_id) DO UPDATE SET last_used_at=excluded.last_used_at`, HashToken(secret), userID, now, now)
	if err != nil {
		return fmt.Errorf("remembering device: %w", err)
	}
	return nil
}

// KnownDevice reports whether the device holding secret has logged in as the
// local user called name.
func (s *Store) KnownDevice(ctx context.Context, name, secret string) (bool, error) {
	if secret == "" || len(secret) > 128 {
		return false, nil
	}
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM console_devices d JOIN console_users u ON u.id=d.user_id
		WHERE d.token_hash=? AND u.name=?`, HashToken(secret), name).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("checking device: %w", err)
	}
	return n > 0, nil
}
