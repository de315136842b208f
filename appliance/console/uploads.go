package console

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/outpost-platform/outpost/appliance/console/audit"
	"github.com/outpost-platform/outpost/appliance/console/problem"
	"github.com/outpost-platform/outpost/appliance/console/tenancy"
)

// Upload states.
const (
	uploadReceiving = "receiving"
	uploadImporting = "importing"
	uploadImported  = "imported"
	uploadFailed    = "failed"
	uploadCanceled  = "canceled"
)

// ChunkSize is the largest chunk the browser sends in one request; small
// enough that a dropped connection loses little, large enough that a 10 GB
// bundle takes no more than ~1300 requests.
const ChunkSize = 8 << 20

// Upload is a bundle upload and its import.
type Upload struct {
	ID        string        `json:"id"`
	FileName  string        `json:"fileName"`
	Size      int64         `json:"size"`
	Received  int64         `json:"received"`
	State     string        `json:"state"`
	Message   string        `json:"message,omitempty"`
	CreatedBy string        `json:"createdBy"`
	CreatedAt time.Time     `json:"createdAt"`
	UpdatedAt time.Time     `json:"updatedAt"`
	Result    *ImportResult `json:"result,omitempty"`
	// AllowUnsigned records the uploader's choice to accept an unsigned bundle.
	AllowUnsigned bool            `json:"allowUnsigned"`
	Progress      *ImportProgress `json:"progress,omitempty"`
	ChunkSize     int             `json:"chunkSize"`
}

// uploads stores chunks under <data-dir>/console/uploads and runs imports
// one at a time (they are disk-bound; two at once would only halve each).
type uploads struct {
	dir    string
	db     *sql.DB
	now    func() time.Time
	max    int64
	queue  chan string
	mu     sync.Mutex
	writes map[string]*sync.Mutex
	// progress of running imports, kept in memory only.
	progress map[string]ImportProgress
}

func newUploads(cfg Config, db *sql.DB, now func() time.Time) (*uploads, error) {
	dir := ""
	if cfg.DataDir != "" {
		dir = filepath.Join(cfg.DataDir, "console", "uploads")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("creating bundle upload directory: %w", err)
		}
	}
	return &uploads{dir: dir, db: db, now: now, max: cfg.MaxBundleSize, queue: make(chan string, 64),
		writes: map[string]*sync.Mutex{}, progress: map[string]ImportProgress{}}, nil
}

func (u *uploads) path(id string) string { return filepath.Join(u.dir, id+".bundle") }

func (u *uploads) lockFor(id string) *sync.Mutex {
	u.mu.Lock()
	defer u.mu.Unlock()
	m := u.writes[id]
	if m == nil {
		m = &sync.Mutex{}
		u.writes[id] = m
	}
	return m
}

func (u *uploads) get(ctx context.Context, id string) (Upload, error) {
	var up Upload
	var created, updated int64
	var result string
	err := u.db.QueryRowContext(ctx, `SELECT id, file_name, size, received, state, message, created_by, created_at, updated_at, result,
		allow_unsigned FROM console_uploads WHERE id=?`, id).Scan(&up.ID, &up.FileName, &up.Size, &up.Received, &up.State, &up.Message,
		&up.CreatedBy, &created, &updated, &result, &up.AllowUnsigned)
	if errors.Is(err, sql.ErrNoRows) {
		return up, problem.NotFound("upload")
	}
	if err != nil {
		return up, fmt.Errorf("reading upload %s: %w", id, err)
	}
	up.CreatedAt, up.UpdatedAt, up.ChunkSize = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC(), ChunkSize
	if result != "" {
		up.Result = &ImportResult{}
		_ = json.Unmarshal([]byte(result), up.Result)
	}
	u.mu.Lock()
	if p, ok := u.progress[id]; ok {
		up.Progress = &p
	}
	u.mu.Unlock()
	return up, nil
}

func (u *uploads) list(ctx context.Context) ([]Upload, error) {
	rows, err := u.db.QueryContext(ctx, `SELECT id FROM console_uploads ORDER BY created_at DESC LIMIT 200`)
	if err != nil {
		return nil, fmt.Errorf("listing uploads: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	out := []Upload{}
	for _, id := range ids {
		up, err := u.get(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, up)
	}
	return out, nil
}

func (u *uploads) setState(ctx context.Context, id, state, message string, result *ImportResult) error {
	res := ""
	if result != nil {
		b, _ := json.Marshal(result)
		res = string(b)
	}
	_, err := u.db.ExecContext(ctx, `UPDATE console_uploads SET state=?, message=?, result=?, updated_at=? WHERE id=?`,
		state, message, res, u.now().UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("updating upload %s: %w", id, err)
	}
	return nil
}

// run imports completed uploads one after the other, and on start resumes
// imports that a restart interrupted (the importer is idempotent).
func (u *uploads) run(ctx context.Context, s *Console) {
	if ids, err := u.ids(ctx, `SELECT id FROM console_uploads WHERE state=?`, uploadImporting); err == nil {
		for _, id := range ids {
			select {
			case u.queue <- id:
			default:
			}
		}
	}
	u.dropAbandoned(ctx, s)
	sweep := time.NewTicker(time.Hour)
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sweep.C:
			u.dropAbandoned(ctx, s)
		case id := <-u.queue:
			u.importOne(ctx, s, id)
		}
	}
}

