package bundle

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/outpost-platform/outpost/appliance/registry"
	"github.com/outpost-platform/outpost/appliance/registry/registrytest"
	"github.com/outpost-platform/outpost/appliance/state"
)

// TestImportChild is the process TestKillDuringImport kills. It imports
// the bundle named by the environment into a data directory, reports each
// finished blob on stdout, and stops (blocks) where told to, waiting to be
// killed.
func TestImportChild(t *testing.T) {
	dataDir := os.Getenv("OUTPOST_TEST_CHILD_DATA_DIR")
	if dataDir == "" {
		t.Skip("only runs as the child of TestKillDuringImport")
	}
	stopAt := os.Getenv("OUTPOST_TEST_CHILD_STOP")
	db, err := state.Open(filepath.Join(dataDir, "state", "outpost.db"))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.New(registry.Config{Dir: filepath.Join(dataDir, "registry")}, db, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	im, err := NewImporter(reg, db, nil, WithContentDir(filepath.Join(dataDir, "bundles")))
	if err != nil {
		t.Fatal(err)
	}
	im.linkHook = func(stage string) {
		if stage == stopAt || (strings.HasPrefix(stopAt, "tagged") && strings.HasPrefix(stage, "tagged")) {
			fmt.Println("STOPPED " + stage)
			select {}
		}
	}
	var in io.Reader = os.Stdin
	if path := os.Getenv("OUTPOST_TEST_CHILD_BUNDLE"); path != "" {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		in = f
	}
	done := -1
	_, err = im.Import(context.Background(), in, ImportOptions{AllowUnsigned: true}, func(p Progress) {
		if p.BlobsDone != done {
			done = p.BlobsDone
			fmt.Printf("BLOBS %d\n", done)
		}
	})
	fmt.Printf("FINISHED %v\n", err)
}

// TestKillDuringImport kills an import with SIGKILL at several points and
// checks that nothing partial is visible and that re-running the import
// finishes the job, reusing what the killed run stored.
func TestKillDuringImport(t *testing.T) {
	dir := t.TempDir()
	img := ociImage(t, randomLayer(t, 200_000), randomLayer(t, 300_000), randomLayer(t, 250_000), randomLayer(t, 400_000))
	img2 := ociImage(t, randomLayer(t, 100_000), randomLayer(t, 150_000))
	writeLayout(t, filepath.Join(dir, "one"), img, "1")
	writeLayout(t, filepath.Join(dir, "two"), img2, "1")
	writeChart(t, filepath.Join(dir, "c.tgz"), "c", "1.0.0")
	spec := &Spec{Name: "big", Version: "1.0.0", Charts: []FileSpec{{Path: "c.tgz"}}, Images: []ImageSpec{
		{Ref: "example.com/big/one:1", From: "oci:./one"},
		{Ref: "example.com/big/two:1", From: "oci:./two"},
	}}
	spec.SetDir(dir)
	bundlePath := filepath.Join(dir, "big.bundle")
	m, err := Create(context.Background(), spec, bundlePath, CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(bundlePath)
	entries, _ := readEntries(t, bundlePath)
	lastLayer := entries[len(entries)-1]

	tests := []struct {
		name string
		// feed is how many bytes of the bundle go to the child's stdin
		// (0: the child reads the file itself).
		feed       int64
		waitBlobs  int    // kill once the child reported this many blobs
		stopAt     string // or once it stopped at this link stage
		wantImages int    // images visible after the kill
	}{
		{name: "mid-blob", feed: lastLayer.dataOffset + lastLayer.hdr.Size/2, waitBlobs: len(m.Blobs) - 1},
		{name: "after all blobs, before any link", stopAt: "linked"},
		{name: "between tags", stopAt: "tagged", wantImages: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dataDir := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^TestImportChild$", "-test.v")
			cmd.Env = append(os.Environ(), "OUTPOST_TEST_CHILD_DATA_DIR="+dataDir, "OUTPOST_TEST_CHILD_STOP="+tc.stopAt)
			var stdin io.WriteCloser
			if tc.feed > 0 {
				stdin, _ = cmd.StdinPipe()
			} else {
				cmd.Env = append(cmd.Env, "OUTPOST_TEST_CHILD_BUNDLE="+bundlePath)
			}
			out, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if stdin != nil {
				go func() { stdin.Write(data[:tc.feed]) }() // then block: never closed
			}
			sc := bufio.NewScanner(out)
			reached := false
			for sc.Scan() {
				line := sc.Text()
				if n, ok := strings.CutPrefix(line, "BLOBS "); ok && tc.waitBlobs > 0 {
					if k, _ := strconv.Atoi(n); k >= tc.waitBlobs {
						reached = true
						break
					}
				}
				if strings.HasPrefix(line, "STOPPED ") {
					reached = true
					break
				}
				if strings.HasPrefix(line, "FINISHED") {
					t.Fatalf("child finished before the kill point: %s", line)
				}
			}
			if !reached {
				t.Fatalf("child exited early: %v", sc.Err())
			}
			cmd.Process.Kill() // SIGKILL
			cmd.Wait()

			s := &site{env: registrytest.Start(t, registrytest.Options{DataDir: dataDir})}
			images, err := s.env.Registry.Images(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(images) != tc.wantImages {
				t.Fatalf("after the kill %d images are visible, want %d: %+v", len(images), tc.wantImages, images)
			}
			for _, img := range images {
				if err := validate.Image(s.pull(t, img.Repository, img.Tag)); err != nil {
					t.Fatalf("visible image %s:%s is incomplete: %v", img.Repository, img.Tag, err)
				}
			}
			im, err := NewImporter(s.env.Registry, s.env.DB, nil, WithContentDir(filepath.Join(dataDir, "bundles")))
			if err != nil {
				t.Fatal(err)
			}
			res, err := im.ImportFile(context.Background(), bundlePath, ImportOptions{AllowUnsigned: true}, nil)
			if err != nil {
				t.Fatalf("re-import after kill: %v", err)
			}
			if res.BlobsSkipped == 0 {
				t.Errorf("re-import reused nothing the killed run stored: %+v", res)
			}
			for _, r := range []string{"example.com/big/one", "example.com/big/two"} {
				if err := validate.Image(s.pull(t, r, "1")); err != nil {
					t.Errorf("%s after re-import: %v", r, err)
				}
			}
			if left, _ := filepath.Glob(filepath.Join(dataDir, "registry", "staging", "*")); len(left) > 0 {
				t.Errorf("staging not cleaned: %v", left)
			}
		})
	}
}
