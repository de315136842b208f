package state

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // pure-Go SQLite driver, keeps the binary static
)

// DB is the appliance database. It is safe for concurrent use.
type DB struct {
	*sql.DB
	path string
}

// Open opens (creating if needed) the database file at path with WAL
// journaling, foreign keys on and a busy timeout so that concurrent writers
// wait instead of failing.
func Open(path string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating state directory: %w", err)
	}
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening state database %s: %w", path, err)
	}
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening state database %s: %w", path, err)
	}
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
		domain TEXT NOT NULL, version INTEGER NOT NULL, PRIMARY KEY (domain, version))`); err != nil {
		db.Close()
		return nil, fmt.Errorf("creating migrations table: %w", err)
	}
	return &DB{DB: db, path: path}, nil
}

// Path returns the database file's path.
func (db *DB) Path() string { return db.path }

// Migrate applies, in order and each in its own transaction, the statements
// of domain that have not run yet. Statement i is version i+1; never edit or
// reorder a released statement, only append.
func (db *DB) Migrate(ctx context.Context, domain string, statements []string) error {
	for i, stmt := range statements {
		version := i + 1
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migrating %s: %w", domain, err)
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE domain=? AND version=?`, domain, version).Scan(&n); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrating %s: %w", domain, err)
		}
		if n > 0 {
			tx.Rollback()
			continue
		}
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrating %s to version %d: %w", domain, version, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations(domain, version) VALUES(?, ?)`, domain, version); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrating %s: %w", domain, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrating %s to version %d: %w", domain, version, err)
		}
	}
	return nil
}
