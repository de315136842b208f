package store

import (
	"context"
	"fmt"

	"github.com/outpost-platform/outpost/appliance/state"
)

// Domain is the migration domain recorded in schema_migrations.
const Domain = "console"

// migrations are applied in order; never edit or reorder a released entry,
// only append. Times are Unix milliseconds.
var migrations = []string{
	`CREATE TABLE console_users (
		id INTEGER PRIMARY KEY,
		name TEXT NOT NULL UNIQUE COLLATE NOCASE,
		display_name TEXT NOT NULL DEFAULT '',
		email TEXT NOT NULL DEFAULT '',
		source TEXT NOT NULL DEFAULT 'local',
		oidc_subject TEXT UNIQUE,
		password_hash TEXT NOT NULL DEFAULT '',
		must_change_password INTEGER NOT NULL DEFAULT 0,
		platform_admin INTEGER NOT NULL DEFAULT 0,
		disabled INTEGER NOT NULL DEFAULT 0,
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL,
		last_login_at INTEGER NOT NULL DEFAULT 0
	);
	CREATE TABLE console_sessions (
		id_hash TEXT PRIMARY KEY,
		user_id INTEGER NOT NULL REFERENCES console_users(id) ON DELETE CASCADE,
		csrf_token TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		last_seen_at INTEGER NOT NULL,
		ip TEXT NOT NULL DEFAULT '',
		user_agent TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX console_sessions_user ON console_sessions(user_id);
	CREATE TABLE console_devices (
		token_hash TEXT NOT NULL,
		user_id INTEGER NOT NULL REFERENCES console_users(id) ON DELETE CASCADE,
		created_at INTEGER NOT NULL,
		last_used_at INTEGER NOT NULL,
		PRIMARY KEY (token_hash, user_id)
	);
	CREATE TABLE console_api_tokens (
		id INTEGER PRIMARY KEY,
		user_id INTEGER NOT NULL REFERENCES console_users(id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		token_hash TEXT NOT NULL UNIQUE,
		created_at INTEGER NOT NULL,
		last_used_at INTEGER NOT NULL DEFAULT 0,
		expires_at INTEGER NOT NULL DEFAULT 0
	);
	CREATE TABLE console_workspaces (
		id INTEGER PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		description TEXT NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL
	);
	CREATE TABLE console_projects (
		name TEXT PRIMARY KEY,
		workspace_id INTEGER NOT NULL REFERENCES console_workspaces(id) ON DELETE RESTRICT,
		description TEXT NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL
	);
	CREATE TABLE console_role_bindings (
		user_id INTEGER NOT NULL REFERENCES console_users(id) ON DELETE CASCADE,
		scope TEXT NOT NULL,
		scope_name TEXT NOT NULL,
		role TEXT NOT NULL,
		source TEXT NOT NULL DEFAULT 'local',
		created_at INTEGER NOT NULL,
		PRIMARY KEY (user_id, scope, scope_name)
	);
	CREATE INDEX console_role_bindings_scope ON console_role_bindings(scope, scope_name);
	CREATE TABLE console_audit (
		id INTEGER PRIMARY KEY,
		at INTEGER NOT NULL,
		actor TEXT NOT NULL,
		ip TEXT NOT NULL DEFAULT '',
		action TEXT NOT NULL,
		object_kind TEXT NOT NULL DEFAULT '',
		project TEXT NOT NULL DEFAULT '',
		object_name TEXT NOT NULL DEFAULT '',
		detail TEXT NOT NULL DEFAULT '',
		result TEXT NOT NULL,
		status INTEGER NOT NULL DEFAULT 0,
		message TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX console_audit_at ON console_audit(at);
	CREATE INDEX console_audit_actor ON console_audit(actor, at);
	CREATE INDEX console_audit_project ON console_audit(project, at);
	CREATE TABLE console_uploads (
		id TEXT PRIMARY KEY,
		file_name TEXT NOT NULL,
		size INTEGER NOT NULL,
		received INTEGER NOT NULL DEFAULT 0,
		state TEXT NOT NULL,
		message TEXT NOT NULL DEFAULT '',
		created_by TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL,
		result TEXT NOT NULL DEFAULT ''
	);`,
	`ALTER TABLE console_uploads ADD COLUMN allow_unsigned INTEGER NOT NULL DEFAULT 0`,
}

// Migrate creates or upgrades the console's tables in db.
func Migrate(ctx context.Context, db *state.DB) error {
	if err := db.Migrate(ctx, Domain, migrations); err != nil {
		return fmt.Errorf("migrating console database: %w", err)
	}
	return nil
}
