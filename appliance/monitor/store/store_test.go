package store

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"golang.org/x/sys/unix"
)

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// runStore starts a store and waits for it to open.
func runStore(t *testing.T, o Options) (*Store, func()) {
	t.Helper()
	o.Logger = quietLogger()
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	select {
	case <-s.Ready():
	case <-time.After(30 * time.Second):
		t.Fatal("store did not open within 30s")
	}
	stop := func() { cancel(); <-done }
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return s, stop
}

// appendSeries writes n samples for each of series series, one commit per
// timestamp, like scrapes do.
func appendSeries(t *testing.T, s *Store, series, n int, start int64) {
	t.Helper()
	for i := 0; i < n; i++ {
		app := s.Appender(context.Background())
		for j := 0; j < series; j++ {
			lset := labels.FromStrings("__name__", "test_metric", "series", strconv.Itoa(j))
			if _, err := app.Append(0, lset, start+int64(i)*1000, float64(i)); err != nil {
				t.Fatalf("append: %v", err)
			}
		}
		if err := app.Commit(); err != nil {
			t.Fatalf("commit: %v", err)
		}
	}
}

func countSamples(t *testing.T, s *Store) int {
	t.Helper()
	q, err := s.Querier(0, 1<<62)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	ss := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "test_metric"))
	n := 0
	for ss.Next() {
		it := ss.At().Iterator(nil)
		for it.Next() != 0 {
			n++
		}
	}
	if ss.Err() != nil {
		t.Fatal(ss.Err())
	}
	return n
}

func gathered(t *testing.T, g prometheus.Gatherer, name string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			m := mf.GetMetric()[0]
			if m.Counter != nil {
				return m.Counter.GetValue()
			}
			return m.Gauge.GetValue()
		}
	}
	t.Fatalf("metric %s not found", name)
	return 0
}

func TestWALCorruptionIsRepairedOnOpen(t *testing.T) {
	tests := []struct {
		name    string
		corrupt func(t *testing.T, segment string)
	}{
		{"truncated tail", func(t *testing.T, seg string) {
			// Cut inside the records, as a crash mid-write would; the end
			// of the last page is zero padding, so find where data ends.
			data, err := os.ReadFile(seg)
			if err != nil {
				t.Fatal(err)
			}
			end := len(data)
			for end > 0 && data[end-1] == 0 {
				end--
			}
			if err := os.Truncate(seg, int64(end*2/3)); err != nil {
				t.Fatal(err)
			}
		}},
		{"garbage in the middle", func(t *testing.T, seg string) {
			f, err := os.OpenFile(seg, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			fi, err := f.Stat()
			if err != nil {
				t.Fatal(err)
			}
			junk := make([]byte, 512)
			for i := range junk {
				junk[i] = 0xA5
			}
			if _, err := f.WriteAt(junk, fi.Size()/2); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s, stop := runStore(t, Options{Dir: dir, MinFreeBytes: 1})
			appendSeries(t, s, 50, 200, 0)
			before := countSamples(t, s)
			stop()

			segs, _ := filepath.Glob(filepath.Join(dir, "wal", "0*"))
			sort.Strings(segs)
			if len(segs) == 0 {
				t.Fatal("no WAL segment written")
			}
			tc.corrupt(t, segs[len(segs)-1])

			s2, _ := runStore(t, Options{Dir: dir, MinFreeBytes: 1})
			after := countSamples(t, s2)
			if after == 0 || after >= before {
				t.Fatalf("want bounded loss: %d samples before, %d after repair", before, after)
			}
			if n := gathered(t, s2.Gatherer(), "prometheus_tsdb_wal_corruptions_total"); n != 1 {
				t.Fatalf("prometheus_tsdb_wal_corruptions_total = %v, want 1", n)
			}
			// The repaired TSDB takes new samples.
			appendSeries(t, s2, 1, 1, 10_000_000)
		})
	}
}

func TestOpenFailureIsRetried(t *testing.T) {
	base := t.TempDir()
	blocker := filepath.Join(base, "blocker")
	if err := os.WriteFile(blocker, []byte("not a dir"), 0o644); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	s, err := New(Options{Dir: filepath.Join(blocker, "tsdb"), RetryInterval: 20 * time.Millisecond, Logger: quietLogger(), Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)

	deadline := time.Now().Add(10 * time.Second)
	for testutil.ToFloat64(s.m.openFailures) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("no failed open attempts counted")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := s.Querier(0, 1); !errors.Is(err, tsdb.ErrNotReady) {
		t.Fatalf("query before open: err = %v, want ErrNotReady", err)
	}
	if err := s.Appender(context.Background()).Commit(); !errors.Is(err, tsdb.ErrNotReady) {
		t.Fatalf("append before open: err = %v, want ErrNotReady", err)
	}
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("store did not open after the obstacle was removed")
	}
	if testutil.ToFloat64(s.m.ready) != 1 {
		t.Fatal("ready metric is not 1")
	}
}

// mountTmpfs mounts a small tmpfs, which is how the tests get a disk that
// really fills up. It needs root; other users skip.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dir
}