// ids returns the upload ids a query selects.
func (u *uploads) ids(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := u.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// abandonedAfter is how long an unfinished upload keeps its partial file
// for a resume before the space is given back.
const abandonedAfter = 7 * 24 * time.Hour

// dropAbandoned cancels uploads that received nothing for abandonedAfter
// and deletes their partial files.
func (u *uploads) dropAbandoned(ctx context.Context, s *Console) {
	ids, err := u.ids(ctx, `SELECT id FROM console_uploads WHERE state=? AND updated_at<?`,
		uploadReceiving, u.now().Add(-abandonedAfter).UnixMilli())
	if err != nil {
		s.log.Warn("finding abandoned uploads", "err", err)
		return
	}
	for _, id := range ids {
		if err := u.setState(ctx, id, uploadCanceled, "Abandoned: nothing was received for 7 days.", nil); err != nil {
			s.log.Warn("canceling abandoned upload", "upload", id, "err", err)
			continue
		}
		os.Remove(u.path(id))
	}
}

func (u *uploads) importOne(ctx context.Context, s *Console, id string) {
	up, err := u.get(ctx, id)
	if err != nil {
		s.log.Error("bundle import", "upload", id, "err", err)
		return
	}
	publish := func() {
		if cur, err := u.get(context.WithoutCancel(ctx), id); err == nil {
			s.events.publish(change{Kind: changeKindBundles, Type: "MODIFIED", Name: id, Object: cur})
		}
	}
	fail := func(msg string) {
		_ = u.setState(context.WithoutCancel(ctx), id, uploadFailed, msg, nil)
		os.Remove(u.path(id))
		u.mu.Lock()
		delete(u.progress, id)
		u.mu.Unlock()
		publish()
		_ = s.audit.Record(context.WithoutCancel(ctx), auditEntryForImport(up, "failure", msg))
	}
	if s.deps.Bundles == nil {
		fail("Bundle import is not available on this appliance.")
		return
	}
	f, err := os.Open(u.path(id))
	if err != nil {
		fail("The uploaded file is missing; upload it again.")
		return
	}
	defer f.Close()
	last := time.Time{}
	result, err := s.deps.Bundles.Import(ctx, f, up.Size, ImportOptions{AllowUnsigned: up.AllowUnsigned}, func(p ImportProgress) {
		u.mu.Lock()
		u.progress[id] = p
		u.mu.Unlock()
		// Several updates a second are enough for a progress bar.
		if now := time.Now(); now.Sub(last) > 250*time.Millisecond {
			last = now
			publish()
		}
	})
	if ctx.Err() != nil {
		return // shutting down: resumed at the next start
	}
	if err != nil {
		fail(err.Error())
		return
	}
	f.Close()
	os.Remove(u.path(id))
	u.mu.Lock()
	delete(u.progress, id)
	u.mu.Unlock()
	if err := u.setState(context.WithoutCancel(ctx), id, uploadImported, "", &result); err != nil {
		s.log.Error("bundle import", "upload", id, "err", err)
	}
	publish()
	_ = s.audit.Record(context.WithoutCancel(ctx), auditEntryForImport(up, "success",
		fmt.Sprintf("%s %s: %d images", result.Name, result.Version, len(result.Images))))
}

func auditEntryForImport(up Upload, result, detail string) audit.Entry {
	return audit.Entry{Actor: up.CreatedBy, Action: "bundle.import", Kind: "bundle", Name: up.FileName, Detail: detail, Result: result}
}

type uploadRequest struct {
	FileName      string `json:"fileName"`
	Size          int64  `json:"size"`
	AllowUnsigned bool   `json:"allowUnsigned"`
}

func (s *Console) handleCreateUpload(c echo.Context) error {
	var req uploadRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	auditObject(c, "bundle", "", req.FileName)
	if err := requirePlatform(c, tenancy.ActionImportBundles); err != nil {
		return err
	}
	if s.uploads.dir == "" {
		return problem.Unavailable("Bundle upload needs a data directory.")
	}
	f := problem.Fields{}
	req.FileName = filepath.Base(strings.TrimSpace(req.FileName))
	if req.FileName == "" || req.FileName == "." || len(req.FileName) > 255 {
		f.Add("fileName", "must be the bundle's file name")
	}
	if req.Size <= 0 {
		f.Add("size", "must be the file size in bytes")
	} else if req.Size > s.uploads.max {
		f.Add("size", fmt.Sprintf("must be at most %d bytes", s.uploads.max))
	}
	if err := f.Err(); err != nil {
		return err
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return fmt.Errorf("creating upload id: %w", err)
	}
	id := hex.EncodeToString(b)
	file, err := os.OpenFile(s.uploads.path(id), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("creating upload file: %w", err)
	}
	file.Close()
	now := s.now().UnixMilli()
	if _, err := s.deps.DB.ExecContext(c.Request().Context(), `INSERT INTO console_uploads(id, file_name, size, received, state, created_by, created_at, updated_at, allow_unsigned)
		VALUES(?,?,?,0,?,?,?,?,?)`, id, req.FileName, req.Size, uploadReceiving, principalOf(c).user.Name, now, now, req.AllowUnsigned); err != nil {
		return fmt.Errorf("recording upload: %w", err)
	}
	up, err := s.uploads.get(c.Request().Context(), id)
	if err != nil {
		return err
	}
	auditDetail(c, "upload "+id+", "+strconv.FormatInt(req.Size, 10)+" bytes, allowUnsigned="+strconv.FormatBool(req.AllowUnsigned))
	return c.JSON(http.StatusCreated, up)
}

func (s *Console) handleGetUpload(c echo.Context) error {
	if err := requirePlatform(c, tenancy.ActionImportBundles); err != nil {
		return err
	}
	up, err := s.uploads.get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, up)
}

