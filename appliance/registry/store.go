package registry

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"
)

// Store is the registry's on-disk content in distribution's filesystem
// storage layout (<dir>/docker/registry/v2/...). The embedded distribution
// server serves it over HTTP; Store reads and writes it directly so that local
// imports and garbage collection need no HTTP round trips.
//
// Writes follow one rule: a file becomes visible under its final name only
// when complete (temp file in the same filesystem, fsync, rename). A blob is
// reachable through the HTTP API only once a repository links it, and links
// are written after the blobs they point to are durable.
type Store struct {
	dir  string // the distribution "rootdirectory"
	root string // dir/docker/registry/v2

	mu      sync.Mutex
	pins    map[digest.Digest]int  // blobs an import is using; GC never deletes them
	touched map[digest.Digest]bool // blobs named by requests while a GC runs; nil when no GC runs
	gcMu    sync.Mutex             // one GC at a time
}

// OpenStore prepares the storage directory dir.
func OpenStore(dir string) (*Store, error) {
	s := &Store{
		dir:  dir,
		root: filepath.Join(dir, "docker", "registry", "v2"),
		pins: map[digest.Digest]int{},
	}
	for _, d := range []string{filepath.Join(s.root, "blobs", "sha256"), filepath.Join(s.root, "repositories"), s.stagingRoot()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("creating registry storage %s: %w", d, err)
		}
	}
	return s, nil
}

// Dir returns the storage directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) stagingRoot() string { return filepath.Join(s.dir, "staging") }

func (s *Store) blobDir(d digest.Digest) string {
	hexPart := d.Encoded()
	return filepath.Join(s.root, "blobs", d.Algorithm().String(), hexPart[:2], hexPart)
}

func (s *Store) blobDataPath(d digest.Digest) string { return filepath.Join(s.blobDir(d), "data") }

func (s *Store) repoDir(repo string) string {
	return filepath.Join(s.root, "repositories", filepath.FromSlash(repo))
}

func (s *Store) layerLinkPath(repo string, d digest.Digest) string {
	return filepath.Join(s.repoDir(repo), "_layers", d.Algorithm().String(), d.Encoded(), "link")
}

func (s *Store) revisionLinkPath(repo string, d digest.Digest) string {
	return filepath.Join(s.repoDir(repo), "_manifests", "revisions", d.Algorithm().String(), d.Encoded(), "link")
}

func (s *Store) tagDir(repo, tag string) string {
	return filepath.Join(s.repoDir(repo), "_manifests", "tags", tag)
}

func (s *Store) tagCurrentPath(repo, tag string) string {
	return filepath.Join(s.tagDir(repo, tag), "current", "link")
}

func (s *Store) tagIndexPath(repo, tag string, d digest.Digest) string {
	return filepath.Join(s.tagDir(repo, tag), "index", d.Algorithm().String(), d.Encoded(), "link")
}

// BlobSize reports whether the blob d is stored and its size.
func (s *Store) BlobSize(d digest.Digest) (int64, bool) {
	if d.Validate() != nil {
		return 0, false
	}
	fi, err := os.Stat(s.blobDataPath(d))
	if err != nil || !fi.Mode().IsRegular() {
		return 0, false
	}
	return fi.Size(), true
}

// HasBlob reports whether the blob d is stored with the given size.
func (s *Store) HasBlob(d digest.Digest, size int64) bool {
	n, ok := s.BlobSize(d)
	return ok && n == size
}

// maxManifestSize bounds how much of a manifest blob is ever read into memory.
const maxManifestSize = 4 << 20

// ReadManifest returns the content of the blob d, which must be a manifest or
// index (at most 4 MiB). The content is verified against d.
func (s *Store) ReadManifest(d digest.Digest) ([]byte, error) {
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("reading manifest %s: %w", d, err)
	}
	f, err := os.Open(s.blobDataPath(d))
	if err != nil {
		return nil, fmt.Errorf("reading manifest %s: %w", d, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxManifestSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading manifest %s: %w", d, err)
	}
	if len(data) > maxManifestSize {
		return nil, fmt.Errorf("reading manifest %s: larger than %d bytes", d, maxManifestSize)
	}
	if got := digest.FromBytes(data); got != d {
		return nil, fmt.Errorf("reading manifest %s: stored content has digest %s", d, got)
	}
	return data, nil
}

// OpenBlob opens the stored blob d for reading.
func (s *Store) OpenBlob(d digest.Digest) (*os.File, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return os.Open(s.blobDataPath(d))
}

// Pin keeps the blobs ds from being garbage collected until the returned
// function is called. Imports pin every blob they write or rely on before
// they check what is present.
func (s *Store) Pin(ds ...digest.Digest) (unpin func()) {
	s.mu.Lock()
	for _, d := range ds {
		s.pins[d]++
	}
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			for _, d := range ds {
				if s.pins[d]--; s.pins[d] <= 0 {
					delete(s.pins, d)
				}
			}
			s.mu.Unlock()
		})
	}
}

