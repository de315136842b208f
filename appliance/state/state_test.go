package state

import (
	"context"
	"path/filepath"
	"testing"
)

func TestMigrateAppliesOnceAndInOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outpost.db")
	ctx := context.Background()
	steps := []string{
		`CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT)`,
		`ALTER TABLE things ADD COLUMN size INTEGER NOT NULL DEFAULT 0`,
	}
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx, "things", steps[:1]); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO things(name) VALUES('a')`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	// Reopen: the first step must not run again (it would fail: table exists).
	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx, "things", steps); err != nil {
		t.Fatal(err)
	}
	var name string
	var size int
	if err := db.QueryRow(`SELECT name, size FROM things`).Scan(&name, &size); err != nil || name != "a" || size != 0 {
		t.Fatalf("row after migration = %q %d, %v", name, size, err)
	}
}

func TestMigrateFailureLeavesVersionUnrecorded(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "outpost.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(context.Background(), "bad", []string{`CREATE TABLE`}); err == nil {
		t.Fatal("want error for invalid statement")
	}
	var n int
	db.QueryRow(`SELECT COUNT(*) FROM schema_migrations WHERE domain='bad'`).Scan(&n)
	if n != 0 {
		t.Fatalf("failed migration recorded %d versions", n)
	}
}
