package audit

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Results of an audited action.
const (
	ResultSuccess = "success"
	ResultDenied  = "denied"  // refused: authentication, authorization, CSRF, throttling
	ResultFailure = "failure" // attempted but failed: invalid input, conflict, error
)

// Entry is one audit record.
type Entry struct {
	ID      int64     `json:"id"`
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	IP      string    `json:"ip"`
	Action  string    `json:"action"`
	Kind    string    `json:"kind"`
	Project string    `json:"project"`
	Name    string    `json:"name"`
	// Detail describes the change (e.g. "replicas 2 → 5"); never a secret value.
	Detail  string `json:"detail"`
	Result  string `json:"result"`
	Status  int    `json:"status"`
	Message string `json:"message"`
}

// Log writes and reads audit entries.
type Log struct {
	db  *sql.DB
	now func() time.Time
}

// New returns a Log over the console database; now may be nil (time.Now).
func New(db *sql.DB, now func() time.Time) *Log {
	if now == nil {
		now = time.Now
	}
	return &Log{db: db, now: now}
}

// Record appends e; At is set to now when zero.
func (l *Log) Record(ctx context.Context, e Entry) error {
	if e.At.IsZero() {
		e.At = l.now()
	}
	if len(e.Detail) > 4096 {
		e.Detail = e.Detail[:4096]
	}
	if len(e.Message) > 1024 {
		e.Message = e.Message[:1024]
	}
	_, err := l.db.ExecContext(ctx, `INSERT INTO console_audit(at, actor, ip, action, object_kind, project, object_name, detail, result, status, message)
		VALUES(?,?,?,?,?,?,?,?,?,?,?)`, e.At.UnixMilli(), e.Actor, e.IP, e.Action, e.Kind, e.Project, e.Name, e.Detail, e.Result, e.Status, e.Message)
	if err != nil {
		return fmt.Errorf("writing audit entry: %w", err)
	}
	return nil
}

// Query selects entries; zero fields do not filter.
type Query struct {
	Actor  string
	Action string
	Kind   string
	// Projects, if non-nil, restricts results to these projects (callers
	// who are not platform admins see only their own projects' entries).
	Projects []string
	Project  string
	Result   string
	// Text matches a substring of the object name, detail or message.
	Text  string
	Since time.Time
	Until time.Time
	// BeforeID pages backwards: only entries with a smaller id.
	BeforeID int64
	// Limit caps results; default 100, at most 1000 (exports pass -1 for all).
	Limit int
}

func (q Query) where() (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, a ...any) { conds = append(conds, cond); args = append(args, a...) }
	if q.Actor != "" {
		add("actor=?", q.Actor)
	}
	if q.Action != "" {
		add("action=?", q.Action)
	}
	if q.Kind != "" {
		add("object_kind=?", q.Kind)
	}
	if q.Project != "" {
		add("project=?", q.Project)
	}
	if q.Projects != nil {
		if len(q.Projects) == 0 {
			add("0")
		} else {
			add("project IN (?"+strings.Repeat(",?", len(q.Projects)-1)+")", toAny(q.Projects)...)
		}
	}
	if q.Result != "" {
		add("result=?", q.Result)
	}
	if q.Text != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q.Text) + "%"
		add(`(object_name LIKE ? ESCAPE '\' OR detail LIKE ? ESCAPE '\' OR message LIKE ? ESCAPE '\')`, like, like, like)
	}
	if !q.Since.IsZero() {
		add("at>=?", q.Since.UnixMilli())
	}
	if !q.Until.IsZero() {
		add("at<?", q.Until.UnixMilli())
	}
	if q.BeforeID > 0 {
		add("id<?", q.BeforeID)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// Search returns matching entries, newest first.
func (l *Log) Search(ctx context.Context, q Query) ([]Entry, error) {
	out := []Entry{}
	err := l.each(ctx, q, func(e Entry) error { out = append(out, e); return nil })
	return out, err
}

func (l *Log) each(ctx context.Context, q Query, fn func(Entry) error) error {
	limit := q.Limit
	switch {
	case limit == 0:
		limit = 100
	case limit > 1000:
		limit = 1000
	}
	where, args := q.where()
	query := `SELECT id, at, actor, ip, action, object_kind, project, object_name, detail, result, status, message FROM console_audit` +
		where + ` ORDER BY id DESC`
	if limit > 0 {
		query += " LIMIT " + strconv.Itoa(limit)
	}
	rows, err := l.db.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("searching audit log: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e Entry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.IP, &e.Action, &e.Kind, &e.Project, &e.Name, &e.Detail, &e.Result, &e.Status, &e.Message); err != nil {
			return fmt.Errorf("searching audit log: %w", err)
		}
		e.At = time.UnixMilli(at).UTC()
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Export writes all matching entries (ignoring q.Limit) to w as "csv" or
// "ndjson" (one JSON object per line).
func (l *Log) Export(ctx context.Context, q Query, format string, w io.Writer) error {
	q.Limit = -1
	switch format {
	case "ndjson":
		enc := json.NewEncoder(w)
		return l.each(ctx, q, func(e Entry) error { return enc.Encode(e) })
	case "csv":
		cw := csv.NewWriter(w)
		if err := cw.Write([]string{"id", "time", "actor", "ip", "action", "kind", "project", "name", "detail", "result", "status", "message"}); err != nil {
			return err
		}
		err := l.each(ctx, q, func(e Entry) error {
			return cw.Write([]string{strconv.FormatInt(e.ID, 10), e.At.Format(time.RFC3339Nano), csvSafe(e.Actor), e.IP, e.Action, e.Kind,
				e.Project, csvSafe(e.Name), csvSafe(e.Detail), e.Result, strconv.Itoa(e.Status), csvSafe(e.Message)})
		})
		cw.Flush()
		if err != nil {
			return err
		}
		return cw.Error()
	default:
		return fmt.Errorf("unknown export format %q", format)
	}
}

// csvSafe defuses spreadsheet formula injection: a user-chosen object name
// like "=HYPERLINK(...)" must not run when an auditor opens the export.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