// touch records that a request named the blobs ds. While a garbage
// collection runs, touched blobs are not deleted: the request may be about to
// reference them (a client that found a blob present will not upload it).
func (s *Store) touch(ds ...digest.Digest) {
	s.mu.Lock()
	if s.touched != nil {
		for _, d := range ds {
			s.touched[d] = true
		}
	}
	s.mu.Unlock()
}

// gcRunning reports whether a garbage collection is recording touches.
func (s *Store) gcRunning() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.touched != nil
}

// Staging is a private directory in the store's filesystem for one import's
// temporary files. It holds an exclusive lock on itself so that cleanup by a
// later import never removes the files of one still running.
type Staging struct {
	dir  string
	lock *os.File
}

// NewStaging creates a staging directory and removes those left behind by
// imports that are no longer running (killed, power cut).
func (s *Store) NewStaging() (*Staging, error) {
	s.cleanStaging()
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("creating staging directory: %w", err)
	}
	name := hex.EncodeToString(b[:])
	// Build the directory under a hidden name and lock it before it gets
	// its real name: cleanup never sees an unlocked live directory.
	tmp := filepath.Join(s.stagingRoot(), "."+name)
	dir := filepath.Join(s.stagingRoot(), name)
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return nil, fmt.Errorf("creating staging directory: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(tmp, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("creating staging directory: %w", err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lock.Close()
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("locking staging directory: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		lock.Close()
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("creating staging directory: %w", err)
	}
	return &Staging{dir: dir, lock: lock}, nil
}

// Dir returns the staging directory's path.
func (st *Staging) Dir() string { return st.dir }

// Close removes the staging directory and its files.
func (st *Staging) Close() error {
	err := os.RemoveAll(st.dir)
	st.lock.Close()
	return err
}

// cleanStaging removes staging directories whose lock nobody holds.
func (s *Store) cleanStaging() {
	entries, err := os.ReadDir(s.stagingRoot())
	if err != nil {
		return
	}
	for _, e := range entries {
		dir := filepath.Join(s.stagingRoot(), e.Name())
		lock, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_RDWR, 0)
		if err != nil || strings.HasPrefix(e.Name(), ".") {
			if lock != nil {
				lock.Close()
			}
			// Being created (hidden name), or left by an import that
			// died while creating it: remove it only once it is old.
			if fi, err := os.Stat(dir); err == nil && time.Since(fi.ModTime()) > time.Hour {
				os.RemoveAll(dir)
			}
			continue
		}
		if unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil {
			os.RemoveAll(dir)
		}
		lock.Close()
	}
}

// DigestMismatchError reports content whose digest or size is not the one
// it was announced with.
type DigestMismatchError struct {
	Expected     digest.Digest
	Actual       digest.Digest // empty when the size was wrong
	ExpectedSize int64
	ActualSize   int64
}

func (e *DigestMismatchError) Error() string {
	if e.ActualSize != e.ExpectedSize {
		return fmt.Sprintf("blob %s has %d bytes, expected %d", e.Expected, e.ActualSize, e.ExpectedSize)
	}
	return fmt.Sprintf("blob %s has digest %s: content does not match", e.Expected, e.Actual)
}

// BlobWriter writes one blob into a staging directory, hashing as it goes,
// and moves it into the blob store only when its digest and size match.
type BlobWriter struct {
	store    *Store
	expected digest.Digest
	size     int64
	f        *os.File
	h        hash.Hash
	n        int64
	verified bool
	// direct is set while the file is open with O_DIRECT: aligned full
	// blocks go from the caller's buffer to the disk without a copy into
	// the page cache, which saves a memory copy per byte on a machine
	// whose import is CPU-bound (hashing). The unaligned tail is written
	// after turning O_DIRECT off.
	direct bool
}

// DirectIOAlignment is the buffer and offset alignment that lets
// BlobWriter write without copying through the page cache.
const DirectIOAlignment = 4096

// NewBlobWriter starts writing the blob expected (size bytes) in staging.
func (s *Store) NewBlobWriter(staging *Staging, expected digest.Digest, size int64) (*BlobWriter, error) {
	if err := expected.Validate(); err != nil || expected.Algorithm() != digest.SHA256 {
		return nil, fmt.Errorf("writing blob %q: not a sha256 digest", expected)
	}
	f, direct, err := createBlobFile(staging.dir, expected.Encoded()[:12])
	if err != nil {
		return nil, fmt.Errorf("writing blob %s: %w", expected, err)
	}
	return &BlobWriter{store: s, expected: expected, size: size, f: f, h: sha256.New(), direct: direct}, nil
}

