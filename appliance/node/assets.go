package node

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

//go:embed all:assets
var embedded embed.FS

// Assets is the set of files built into the binary.
func Assets() fs.FS {
	sub, _ := fs.Sub(embedded, "assets")
	return sub
}

// ErrNoAssets means the binary was built without `make assets`.
var ErrNoAssets = errors.New("this outpost binary was built without its embedded runtime binaries; build it with `make`")

// ExtractBinaries writes the embedded host binaries into
// <dataDir>/data/<content-hash>/bin and returns that directory. The
// directory name is the hash of SHA256SUMS, so a binary of a different build
// never mixes with another's files. Extraction takes a lock, writes into a
// temporary directory, verifies every checksum, then renames it into place
// and flips the current/previous links; a crash or a racing start at any
// point leaves either the old or the new complete directory.
func ExtractBinaries(assets fs.FS, dataDir string) (string, error) {
	sums, err := fs.ReadFile(assets, "bin/SHA256SUMS")
	if errors.Is(err, fs.ErrNotExist) {
		return "", ErrNoAssets
	}
	if err != nil {
		return "", fmt.Errorf("reading embedded checksums: %w", err)
	}
	want, err := parseSums(sums)
	if err != nil {
		return "", fmt.Errorf("reading embedded checksums: %w", err)
	}
	h := sha256.Sum256(sums)
	id := hex.EncodeToString(h[:])[:16]
	base := filepath.Join(dataDir, "data")
	final := filepath.Join(base, id)
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", fmt.Errorf("creating %s: %w", base, err)
	}

	lock, err := os.OpenFile(filepath.Join(base, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", fmt.Errorf("locking %s: %w", base, err)
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return "", fmt.Errorf("locking %s: %w", base, err)
	}
	defer unix.Flock(int(lock.Fd()), unix.LOCK_UN)

	if verifyDir(filepath.Join(final, "bin"), want) == nil {
		return filepath.Join(final, "bin"), flipLinks(base, id)
	}
	// A partial or tampered directory of the same id is replaced whole.
	if err := os.RemoveAll(final); err != nil {
		return "", fmt.Errorf("removing damaged %s: %w", final, err)
	}
	tmp, err := os.MkdirTemp(base, ".tmp-"+id+"-")
	if err != nil {
		return "", fmt.Errorf("extracting binaries: %w", err)
	}
	defer os.RemoveAll(tmp)
	binDir := filepath.Join(tmp, "bin")
	if err := os.Mkdir(binDir, 0o755); err != nil {
		return "", err
	}
	for name := range want {
		if err := copyOut(assets, "bin/"+name, filepath.Join(binDir, name)); err != nil {
			return "", fmt.Errorf("extracting %s: %w", name, err)
		}
	}
	if err := verifyDir(binDir, want); err != nil {
		return "", fmt.Errorf("verifying extracted binaries: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return "", fmt.Errorf("installing extracted binaries: %w", err)
	}
	syncDir(base)
	return filepath.Join(final, "bin"), flipLinks(base, id)
}

func parseSums(data []byte) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		sum, name, ok := strings.Cut(line, "  ")
		name = strings.TrimPrefix(name, "*")
		if !ok || len(sum) != 64 || name == "" || strings.ContainsAny(name, "/\\") || name == ".." {
			return nil, fmt.Errorf("malformed line %q", line)
		}
		out[name] = sum
	}
	if len(out) == 0 {
		return nil, errors.New("no entries")
	}
	return out, sc.Err()
}

func verifyDir(dir string, want map[string]string) error {
	for name, sum := range want {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return err
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != sum {
			return fmt.Errorf("%s: checksum %s, want %s", name, got, sum)
		}
	}
	return nil
}

func copyOut(assets fs.FS, src, dst string) error {
	in, err := assets.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// flipLinks points "current" at id and "previous" at what current was.
func flipLinks(base, id string) error {
	cur := filepath.Join(base, "current")
	old, _ := os.Readlink(cur)
	if old == id {
		return nil
	}
	if old != "" {
		if err := replaceSymlink(old, filepath.Join(base, "previous")); err != nil {
			return err
		}
	}
	return replaceSymlink(id, cur)
}

func replaceSymlink(target, link string) error {
	tmp := link + ".new"
	os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("linking %s: %w", link, err)
	}
	if err := os.Rename(tmp, link); err != nil {
		return fmt.Errorf("linking %s: %w", link, err)
	}
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