func (s *Console) handleListUploads(c echo.Context) error {
	if err := requirePlatform(c, tenancy.ActionImportBundles); err != nil {
		return err
	}
	list, err := s.uploads.list(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, items(list))
}

// handleChunk appends one chunk at ?offset=. The offset must equal what the
// server has; otherwise 409 tells the browser where to resume. Chunks are
// not audited one by one: the upload's creation and import are.
func (s *Console) handleChunk(c echo.Context) error {
	auditOf(c).skip = true
	if err := requirePlatform(c, tenancy.ActionImportBundles); err != nil {
		return err
	}
	id := c.Param("id")
	offset, err := strconv.ParseInt(c.QueryParam("offset"), 10, 64)
	if err != nil || offset < 0 {
		return problem.Field("offset", "must be the byte offset of this chunk")
	}
	lock := s.uploads.lockFor(id)
	lock.Lock()
	defer lock.Unlock()
	ctx := c.Request().Context()
	up, err := s.uploads.get(ctx, id)
	if err != nil {
		return err
	}
	if up.State != uploadReceiving {
		return problem.Conflict("This upload is complete; start a new one to upload again.")
	}
	if offset != up.Received {
		return &problem.Error{Kind: problem.KindConflict, Code: "offset_mismatch",
			Message: fmt.Sprintf("The server has %d bytes of this upload; continue from there.", up.Received),
			Fields:  map[string]string{"offset": strconv.FormatInt(up.Received, 10)}}
	}
	f, err := os.OpenFile(s.uploads.path(id), os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("opening upload file: %w", err)
	}
	defer f.Close()
	// A previous chunk may have been cut off mid-write; what counts is the
	// recorded offset, never the file's length.
	if err := f.Truncate(offset); err != nil {
		return fmt.Errorf("preparing upload file: %w", err)
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return fmt.Errorf("preparing upload file: %w", err)
	}
	limit := min(int64(ChunkSize), up.Size-offset)
	n, err := io.Copy(f, io.LimitReader(c.Request().Body, limit+1))
	if n > limit {
		return problem.Field("chunk", fmt.Sprintf("must be at most %d bytes and not go past the declared size", limit))
	}
	if err != nil {
		return problem.Field("chunk", "the chunk was cut off; send it again")
	}
	if n == 0 {
		return problem.Field("chunk", "is empty")
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("writing upload file: %w", err)
	}
	received := offset + n
	state := uploadReceiving
	if received == up.Size {
		state = uploadImporting
	}
	if _, err := s.deps.DB.ExecContext(ctx, `UPDATE console_uploads SET received=?, state=?, updated_at=? WHERE id=?`,
		received, state, s.now().UnixMilli(), id); err != nil {
		return fmt.Errorf("recording upload progress: %w", err)
	}
	if state == uploadImporting {
		select {
		case s.uploads.queue <- id:
		default:
			_ = s.uploads.setState(ctx, id, uploadFailed, "Too many imports are waiting; upload again later.", nil)
		}
	}
	up.Received, up.State = received, state
	return c.JSON(http.StatusOK, up)
}

func (s *Console) handleCancelUpload(c echo.Context) error {
	auditObject(c, "bundle", "", c.Param("id"))
	if err := requirePlatform(c, tenancy.ActionImportBundles); err != nil {
		return err
	}
	id := c.Param("id")
	lock := s.uploads.lockFor(id)
	lock.Lock()
	defer lock.Unlock()
	up, err := s.uploads.get(c.Request().Context(), id)
	if err != nil {
		return err
	}
	auditObject(c, "bundle", "", up.FileName)
	if up.State != uploadReceiving {
		return problem.Conflict("Only an upload that is still receiving can be canceled.")
	}
	if err := s.uploads.setState(c.Request().Context(), id, uploadCanceled, "", nil); err != nil {
		return err
	}
	os.Remove(s.uploads.path(id))
	return c.NoContent(http.StatusNoContent)
}