// createBlobFile creates a new file in dir, with O_DIRECT where the
// filesystem supports it (not tmpfs).
func createBlobFile(dir, prefix string) (*os.File, bool, error) {
	for range 10 {
		var b [6]byte
		rand.Read(b[:])
		name := filepath.Join(dir, prefix+"-"+hex.EncodeToString(b[:]))
		f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY|unix.O_DIRECT, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if errors.Is(err, unix.EINVAL) {
			f, err = os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
			return f, false, err
		}
		return f, err == nil, err
	}
	return nil, false, errors.New("cannot create a unique temporary file")
}

// Write writes p, failing once more than the announced size arrives.
func (w *BlobWriter) Write(p []byte) (int, error) {
	if w.n+int64(len(p)) > w.size {
		return 0, &DigestMismatchError{Expected: w.expected, ExpectedSize: w.size, ActualSize: w.n + int64(len(p))}
	}
	w.h.Write(p)
	written := 0
	if w.direct {
		aligned := len(p) &^ (DirectIOAlignment - 1)
		if aligned > 0 && uintptr(unsafe.Pointer(&p[0]))%DirectIOAlignment == 0 && w.n%DirectIOAlignment == 0 {
			n, err := w.f.Write(p[:aligned])
			written += n
			w.n += int64(n)
			if err != nil {
				return written, err
			}
		}
		if written < len(p) {
			if err := w.stopDirect(); err != nil {
				return written, err
			}
		}
	}
	n, err := w.f.Write(p[written:])
	w.n += int64(n)
	return written + n, err
}

// stopDirect turns O_DIRECT off for the rest of the file.
func (w *BlobWriter) stopDirect() error {
	fd := int(w.f.Fd())
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err == nil {
		_, err = unix.FcntlInt(uintptr(fd), unix.F_SETFL, flags&^unix.O_DIRECT)
	}
	if err != nil {
		return fmt.Errorf("writing blob %s: %w", w.expected, err)
	}
	w.direct = false
	return nil
}

// ReadFrom copies r into the blob with a large buffer.
func (w *BlobWriter) ReadFrom(r io.Reader) (int64, error) {
	buf := make([]byte, 1<<20)
	return io.CopyBuffer(struct{ io.Writer }{w}, r, buf)
}

// Verify checks the size and digest of what was written.
func (w *BlobWriter) Verify() error {
	if w.n != w.size {
		return &DigestMismatchError{Expected: w.expected, ExpectedSize: w.size, ActualSize: w.n}
	}
	actual := digest.NewDigestFromEncoded(digest.SHA256, hex.EncodeToString(w.h.Sum(nil)))
	if actual != w.expected {
		return &DigestMismatchError{Expected: w.expected, Actual: actual, ExpectedSize: w.size, ActualSize: w.n}
	}
	w.verified = true
	return nil
}

// Commit makes the verified blob durable and moves it to its place in the
// blob store. Verify must have succeeded.
func (w *BlobWriter) Commit() error {
	if !w.verified {
		if err := w.Verify(); err != nil {
			w.Abort()
			return err
		}
	}
	defer w.f.Close()
	if err := w.f.Sync(); err != nil {
		w.Abort()
		return fmt.Errorf("writing blob %s: %w", w.expected, err)
	}
	if err := w.f.Close(); err != nil {
		w.Abort()
		return fmt.Errorf("writing blob %s: %w", w.expected, err)
	}
	if err := os.MkdirAll(w.store.blobDir(w.expected), 0o755); err != nil {
		w.Abort()
		return fmt.Errorf("writing blob %s: %w", w.expected, err)
	}
	if err := os.Rename(w.f.Name(), w.store.blobDataPath(w.expected)); err != nil {
		w.Abort()
		return fmt.Errorf("writing blob %s: %w", w.expected, err)
	}
	return nil
}

// Abort discards the blob.
func (w *BlobWriter) Abort() {
	w.f.Close()
	os.Remove(w.f.Name())
}

// Sync flushes everything written to the store's filesystem to disk. Links
// are written only after a Sync so that no link ever points at a blob a power
// cut could lose.
func (s *Store) Sync() error {
	f, err := os.Open(s.root)
	if err != nil {
		return fmt.Errorf("syncing registry storage: %w", err)
	}
	defer f.Close()
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return fmt.Errorf("syncing registry storage: %w", err)
	}
	return nil
}

// writeLink atomically writes a distribution link file naming d.
func writeLink(path string, d digest.Digest) error {
	if cur, err := os.ReadFile(path); err == nil && string(cur) == d.String() {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".link-*")
	if err != nil {
		return err
	}
	if _, err := tmp.WriteString(d.String()); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// readLink reads a distribution link file.
func readLink(path string) (digest.Digest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	d := digest.Digest(strings.TrimSpace(string(b)))
	if err := d.Validate(); err != nil {
		return "", fmt.Errorf("link %s: %w", path, err)
	}
	return d, nil
}

// FreeBytes reports the space available to the registry's storage.
func (s *Store) FreeBytes() (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(s.dir, &st); err != nil {
		return 0, fmt.Errorf("checking free space in %s: %w", s.dir, err)
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// isNotExist reports a missing file or directory.
func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
