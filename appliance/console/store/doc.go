// Package store holds the console's SQLite schema (users, sessions, known
// devices, API tokens, workspaces, projects, role bindings, audit log, bundle
// uploads) and applies it through appliance/state's migrations. The tables
// are prefixed console_ because the database is shared with other domains.
package store
