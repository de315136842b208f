package tenancy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/outpost-platform/outpost/appliance/console/problem"
)

// Binding scopes.
const (
	ScopeWorkspace = "workspace"
	ScopeProject   = "project"
)

// Binding sources: OIDC bindings are replaced at every SSO login.
const (
	SourceLocal = "local"
	SourceOIDC  = "oidc"
)

// Workspace groups projects and their administrators.
type Workspace struct {
	Name        string    `json:"name"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"createdAt"`
	Projects    int       `json:"projects"`
	id          int64
}

// Project is a namespace owned by a workspace.
type Project struct {
	Name        string    `json:"name"`
	Workspace   string    `json:"workspace"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"createdAt"`
}

// Binding gives a user a role in a workspace (always "admin") or a project.
type Binding struct {
	UserID    int64  `json:"userId"`
	UserName  string `json:"userName"`
	Scope     string `json:"scope"`
	ScopeName string `json:"scopeName"`
	Role      Role   `json:"role"`
	Source    string `json:"source"`
}

// Store reads and writes tenancy in the console database.
type Store struct {
	db  *sql.DB
	now func() time.Time
}

// NewStore returns a Store; now may be nil (time.Now).
func NewStore(db *sql.DB, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{db: db, now: now}
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// reservedNamespaces cannot become projects: they belong to the platform.
var reservedNamespaces = map[string]bool{"default": true, "outpost-system": true, "monitoring": true}

// CheckProjectName returns why name cannot be a project (namespace) name, or "".
func CheckProjectName(name string) string {
	switch {
	case len(name) == 0 || len(name) > 63 || !dnsLabel.MatchString(name):
		return "must be 1-63 lower-case letters, digits or '-', starting and ending with a letter or digit"
	case strings.HasPrefix(name, "kube-") || strings.HasPrefix(name, "outpost-") || reservedNamespaces[name]:
		return "is reserved for the platform; choose another name"
	}
	return ""
}

// CheckWorkspaceName returns why name cannot be a workspace name, or "".
func CheckWorkspaceName(name string) string {
	if len(name) == 0 || len(name) > 63 || !dnsLabel.MatchString(name) {
		return "must be 1-63 lower-case letters, digits or '-', starting and ending with a letter or digit"
	}
	return ""
}

// CreateWorkspace adds a workspace.
func (s *Store) CreateWorkspace(ctx context.Context, name, description string) (Workspace, error) {
	f := problem.Fields{}
	if r := CheckWorkspaceName(name); r != "" {
		f.Add("name", r)
	}
	if len(description) > 512 {
		f.Add("description", "must be at most 512 characters long")
	}
	if err := f.Err(); err != nil {
		return Workspace{}, err
	}
	now := s.now().UnixMilli()
	_, err := s.db.ExecContext(ctx, `INSERT INTO console_workspaces(name, description, created_at) VALUES(?,?,?)`, name, description, now)
	if isUniqueViolation(err) {
		return Workspace{}, &problem.Error{Kind: problem.KindConflict, Code: "conflict", Message: "A workspace with this name already exists.",
			Fields: map[string]string{"name": "is already taken"}}
	}
	if err != nil {
		return Workspace{}, fmt.Errorf("creating workspace %q: %w", name, err)
	}
	return s.GetWorkspace(ctx, name)
}

const workspaceQuery = `SELECT w.id, w.name, w.description, w.created_at, (SELECT COUNT(*) FROM console_projects p WHERE p.workspace_id=w.id)
	FROM console_workspaces w`

func scanWorkspace(row interface{ Scan(...any) error }) (Workspace, error) {
	var w Workspace
	var created int64
	err := row.Scan(&w.id, &w.Name, &w.Description, &created, &w.Projects)
	w.CreatedAt = time.UnixMilli(created).UTC()
	return w, err
}

// GetWorkspace returns the workspace called name.
func (s *Store) GetWorkspace(ctx context.Context, name string) (Workspace, error) {
	w, err := scanWorkspace(s.db.QueryRowContext(ctx, workspaceQuery+` WHERE w.name=?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return Workspace{}, problem.NotFound("workspace")
	}
	if err != nil {
		return Workspace{}, fmt.Errorf("reading workspace %q: %w", name, err)
	}
	return w, nil
}

// ListWorkspaces returns all workspaces by name.
func (s *Store) ListWorkspaces(ctx context.Context) ([]Workspace, error) {
	rows, err := s.db.QueryContext(ctx, workspaceQuery+` ORDER BY w.name`)
	if err != nil {
		return nil, fmt.Errorf("listing workspaces: %w", err)
	}
	defer rows.Close()
	out := []Workspace{}
	for rows.Next() {
		w, err := scanWorkspace(rows)
		if err != nil {
			return nil, fmt.Errorf("listing workspaces: %w", err)
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// DeleteWorkspace removes an empty workspace and its admin bindings.
func (s *Store) DeleteWorkspace(ctx context.Context, name string) error {
	w, err := s.GetWorkspace(ctx, name)
	if err != nil {
		return err
	}
	if w.Projects > 0 {
		return problem.Conflict(fmt.Sprintf("Workspace %q still has %d project(s); delete them first.", name, w.Projects))
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("deleting workspace %q: %w", name, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM console_role_bindings WHERE scope=? AND scope_name=?`, ScopeWorkspace, name); err != nil {
		return fmt.Errorf("deleting workspace %q: %w", name, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM console_workspaces WHERE id=?`, w.id); err != nil {
		return fmt.Errorf("deleting workspace %q: %w", name, err)
	}
	return tx.Commit()
}

// CreateProject records a project in workspace. The caller creates the
// namespace; see the kube package.
func (s *Store) CreateProject(ctx context.Context, workspace, name, description string) (Project, error) {
	f := problem.Fields{}
	if r := CheckProjectName(name); r != "" {
		f.Add("name", r)
	}
	if len(description) > 512 {
		f.Add("description", "must be at most 512 characters long")
	}
	if err := f.Err(); err != nil {
		return Project{}, err
	}
	w, err := s.GetWorkspace(ctx, workspace)
	if err != nil {
		return Project{}, err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO console_projects(name, workspace_id, description, created_at) VALUES(?,?,?,?)`,
		name, w.id, description, s.now().UnixMilli())
	if isUniqueViolation(err) || isPrimaryKeyViolation(err) {
		// Project names are cluster-wide (namespaces), so this may reveal
		// that a project exists elsewhere; that is inherent to namespaces.
		return Project{}, &problem.Error{Kind: problem.KindConflict, Code: "conflict", Message: "A project with this name already exists.",
			Fields: map[string]string{"name": "is already taken"}}
	}
	if err != nil {
		return Project{}, fmt.Errorf("creating project %q: %w", name, err)
	}
	return s.GetProject(ctx, name)
}

const projectQuery = `SELECT p.name, w.name, p.description, p.created_at FROM console_projects p JOIN console_workspaces w ON w.id=p.workspace_id`

func scanProject(row interface{ Scan(...any) error }) (Project, error) {
	var p Project
	var created int64
	err := row.Scan(&p.Name, &p.Workspace, &p.Description, &created)
	p.CreatedAt = time.UnixMilli(created).UTC()
	return p, err
}

// GetProject returns the project called name.
func (s *Store) GetProject(ctx context.Context, name string) (Project, error) {
	p, err := scanProject(s.db.QueryRowContext(ctx, projectQuery+` WHERE p.name=?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return Project{}, problem.NotFound("project")
	}
	if err != nil {
		return Project{}, fmt.Errorf("reading project %q: %w", name, err)
	}
	return p, nil
}

// ListProjects returns projects, of one workspace if workspace is not "".
func (s *Store) ListProjects(ctx context.Context, workspace string) ([]Project, error) {
	q, args := projectQuery+` ORDER BY p.name`, []any{}
	if workspace != "" {
		q, args = projectQuery+` WHERE w.name=? ORDER BY p.name`, []any{workspace}
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing projects: %w", err)
	}
	defer rows.Close()
	out := []Project{}
	for rows.Next() {
		p, err := scanProject(rows)
		if err != nil {
			return nil, fmt.Errorf("listing projects: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// DeleteProject removes a project record and its bindings.
func (s *Store) DeleteProject(ctx context.Context, name string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("deleting project %q: %w", name, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM console_projects WHERE name=?`, name)
	if err != nil {
		return fmt.Errorf("deleting project %q: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return problem.NotFound("project")
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM console_role_bindings WHERE scope=? AND scope_name=?`, ScopeProject, name); err != nil {
		return fmt.Errorf("deleting project %q: %w", name, err)
	}
	return tx.Commit()
}

// SetBinding gives a user a role in a workspace or project, replacing any
// role the user had there.
func (s *Store) SetBinding(ctx context.Context, b Binding) error {
	switch b.Scope {
	case ScopeWorkspace:
		if b.Role != RoleAdmin {
			return problem.Field("role", "must be admin for a workspace")
		}
		if _, err := s.GetWorkspace(ctx, b.ScopeName); err != nil {
			return err
		}
	case ScopeProject:
		if !b.Role.Valid() {
			return problem.Field("role", "must be admin, operator or viewer")
		}
		if _, err := s.GetProject(ctx, b.ScopeName); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown binding scope %q", b.Scope)
	}
	if b.Source == "" {
		b.Source = SourceLocal
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO console_role_bindings(user_id, scope, scope_name, role, source, created_at) VALUES(?,?,?,?,?,?)
		ON CONFLICT(user_id, scope, scope_name) DO UPDATE SET role=excluded.role, source=excluded.source`,
		b.UserID, b.Scope, b.ScopeName, string(b.Role), b.Source, s.now().UnixMilli())
	if err != nil && strings.Contains(err.Error(), "FOREIGN KEY") {
		return problem.Field("user", "does not exist")
	}
	if err != nil {
		return fmt.Errorf("setting role binding: %w", err)
	}
	return nil
}

// RemoveBinding removes a user's role in a workspace or project.
func (s *Store) RemoveBinding(ctx context.Context, userID int64, scope, scopeName string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM console_role_bindings WHERE user_id=? AND scope=? AND scope_name=?`, userID, scope, scopeName)
	if err != nil {
		return fmt.Errorf("removing role binding: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return problem.NotFound("member")
	}
	return nil
}

// ListBindings returns the members of a workspace or project.
func (s *Store) ListBindings(ctx context.Context, scope, scopeName string) ([]Binding, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT b.user_id, u.name, b.scope, b.scope_name, b.role, b.source FROM console_role_bindings b
		JOIN console_users u ON u.id=b.user_id WHERE b.scope=? AND b.scope_name=? ORDER BY u.name`, scope, scopeName)
	if err != nil {
		return nil, fmt.Errorf("listing members: %w", err)
	}
	return scanBindings(rows)
}

// UserBindings returns every binding of a user.
func (s *Store) UserBindings(ctx context.Context, userID int64) ([]Binding, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT b.user_id, u.name, b.scope, b.scope_name, b.role, b.source FROM console_role_bindings b
		JOIN console_users u ON u.id=b.user_id WHERE b.user_id=? ORDER BY b.scope, b.scope_name`, userID)
	if err != nil {
		return nil, fmt.Errorf("listing role bindings: %w", err)
	}
	return scanBindings(rows)
}

func scanBindings(rows *sql.Rows) ([]Binding, error) {
	defer rows.Close()
	out := []Binding{}
	for rows.Next() {
		var b Binding
		var role string
		if err := rows.Scan(&b.UserID, &b.UserName, &b.Scope, &b.ScopeName, &role, &b.Source); err != nil {
			return nil, fmt.Errorf("listing role bindings: %w", err)
		}
		b.Role = Role(role)
		out = append(out, b)
	}
	return out, rows.Err()
}

// ReplaceSourceBindings makes the user's bindings from source exactly
// bindings; workspaces and projects that do not exist are skipped (a claim
// mapping may name a project not created yet). Bindings set by hand are kept.
func (s *Store) ReplaceSourceBindings(ctx context.Context, userID int64, source string, bindings []Binding) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("updating role bindings: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM console_role_bindings WHERE user_id=? AND source=?`, userID, source); err != nil {
		return fmt.Errorf("updating role bindings: %w", err)
	}
	now := s.now().UnixMilli()
	for _, b := range bindings {
		table := "console_projects"
		if b.Scope == ScopeWorkspace {
			table = "console_workspaces"
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE name=?`, b.ScopeName).Scan(&n); err != nil {
			return fmt.Errorf("updating role bindings: %w", err)
		}
		if n == 0 || (b.Scope == ScopeProject && !b.Role.Valid()) {
			continue
		}
		// A hand-made binding wins over one derived from claims.
		if _, err := tx.ExecContext(ctx, `INSERT INTO console_role_bindings(user_id, scope, scope_name, role, source, created_at) VALUES(?,?,?,?,?,?)
			ON CONFLICT(user_id, scope, scope_name) DO NOTHING`, userID, b.Scope, b.ScopeName, string(b.Role), source, now); err != nil {
			return fmt.Errorf("updating role bindings: %w", err)
		}
	}
	return tx.Commit()
}

// AccessFor computes what a user may do.
func (s *Store) AccessFor(ctx context.Context, userID int64, userName string, platformAdmin bool) (*Access, error) {
	a := &Access{UserID: userID, UserName: userName, PlatformAdmin: platformAdmin,
		WorkspaceAdmin: map[string]bool{}, WorkspaceMember: map[string]bool{}, Projects: map[string]Role{}}
	// Direct project roles and, through workspace admin, admin of each
	// project in the workspace; the strongest role wins.
	rows, err := s.db.QueryContext(ctx, `
		SELECT 'project', p.name, w.name, b.role FROM console_role_bindings b
			JOIN console_projects p ON b.scope='project' AND p.name=b.scope_name
			JOIN console_workspaces w ON w.id=p.workspace_id
			WHERE b.user_id=?
		UNION ALL
		SELECT 'workspace', COALESCE(p.name, ''), w.name, 'admin' FROM console_role_bindings b
			JOIN console_workspaces w ON b.scope='workspace' AND w.name=b.scope_name
			LEFT JOIN console_projects p ON p.workspace_id=w.id
			WHERE b.user_id=?`, userID, userID)
	if err != nil {
		return nil, fmt.Errorf("computing access of %q: %w", userName, err)
	}
	defer rows.Close()
	for rows.Next() {
		var scope, project, workspace, role string
		if err := rows.Scan(&scope, &project, &workspace, &role); err != nil {
			return nil, fmt.Errorf("computing access of %q: %w", userName, err)
		}
		if scope == ScopeWorkspace {
			a.WorkspaceAdmin[workspace] = true
		}
		a.WorkspaceMember[workspace] = true
		if project == "" {
			continue
		}
		if cur, ok := a.Projects[project]; !ok || Role(role).rank() > cur.rank() {
			a.Projects[project] = Role(role)
		}
	}
	return a, rows.Err()
}

func isUniqueViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

func isPrimaryKeyViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "PRIMARY KEY")
}
