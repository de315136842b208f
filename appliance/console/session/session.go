package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/outpost-platform/outpost/appliance/console/problem"
)

// Config bounds session lifetime.
type Config struct {
	// IdleTimeout ends a session not used for this long; default 30m.
	IdleTimeout time.Duration
	// AbsoluteTimeout ends a session this long after login however active; default 12h.
	AbsoluteTimeout time.Duration
}

// Defaults fills zero fields.
func (c Config) Defaults() Config {
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 30 * time.Minute
	}
	if c.AbsoluteTimeout <= 0 {
		c.AbsoluteTimeout = 12 * time.Hour
	}
	return c
}

// Session is a logged-in browser.
type Session struct {
	UserID     int64
	CSRFToken  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	idHash     string
}

// ErrNoSession is returned for a missing, unknown or expired session.
var ErrNoSession = problem.Unauthenticated("Your session has ended; log in again.")

// touchEvery limits last-seen writes: idle expiry is accurate to this much,
// and busy pages do not turn every read into a database write.
const touchEvery = 30 * time.Second

// Store keeps sessions in the console database.
type Store struct {
	db  *sql.DB
	cfg Config
	now func() time.Time
}

// NewStore returns a session store; now may be nil (time.Now).
func NewStore(db *sql.DB, cfg Config, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{db: db, cfg: cfg.Defaults(), now: now}
}

// Config returns the effective configuration.
func (s *Store) Config() Config { return s.cfg }

func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating session secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func hashID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// Create starts a new session for userID and returns its secret id, which
// goes into the cookie. A new id at every login defeats session fixation.
func (s *Store) Create(ctx context.Context, userID int64, ip, userAgent string) (string, Session, error) {
	id, err := randomString(32)
	if err != nil {
		return "", Session{}, err
	}
	csrf, err := randomString(32)
	if err != nil {
		return "", Session{}, err
	}
	if len(userAgent) > 256 {
		userAgent = userAgent[:256]
	}
	now := s.now()
	sess := Session{UserID: userID, CSRFToken: csrf, CreatedAt: now, LastSeenAt: now, idHash: hashID(id)}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO console_sessions(id_hash, user_id, csrf_token, created_at, last_seen_at, ip, user_agent)
		VALUES(?,?,?,?,?,?,?)`, sess.idHash, userID, csrf, now.UnixMilli(), now.UnixMilli(), ip, userAgent); err != nil {
		return "", Session{}, fmt.Errorf("creating session: %w", err)
	}
	return id, sess, nil
}

// Lookup returns the live session for id and records the use. Expired
// sessions are deleted and reported as ErrNoSession.
func (s *Store) Lookup(ctx context.Context, id string) (Session, error) {
	if id == "" || len(id) > 128 {
		return Session{}, ErrNoSession
	}
	h := hashID(id)
	var sess Session
	var created, seen int64
	err := s.db.QueryRowContext(ctx, `SELECT user_id, csrf_token, created_at, last_seen_at FROM console_sessions WHERE id_hash=?`, h).
		Scan(&sess.UserID, &sess.CSRFToken, &created, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, fmt.Errorf("reading session: %w", err)
	}
	sess.idHash = h
	sess.CreatedAt, sess.LastSeenAt = time.UnixMilli(created), time.UnixMilli(seen)
	now := s.now()
	if now.Sub(sess.LastSeenAt) >= s.cfg.IdleTimeout || now.Sub(sess.CreatedAt) >= s.cfg.AbsoluteTimeout {
		if _, err := s.db.ExecContext(ctx, `DELETE FROM console_sessions WHERE id_hash=?`, h); err != nil {
			return Session{}, fmt.Errorf("ending expired session: %w", err)
		}
		return Session{}, ErrNoSession
	}
	if now.Sub(sess.LastSeenAt) >= touchEvery {
		if _, err := s.db.ExecContext(ctx, `UPDATE console_sessions SET last_seen_at=? WHERE id_hash=?`, now.UnixMilli(), h); err != nil {
			return Session{}, fmt.Errorf("recording session use: %w", err)
		}
		sess.LastSeenAt = now
	}
	return sess, nil
}

// CheckCSRF reports whether token is the session's CSRF token.
func (sess Session) CheckCSRF(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(sess.CSRFToken)) == 1
}

// Delete ends the session with secret id (server-side logout). Deleting an
// unknown session is not an error.
func (s *Store) Delete(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM console_sessions WHERE id_hash=?`, hashID(id)); err != nil {
		return fmt.Errorf("ending session: %w", err)
	}
	return nil
}

// DeleteUserSessions ends every session of userID except keep (a session
// secret, or "" to end all): after a password change the other browsers
// must log in again.
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64, keep string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM console_sessions WHERE user_id=? AND id_hash<>?`, userID, hashID(keep)); err != nil {
		return fmt.Errorf("ending sessions of user %d: %w", userID, err)
	}
	return nil
}

// Sweep deletes expired sessions; run it periodically.
func (s *Store) Sweep(ctx context.Context) error {
	now := s.now()
	_, err := s.db.ExecContext(ctx, `DELETE FROM console_sessions WHERE last_seen_at<=? OR created_at<=?`,
		now.Add(-s.cfg.IdleTimeout).UnixMilli(), now.Add(-s.cfg.AbsoluteTimeout).UnixMilli())
	if err != nil {
		return fmt.Errorf("sweeping expired sessions: %w", err)
	}
	return nil
}
