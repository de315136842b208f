package monitor

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

func TestDataSurvivesRestart(t *testing.T) {
	exp := newExporter(t)
	exp.value.Store(4)
	dir := t.TempDir()
	cfg := Config{Dir: dir, Targets: []Target{{Name: "demo", URL: exp.URL + "/metrics"}}}
	tm := startMonitor(t, cfg, Deps{})
	var before float64
	eventually(t, "a few samples", func() bool {
		r := tm.query(t, `count_over_time(demo_value[1h])`)
		if len(r) == 1 {
			before, _ = strconv.ParseFloat(r[0].Value[1].(string), 64)
		}
		return before >= 3
	})
	tm.stop()

	exp.Close() // no new samples after the restart
	tm2 := startMonitor(t, cfg, Deps{})
	r := tm2.query(t, `count_over_time(demo_value[1h])`)
	if len(r) != 1 {
		t.Fatalf("no demo_value after restart: %v", r)
	}
	if after, _ := strconv.ParseFloat(r[0].Value[1].(string), 64); after < before {
		t.Fatalf("samples after restart = %v, before = %v", after, before)
	}
}

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

func fillDisk(t *testing.T, dir string, leave int64) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for {
		var st unix.Statfs_t
		if err := unix.Statfs(dir, &st); err != nil {
			t.Fatal(err)
		}
		free := int64(st.Bavail) * int64(st.Bsize)
		if free <= leave {
			return path
		}
		if _, err := f.Write(buf[:min(int64(len(buf)), free-leave)]); err != nil {
			return path
		}
	}
}

// TestFullDiskStopsIngestionAndAlertsOnRecovery fills the filesystem under
// the TSDB: ingestion stops without crashing, and once space is back an
// alert says monitoring has a gap.
func TestFullDiskStopsIngestionAndAlertsOnRecovery(t *testing.T) {
	mnt := mountTmpfs(t, "64m")
	exp := newExporter(t)
	hook := newWebhook(t)
	tm := startMonitor(t, Config{Dir: filepath.Join(mnt, "monitor"), MinFreeDiskBytes: 8 << 20, Alerting: fastAlerting(hook.URL),
		Targets: []Target{{Name: "demo", URL: exp.URL + "/metrics"}}}, Deps{})
	eventually(t, "the demo target to be scraped", func() bool { return len(tm.query(t, `demo_value`)) == 1 })

	filler := fillDisk(t, mnt, 4<<20)
	eventually(t, "ingestion to pause", tm.store.Paused)
	// Queries keep working while ingestion is paused.
	if len(tm.query(t, `demo_value`)) != 1 {
		t.Fatal("query failed while ingestion is paused")
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	eventually(t, "ingestion to resume", func() bool { return !tm.store.Paused() })
	p := hook.waitFor(t, "MonitoringIngestionWasPaused", "firing")
	if a := p["alerts"].([]any)[0].(map[string]any); a["labels"].(map[string]any)["severity"] != "warning" {
		t.Fatalf("alert = %v", a)
	}
}
