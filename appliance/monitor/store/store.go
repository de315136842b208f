package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/wlog"
	"github.com/prometheus/prometheus/util/compression"
	"golang.org/x/sys/unix"
)

// ErrIngestionPaused is returned by appenders while free disk space is
// below the reserve.
var ErrIngestionPaused = errors.New("monitoring ingestion paused: free disk space is below the reserve")

// Defaults of Options.
const (
	DefaultMinFreeBytes      = 256 << 20
	DefaultDiskCheckInterval = 2 * time.Second
	DefaultRetryInterval     = 30 * time.Second
	// DefaultSamplesPerChunk is 4x the TSDB's 120: one chunk per series
	// per 2 h block at a 15 s scrape interval. Fewer chunk headers and
	// index entries save about 10 % of the disk on typical data, for a
	// larger open chunk in memory and more decoding for a single-point
	// lookup (BENCHMARKS.md, "Monitoring").
	DefaultSamplesPerChunk = 480
)

// Options configure a Store.
type Options struct {
	// Dir holds the TSDB (blocks, wal, chunks_head).
	Dir string
	// Retention is how long samples are kept; 0 means 15 days.
	Retention time.Duration
	// RetentionSize caps blocks + WAL + head chunks in bytes; 0 means no cap.
	RetentionSize int64
	// MinFreeBytes is the free space on Dir's filesystem below which
	// ingestion pauses; it resumes above twice this. Default 256 MiB.
	MinFreeBytes int64
	// DiskCheckInterval is how often free space is checked. Default 2s.
	DiskCheckInterval time.Duration
	// RetryInterval is the wait before reopening a TSDB that failed to
	// open. Default 30s.
	RetryInterval time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Registerer receives the store's own metrics (outpost_monitor_*); the
	// TSDB's metrics live in Gatherer, rebuilt at each open.
	Registerer prometheus.Registerer
	// SamplesPerChunk is the target number of samples of a chunk; 0 means
	// DefaultSamplesPerChunk.
	SamplesPerChunk int
	// TuneTSDB, when set, adjusts the TSDB options before each open
	// (benchmarks shorten block durations).
	TuneTSDB func(*tsdb.Options)
}

// Store is an embedded TSDB that is a storage.Storage before it is open:
// until then queries fail with tsdb.ErrNotReady and appends are refused.
type Store struct {
	opts   Options
	logger *slog.Logger

	db       atomic.Pointer[tsdb.DB]
	dbStats  atomic.Pointer[tsdb.DBStats]
	gatherer atomic.Pointer[prometheus.Registry]
	paused   atomic.Bool
	notified atomic.Pointer[wlog.WriteNotified]
	ready    chan struct{}
	readyOne sync.Once

	m metrics
}

type metrics struct {
	ready        prometheus.Gauge
	openFailures prometheus.Counter
	paused       prometheus.Gauge
	pauses       prometheus.Counter
	lastResume   prometheus.Gauge
	refused      prometheus.Counter
	freeBytes    prometheus.Gauge
	writeErrors  prometheus.Counter
}

// New checks the options; the TSDB is opened by Run.
func New(o Options) (*Store, error) {
	if o.Dir == "" {
		return nil, errors.New("creating monitoring store: Dir is required")
	}
	if o.Retention == 0 {
		o.Retention = 15 * 24 * time.Hour
	}
	if o.MinFreeBytes == 0 {
		o.MinFreeBytes = DefaultMinFreeBytes
	}
	if o.DiskCheckInterval == 0 {
		o.DiskCheckInterval = DefaultDiskCheckInterval
	}
	if o.RetryInterval == 0 {
		o.RetryInterval = DefaultRetryInterval
	}
	if o.SamplesPerChunk == 0 {
		o.SamplesPerChunk = DefaultSamplesPerChunk
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s := &Store{opts: o, logger: o.Logger, ready: make(chan struct{})}
	s.gatherer.Store(prometheus.NewRegistry())
	s.m = metrics{
		ready:        prometheus.NewGauge(prometheus.GaugeOpts{Name: "outpost_monitor_storage_ready", Help: "1 when the monitoring TSDB is open."}),
		openFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "outpost_monitor_storage_open_failures_total", Help: "Failed attempts to open the monitoring TSDB."}),
		paused:       prometheus.NewGauge(prometheus.GaugeOpts{Name: "outpost_monitor_ingestion_paused", Help: "1 while ingestion is paused because free disk space is low."}),
		pauses:       prometheus.NewCounter(prometheus.CounterOpts{Name: "outpost_monitor_ingestion_pauses_total", Help: "Times ingestion was paused for lack of disk space."}),
		lastResume:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "outpost_monitor_ingestion_last_resume_timestamp_seconds", Help: "When ingestion last resumed after a pause (0: never paused)."}),
		refused:      prometheus.NewCounter(prometheus.CounterOpts{Name: "outpost_monitor_ingestion_refused_appends_total", Help: "Append transactions refused while the TSDB was not open or ingestion was paused."}),
		freeBytes:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "outpost_monitor_storage_filesystem_free_bytes", Help: "Free bytes on the filesystem holding the monitoring TSDB."}),
		writeErrors:  prometheus.NewCounter(prometheus.CounterOpts{Name: "outpost_monitor_storage_write_errors_total", Help: "Commits the TSDB refused with a write error."}),
	}
	if o.Registerer != nil {
		for _, c := range []prometheus.Collector{s.m.ready, s.m.openFailures, s.m.paused, s.m.pauses, s.m.lastResume, s.m.refused, s.m.freeBytes, s.m.writeErrors} {
			if err := o.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("registering monitoring store metrics: %w", err)
			}
		}
	}
	return s, nil
}

