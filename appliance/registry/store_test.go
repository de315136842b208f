package registry

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/opencontainers/go-digest"
)

// TestBlobWriterChunks writes blobs in aligned, unaligned and odd-sized
// chunks (the direct I/O path and its fallbacks), on the test's filesystem
// and on tmpfs (no O_DIRECT), and checks what lands in the store.
func TestBlobWriterChunks(t *testing.T) {
	dirs := []string{t.TempDir()}
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		shm, err := os.MkdirTemp("/dev/shm", "outpost-test-")
		if err == nil {
			defer os.RemoveAll(shm)
			dirs = append(dirs, shm)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 3<<20+1234)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	aligned := make([]byte, 1<<20+DirectIOAlignment)
	for _, dir := range dirs {
		for _, tc := range []struct {
			name  string
			chunk func(i int) int
			shift int // offset of the source buffer from alignment
		}{
			{"aligned 1 MiB", func(int) int { return 1 << 20 }, 0},
			{"unaligned buffer", func(int) int { return 1 << 20 }, 1},
			{"odd sizes", func(i int) int { return 4096*(i+1) + 7*i }, 0},
		} {
			t.Run(dir+" "+tc.name, func(t *testing.T) {
				s, err := OpenStore(dir + "/" + tc.name)
				if err != nil {
					t.Fatal(err)
				}
				st, err := s.NewStaging()
				if err != nil {
					t.Fatal(err)
				}
				defer st.Close()
				d := digest.FromBytes(data)
				w, err := s.NewBlobWriter(st, d, int64(len(data)))
				if err != nil {
					t.Fatal(err)
				}
				base := int((DirectIOAlignment - uintptrOf(aligned)%DirectIOAlignment) % DirectIOAlignment)
				for off, i := 0, 0; off < len(data); i++ {
					n := min(tc.chunk(i), len(data)-off, 1<<20)
					buf := aligned[base+tc.shift : base+tc.shift+n]
					copy(buf, data[off:off+n])
					if _, err := w.Write(buf); err != nil {
						t.Fatal(err)
					}
					off += n
				}
				if err := w.Commit(); err != nil {
					t.Fatal(err)
				}
				got, err := os.ReadFile(s.blobDataPath(d))
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("stored blob differs (%v)", err)
				}
			})
		}
	}
}

func TestBlobWriterRejectsWrongContent(t *testing.T) {
	s, err := OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	st, _ := s.NewStaging()
	defer st.Close()
	want := []byte("expected content")
	for _, got := range [][]byte{[]byte("expected contenT"), []byte("expected"), []byte("expected content!")} {
		w, err := s.NewBlobWriter(st, digest.FromBytes(want), int64(len(want)))
		if err != nil {
			t.Fatal(err)
		}
		w.Write(got)
		err = w.Commit()
		var mismatch *DigestMismatchError
		if !errors.As(err, &mismatch) {
			t.Fatalf("content %q committed as %q: %v", got, want, err)
		}
		if s.HasBlob(digest.FromBytes(want), int64(len(want))) {
			t.Fatal("a wrong blob became present")
		}
	}
}
