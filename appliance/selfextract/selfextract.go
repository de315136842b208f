package selfextract

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/klauspost/compress/zstd"
)

const (
	magic       = "OUTPOST-PAYLOAD1"
	trailerSize = 128
	// EnvBinDir overrides where the program is unpacked.
	EnvBinDir = "OUTPOST_BIN_DIR"
	// programName is the unpacked file's name: it is what ps shows.
	programName = "outpost"
)

// ErrNoPayload means the file is a bare stub, not a packed binary.
var ErrNoPayload = errors.New("no packed program in this file")

// Payload locates the packed program inside a file.
type Payload struct {
	Offset, Length int64
	SHA256         string // hex, of the unpacked program
}

// Pack writes stub, program compressed, and the trailer to out.
func Pack(out io.Writer, stub, program io.Reader) error {
	if _, err := io.Copy(out, stub); err != nil {
		return fmt.Errorf("copying the stub: %w", err)
	}
	counter := &countingWriter{w: out}
	enc, err := zstd.NewWriter(counter, zstd.WithEncoderLevel(zstd.SpeedBestCompression),
		zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)), zstd.WithWindowSize(8<<20))
	if err != nil {
		return err
	}
	sum := sha256.New()
	if _, err := io.Copy(enc, io.TeeReader(program, sum)); err != nil {
		return fmt.Errorf("compressing the program: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("compressing the program: %w", err)
	}
	_, err = out.Write(trailer(counter.n, hex.EncodeToString(sum.Sum(nil))))
	return err
}