// Run opens the TSDB, retrying until it succeeds, then watches free disk
// space until ctx is done, when it closes the TSDB. It never returns an
// error: a broken TSDB degrades monitoring, not the appliance.
func (s *Store) Run(ctx context.Context) {
	for {
		if err := s.open(); err == nil {
			break
		} else {
			s.m.openFailures.Inc()
			s.logger.Error("opening monitoring TSDB failed; monitoring queries are unavailable until it opens",
				"dir", s.opts.Dir, "retry_in", s.opts.RetryInterval, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.opts.RetryInterval):
		}
	}
	s.checkDisk()
	t := time.NewTicker(s.opts.DiskCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			s.close()
			return
		case <-t.C:
			s.checkDisk()
		}
	}
}

func (s *Store) open() error {
	if err := os.MkdirAll(s.opts.Dir, 0o755); err != nil {
		return fmt.Errorf("creating TSDB dir: %w", err)
	}
	// Check free space before opening too: WAL replay and head chunk
	// mmapping write to disk.
	s.checkDisk()
	o := tsdb.DefaultOptions()
	o.RetentionDuration = s.opts.Retention.Milliseconds()
	o.MaxBytes = s.opts.RetentionSize
	// Like Prometheus: blocks grow by compaction up to a tenth of the
	// retention (at most 31 days), so long ranges read few blocks and the
	// index is not repeated every 2 hours. tsdb's own default stops at 2h.
	o.MaxBlockDuration = max(o.MinBlockDuration, min(31*24*time.Hour, s.opts.Retention/10).Milliseconds())
	o.WALCompression = compression.Snappy
	// A small appliance has far fewer series than a Prometheus server;
	// smaller lock stripes save memory.
	o.StripeSize = 1 << 12
	o.SamplesPerChunk = s.opts.SamplesPerChunk
	if s.opts.TuneTSDB != nil {
		s.opts.TuneTSDB(o)
	}
	// A fresh registry per attempt: a failed open may leave collectors
	// registered, and a retry must not trip over them.
	reg := prometheus.NewRegistry()
	stats := tsdb.NewDBStats()
	db, err := tsdb.Open(s.opts.Dir, s.logger.With("component", "tsdb"), reg, o, stats)
	if err != nil {
		return fmt.Errorf("opening TSDB in %s: %w", s.opts.Dir, err)
	}
	if wn := s.notified.Load(); wn != nil {
		db.SetWriteNotified(*wn)
	}
	s.gatherer.Store(reg)
	s.dbStats.Store(stats)
	s.db.Store(db)
	s.m.ready.Set(1)
	s.readyOne.Do(func() { close(s.ready) })
	s.logger.Info("monitoring TSDB open", "dir", s.opts.Dir, "retention", s.opts.Retention, "retention_size", s.opts.RetentionSize)
	return nil
}

func (s *Store) close() {
	db := s.db.Swap(nil)
	s.m.ready.Set(0)
	if db == nil {
		return
	}
	if err := db.Close(); err != nil {
		s.logger.Warn("closing monitoring TSDB", "err", err)
	}
}

// checkDisk pauses ingestion when free space falls below the reserve and
// resumes it once twice the reserve is free again.
func (s *Store) checkDisk() {
	var st unix.Statfs_t
	if err := unix.Statfs(s.opts.Dir, &st); err != nil {
		s.logger.Warn("checking free disk space of monitoring TSDB", "dir", s.opts.Dir, "err", err)
		return
	}
	free := int64(st.Bavail) * int64(st.Bsize) //nolint:unconvert // field types differ by arch
	s.m.freeBytes.Set(float64(free))
	switch {
	case free < s.opts.MinFreeBytes:
		s.pause(fmt.Sprintf("%d bytes free, reserve is %d", free, s.opts.MinFreeBytes))
	case free >= 2*s.opts.MinFreeBytes && s.paused.Load():
		s.paused.Store(false)
		s.m.paused.Set(0)
		s.m.lastResume.SetToCurrentTime()
		s.logger.Warn("monitoring ingestion resumed: disk space is available again", "free_bytes", free)
	}
}

func (s *Store) pause(reason string) {
	if s.paused.Swap(true) {
		return
	}
	s.m.paused.Set(1)
	s.m.pauses.Inc()
	s.logger.Error("monitoring ingestion paused to protect the disk; samples are dropped until space is freed",
		"dir", s.opts.Dir, "reason", reason)
}