func freeBytes(t *testing.T, dir string) int64 {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * int64(st.Bsize)
}

// fill writes a file leaving about leave bytes free.
func fill(t *testing.T, dir string, leave int64) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for free := freeBytes(t, dir); free > leave; free = freeBytes(t, dir) {
		n := min(int64(len(buf)), free-leave)
		if _, err := f.Write(buf[:n]); err != nil {
			break // the disk is full: that is the point
		}
	}
	return path
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLowDiskPausesAndResumesIngestion(t *testing.T) {
	mnt := mountTmpfs(t, "48m")
	reg := prometheus.NewRegistry()
	s, _ := runStore(t, Options{Dir: filepath.Join(mnt, "tsdb"), MinFreeBytes: 8 << 20, DiskCheckInterval: 10 * time.Millisecond, Registerer: reg})
	appendSeries(t, s, 10, 5, 0)

	filler := fill(t, mnt, 4<<20)
	waitFor(t, "ingestion to pause", s.Paused)
	if err := s.AppenderV2(context.Background()).Commit(); !errors.Is(err, ErrIngestionPaused) {
		t.Fatalf("commit while paused: err = %v, want ErrIngestionPaused", err)
	}
	if got := testutil.ToFloat64(s.m.paused); got != 1 {
		t.Fatalf("paused gauge = %v", got)
	}
	// Queries still work while ingestion is paused.
	if n := countSamples(t, s); n != 50 {
		t.Fatalf("samples readable while paused = %d, want 50", n)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "ingestion to resume", func() bool { return !s.Paused() })
	if testutil.ToFloat64(s.m.lastResume) == 0 || testutil.ToFloat64(s.m.pauses) != 1 {
		t.Fatal("resume not recorded in metrics")
	}
	appendSeries(t, s, 10, 5, 100_000)
}

func TestWriteErrorOnFullDiskPausesIngestion(t *testing.T) {
	mnt := mountTmpfs(t, "48m")
	// A reserve of 1 byte: the disk-space check never triggers, so the
	// only thing that can pause ingestion is the WAL write failing.
	s, _ := runStore(t, Options{Dir: filepath.Join(mnt, "tsdb"), MinFreeBytes: 1, DiskCheckInterval: time.Hour})
	appendSeries(t, s, 10, 2, 0)
	filler := fill(t, mnt, 0)

	var commitErr error
	for i := 0; i < 1000 && commitErr == nil; i++ {
		app := s.Appender(context.Background())
		for j := 0; j < 10; j++ {
			_, _ = app.Append(0, labels.FromStrings("__name__", "test_metric", "series", strconv.Itoa(j), "pad", string(make([]byte, 512))), int64(10_000+i), 1)
		}
		commitErr = app.Commit()
	}
	if commitErr == nil {
		t.Fatal("commits kept succeeding on a full disk")
	}
	if !s.Paused() {
		t.Fatalf("commit failed with %v but ingestion was not paused", commitErr)
	}
	if err := s.Appender(context.Background()).Commit(); !errors.Is(err, ErrIngestionPaused) {
		t.Fatalf("next commit: err = %v, want ErrIngestionPaused", err)
	}
	_ = os.Remove(filler)
	var q storage.Querier
	q, err := s.Querier(0, 1<<62)
	if err != nil {
		t.Fatal(err)
	}
	q.Close()
}