func trailer(length int64, sha string) []byte {
	t := fmt.Sprintf("%s%020d%s", magic, length, sha)
	return []byte(t + strings.Repeat("\n", trailerSize-len(t)))
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Find reads the trailer of f.
func Find(f *os.File) (Payload, error) {
	fi, err := f.Stat()
	if err != nil {
		return Payload{}, err
	}
	if fi.Size() < trailerSize {
		return Payload{}, ErrNoPayload
	}
	t := make([]byte, trailerSize)
	if _, err := f.ReadAt(t, fi.Size()-trailerSize); err != nil {
		return Payload{}, err
	}
	if !bytes.HasPrefix(t, []byte(magic)) {
		return Payload{}, ErrNoPayload
	}
	rest := t[len(magic):]
	length, err := strconv.ParseInt(string(rest[:20]), 10, 64)
	sha := string(rest[20 : 20+64])
	if _, herr := hex.DecodeString(sha); err != nil || herr != nil || length <= 0 || length > fi.Size()-trailerSize {
		return Payload{}, fmt.Errorf("the packed program's trailer is damaged; download outpost again")
	}
	return Payload{Offset: fi.Size() - trailerSize - length, Length: length, SHA256: sha}, nil
}

// BinDir is where programs are unpacked (see the package comment).
func BinDir() (string, error) {
	if d := os.Getenv(EnvBinDir); d != "" {
		return d, nil
	}
	if os.Geteuid() == 0 {
		return "/var/cache/outpost", nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no directory to unpack outpost into: %w; set %s", err, EnvBinDir)
	}
	return filepath.Join(d, "outpost"), nil
}

// Unpack makes sure the program of packed is unpacked under dir and
// returns its path. A present copy of the right size is used as it is; a
// missing one is written, checked against the SHA-256 and renamed into
// place under an exclusive lock.
func Unpack(packed string, dir string) (string, error) {
	f, err := os.Open(packed)
	if err != nil {
		return "", err
	}
	defer f.Close()
	p, err := Find(f)
	if err != nil {
		return "", err
	}
	final := filepath.Join(dir, p.SHA256[:16], programName)
	if present(final) {
		return final, nil
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return "", fmt.Errorf("unpacking outpost: %w; set %s to a writable directory", err, EnvBinDir)
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", fmt.Errorf("unpacking outpost: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("unpacking outpost: locking %s: %w", dir, err)
	}
	if present(final) { // unpacked by a concurrent first run
		return final, nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(final), ".unpack-*")
	if err != nil {
		return "", fmt.Errorf("unpacking outpost: %w", err)
	}
	defer os.Remove(tmp.Name())
	dec, err := zstd.NewReader(io.NewSectionReader(f, p.Offset, p.Length), zstd.WithDecoderConcurrency(1))
	if err != nil {
		tmp.Close()
		return "", err
	}
	sum := sha256.New()
	_, err = io.Copy(io.MultiWriter(tmp, sum), dec)
	dec.Close()
	if err == nil {
		err = tmp.Chmod(0o755)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	var pathErr *os.PathError
	switch {
	case err == nil:
	case errors.Is(err, syscall.ENOSPC):
		return "", fmt.Errorf("unpacking outpost into %s: the disk is full; free about 350 MB there or set %s", dir, EnvBinDir)
	case errors.As(err, &pathErr):
		return "", fmt.Errorf("unpacking outpost into %s: %w", dir, err)
	default: // the decoder's: the compressed bytes are not what was packed
		return "", fmt.Errorf("the packed program in %s is damaged (%v); download outpost again", packed, err)
	}
	if got := hex.EncodeToString(sum.Sum(nil)); got != p.SHA256 {
		return "", fmt.Errorf("the packed program in %s is damaged (SHA-256 %s, want %s); download outpost again", packed, got[:16], p.SHA256[:16])
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return "", fmt.Errorf("unpacking outpost: %w", err)
	}
	if d, err := os.Open(filepath.Dir(final)); err == nil {
		d.Sync()
		d.Close()
	}
	removeOthers(dir, p.SHA256[:16])
	return final, nil
}

func present(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o100 != 0
}

// removeOthers keeps the unpacked program just written and the most recent
// other one (the version before an upgrade, which may still be running)
// and deletes older ones.
func removeOthers(dir, keep string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	type version struct {
		name string
		mod  int64
	}
	var others []version
	for _, e := range entries {
		if !e.IsDir() || e.Name() == keep || len(e.Name()) != 16 {
			continue
		}
		if fi, err := e.Info(); err == nil {
			others = append(others, version{e.Name(), fi.ModTime().UnixNano()})
		}
	}
	newest := -1
	for i, v := range others {
		if newest < 0 || v.mod > others[newest].mod {
			newest = i
		}
	}
	for i, v := range others {
		if i != newest {
			os.RemoveAll(filepath.Join(dir, v.name))
		}
	}
}

// Main is the stub's main: with a payload it unpacks (first run) and execs
// the program with the same arguments; a bare stub called as
// "pack OUT PROGRAM" writes itself followed by PROGRAM to OUT (the build
// uses it).
func Main() {
	exe, err := os.Executable()
	if err == nil {
		exe, err = filepath.EvalSymlinks(exe)
	}
	if err != nil {
		fail(fmt.Errorf("finding this program's file: %w", err))
	}
	dir, err := BinDir()
	if err != nil {
		fail(err)
	}
	program, err := Unpack(exe, dir)
	if errors.Is(err, ErrNoPayload) {
		if len(os.Args) == 4 && os.Args[1] == "pack" {
			if err := packFiles(os.Args[2], exe, os.Args[3]); err != nil {
				fail(err)
			}
			return
		}
		fail(errors.New("this is the bare outpost stub, not a packed outpost binary; build outpost with make"))
	}
	if err != nil {
		fail(err)
	}
	fail(syscall.Exec(program, os.Args, os.Environ()))
}

func packFiles(out, stub, program string) error {
	s, err := os.Open(stub)
	if err != nil {
		return err
	}
	defer s.Close()
	p, err := os.Open(program)
	if err != nil {
		return err
	}
	defer p.Close()
	tmp, err := os.CreateTemp(filepath.Dir(out), ".pack-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := Pack(tmp, s, p); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o755); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "outpost:", err)
	os.Exit(1)
}
