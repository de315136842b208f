package bundle

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/outpost-platform/outpost/appliance/state"
)

// migrations are the bundle domain's tables. Append only.
var migrations = []string{
	`CREATE TABLE bundle_imports (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		name TEXT NOT NULL,
		version TEXT NOT NULL,
		kind TEXT NOT NULL,
		digest TEXT NOT NULL,
		signer TEXT NOT NULL,
		base_digest TEXT NOT NULL,
		imported_at TEXT NOT NULL,
		bytes_written INTEGER NOT NULL,
		bytes_skipped INTEGER NOT NULL,
		result TEXT NOT NULL)`,
	`CREATE TABLE bundle_images (
		import_id INTEGER NOT NULL REFERENCES bundle_imports(id) ON DELETE CASCADE,
		ref TEXT NOT NULL,
		repository TEXT NOT NULL,
		tag TEXT NOT NULL,
		digest TEXT NOT NULL)`,
	`CREATE INDEX bundle_images_by_repo ON bundle_images(repository, tag)`,
}

// History records each successful import: which bundle, signed by whom,
// and which images it brought.
type History struct{ db *state.DB }

// NewHistory opens the import history in db, creating tables if needed.
func NewHistory(ctx context.Context, db *state.DB) (*History, error) {
	if err := db.Migrate(ctx, "bundle", migrations); err != nil {
		return nil, err
	}
	return &History{db: db}, nil
}

// ImportRecord is one row of the history.
type ImportRecord struct {
	ID         int64     `json:"id"`
	ImportedAt time.Time `json:"importedAt"`
	Result
}

// Record stores a finished import.
func (h *History) Record(ctx context.Context, res *Result) error {
	full, err := json.Marshal(res)
	if err != nil {
		return err
	}
	tx, err := h.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("recording import of %s %s: %w", res.Name, res.Version, err)
	}
	defer tx.Rollback()
	base := ""
	if res.Base != nil {
		base = res.Base.Digest.String()
	}
	r, err := tx.ExecContext(ctx, `INSERT INTO bundle_imports(name, version, kind, digest, signer, base_digest,
		imported_at, bytes_written, bytes_skipped, result) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		res.Name, res.Version, string(res.Kind), res.Digest.String(), res.Signer, base,
		time.Now().UTC().Format(time.RFC3339Nano), res.BytesWritten, res.BytesSkipped, string(full))
	if err != nil {
		return fmt.Errorf("recording import of %s %s: %w", res.Name, res.Version, err)
	}
	id, _ := r.LastInsertId()
	for _, img := range res.Images {
		if _, err := tx.ExecContext(ctx, `INSERT INTO bundle_images(import_id, ref, repository, tag, digest) VALUES(?, ?, ?, ?, ?)`,
			id, img.Ref, img.Repository, img.Tag, img.Digest.String()); err != nil {
			return fmt.Errorf("recording import of %s %s: %w", res.Name, res.Version, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("recording import of %s %s: %w", res.Name, res.Version, err)
	}
	return nil
}

// List returns every import, newest first.
func (h *History) List(ctx context.Context) ([]ImportRecord, error) {
	rows, err := h.db.QueryContext(ctx, `SELECT id, imported_at, result FROM bundle_imports ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("listing bundle imports: %w", err)
	}
	defer rows.Close()
	var out []ImportRecord
	for rows.Next() {
		var rec ImportRecord
		var at, full string
		if err := rows.Scan(&rec.ID, &at, &full); err != nil {
			return nil, fmt.Errorf("listing bundle imports: %w", err)
		}
		rec.ImportedAt, _ = time.Parse(time.RFC3339Nano, at)
		if err := json.Unmarshal([]byte(full), &rec.Result); err != nil {
			return nil, fmt.Errorf("listing bundle imports: record %d: %w", rec.ID, err)
		}
		out = append(out, rec)
	}
	return out, rows.Err()
}

// Installed returns the highest version of the bundle name imported so far.
func (h *History) Installed(ctx context.Context, name string) (string, bool, error) {
	rows, err := h.db.QueryContext(ctx, `SELECT DISTINCT version FROM bundle_imports WHERE name=?`, name)
	if err != nil {
		return "", false, fmt.Errorf("reading installed version of %s: %w", name, err)
	}
	defer rows.Close()
	best := ""
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return "", false, err
		}
		if best == "" {
			best = v
			continue
		}
		a, err1 := ParseVersion(v)
		b, err2 := ParseVersion(best)
		if err1 == nil && err2 == nil && a.GreaterThan(b) {
			best = v
		}
	}
	if err := rows.Err(); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", false, err
	}
	return best, best != "", nil
}