// SetWriteNotified registers remote_write's WAL watcher, so it reads new
// WAL records as they are written instead of polling. Call it before Run.
func (s *Store) SetWriteNotified(wn wlog.WriteNotified) { s.notified.Store(&wn) }

// Paused reports whether ingestion is paused for lack of disk space.
func (s *Store) Paused() bool { return s.paused.Load() }

// Ready is closed once the TSDB first opens.
func (s *Store) Ready() <-chan struct{} { return s.ready }

// DB returns the open TSDB, or nil.
func (s *Store) DB() *tsdb.DB { return s.db.Load() }

// Dir returns the TSDB directory.
func (s *Store) Dir() string { return s.opts.Dir }

// Gatherer returns the TSDB's own metrics (prometheus_tsdb_*).
func (s *Store) Gatherer() prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return s.gatherer.Load().Gather() })
}

// Querier implements storage.Queryable.
func (s *Store) Querier(mint, maxt int64) (storage.Querier, error) {
	if db := s.db.Load(); db != nil {
		return db.Querier(mint, maxt)
	}
	return nil, tsdb.ErrNotReady
}

// ChunkQuerier implements storage.ChunkQueryable.
func (s *Store) ChunkQuerier(mint, maxt int64) (storage.ChunkQuerier, error) {
	if db := s.db.Load(); db != nil {
		return db.ChunkQuerier(mint, maxt)
	}
	return nil, tsdb.ErrNotReady
}

// StartTime returns the oldest timestamp stored.
func (s *Store) StartTime() (int64, error) {
	if db := s.db.Load(); db != nil {
		return db.StartTime()
	}
	return 0, tsdb.ErrNotReady
}

// Close closes the TSDB if it is open. Run closes it too.
func (s *Store) Close() error {
	s.close()
	return nil
}

// Appender implements storage.Appendable.
func (s *Store) Appender(ctx context.Context) storage.Appender {
	db, err := s.writable()
	if err != nil {
		return refusedAppender{err}
	}
	return &watchedAppender{Appender: db.Appender(ctx), s: s}
}

// AppenderV2 implements storage.AppendableV2.
func (s *Store) AppenderV2(ctx context.Context) storage.AppenderV2 {
	db, err := s.writable()
	if err != nil {
		return refusedAppenderV2{err}
	}
	return &watchedAppenderV2{AppenderV2: db.AppenderV2(ctx), s: s}
}

func (s *Store) writable() (*tsdb.DB, error) {
	db := s.db.Load()
	switch {
	case db == nil:
		s.m.refused.Inc()
		return nil, tsdb.ErrNotReady
	case s.paused.Load():
		s.m.refused.Inc()
		return nil, ErrIngestionPaused
	}
	return db, nil
}

// commitFailed pauses ingestion on a full disk: the next write could be a
// head chunk, which the TSDB cannot survive failing.
func (s *Store) commitFailed(err error) {
	s.m.writeErrors.Inc()
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		s.pause("write failed: " + err.Error())
	}
}

// TSDB administration used by the HTTP API (status pages, admin endpoints).

// CleanTombstones implements the API's TSDBAdminStats.
func (s *Store) CleanTombstones() error {
	if db := s.db.Load(); db != nil {
		return db.CleanTombstones()
	}
	return tsdb.ErrNotReady
}

// Delete implements the API's TSDBAdminStats.
func (s *Store) Delete(ctx context.Context, mint, maxt int64, ms ...*labels.Matcher) error {
	if db := s.db.Load(); db != nil {
		return db.Delete(ctx, mint, maxt, ms...)
	}
	return tsdb.ErrNotReady
}

// Snapshot implements the API's TSDBAdminStats.
func (s *Store) Snapshot(dir string, withHead bool) error {
	if db := s.db.Load(); db != nil {
		return db.Snapshot(dir, withHead)
	}
	return tsdb.ErrNotReady
}

// Stats implements the API's TSDBAdminStats.
func (s *Store) Stats(statsByLabelName string, limit int) (*tsdb.Stats, error) {
	if db := s.db.Load(); db != nil {
		return db.Head().Stats(statsByLabelName, limit), nil
	}
	return nil, tsdb.ErrNotReady
}

// WALReplayStatus implements the API's TSDBAdminStats.
func (s *Store) WALReplayStatus() (tsdb.WALReplayStatus, error) {
	if st := s.dbStats.Load(); st != nil {
		return st.Head.WALReplayStatus.GetWALReplayStatus(), nil
	}
	return tsdb.WALReplayStatus{}, tsdb.ErrNotReady
}

// BlockMetas implements the API's TSDBAdminStats.
func (s *Store) BlockMetas() ([]tsdb.BlockMeta, error) {
	if db := s.db.Load(); db != nil {
		return db.BlockMetas(), nil
	}
	return nil, tsdb.ErrNotReady
}

// ExemplarQuerier implements storage.ExemplarQueryable. Exemplar storage is
// off, so an open TSDB answers with no exemplars.
func (s *Store) ExemplarQuerier(ctx context.Context) (storage.ExemplarQuerier, error) {
	if db := s.db.Load(); db != nil {
		return db.ExemplarQuerier(ctx)
	}
	return nil, tsdb.ErrNotReady
}
