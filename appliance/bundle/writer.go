package bundle

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"github.com/opencontainers/go-digest"
)

// blobSource is a blob to write and where its bytes come from.
type blobSource struct {
	Descriptor
	what string // for errors: "layer of docker.io/library/nginx:1.27"
	open func(ctx context.Context) (io.ReadCloser, error)
}

// archiveWriter writes the entries of a bundle in the required order.
type archiveWriter struct {
	tw    *tar.Writer
	mtime time.Time
	buf   []byte
}

func newArchiveWriter(w io.Writer, mtime time.Time) *archiveWriter {
	return &archiveWriter{tw: tar.NewWriter(w), mtime: mtime.UTC().Truncate(time.Second), buf: make([]byte, 1<<20)}
}

func (aw *archiveWriter) header(name string, size int64) error {
	hdr := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     name,
		Size:     size,
		Mode:     0o644,
		ModTime:  aw.mtime,
		Format:   tar.FormatUSTAR,
	}
	if size >= 1<<33-1 { // ustar's size field holds < 8 GiB
		hdr.Format = tar.FormatPAX
	}
	return aw.tw.WriteHeader(hdr)
}

func (aw *archiveWriter) file(name string, data []byte) error {
	if err := aw.header(name, int64(len(data))); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if _, err := aw.tw.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}

// blob copies one blob from its source, checking size and digest.
func (aw *archiveWriter) blob(ctx context.Context, b blobSource, progress func(int64)) error {
	rc, err := b.open(ctx)
	if err != nil {
		return fmt.Errorf("reading %s %s: %w", b.what, b.Digest, err)
	}
	defer rc.Close()
	if err := aw.header(blobPrefix+b.Digest.Encoded(), b.Size); err != nil {
		return fmt.Errorf("writing %s %s: %w", b.what, b.Digest, err)
	}
	h := sha256.New()
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		k, rerr := rc.Read(aw.buf)
		if k > 0 {
			if n+int64(k) > b.Size {
				return fmt.Errorf("%s %s: the source returned more than its %d bytes", b.what, b.Digest, b.Size)
			}
			h.Write(aw.buf[:k])
			if _, err := aw.tw.Write(aw.buf[:k]); err != nil {
				return fmt.Errorf("writing %s %s: %w", b.what, b.Digest, err)
			}
			n += int64(k)
			if progress != nil {
				progress(int64(k))
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return fmt.Errorf("reading %s %s: %w", b.what, b.Digest, rerr)
		}
	}
	if n != b.Size {
		return fmt.Errorf("%s %s: the source returned %d bytes, expected %d", b.what, b.Digest, n, b.Size)
	}
	if got := digest.NewDigestFromEncoded(digest.SHA256, hex.EncodeToString(h.Sum(nil))); got != b.Digest {
		return fmt.Errorf("%s %s: the source returned content with digest %s", b.what, b.Digest, got)
	}
	return nil
}

func (aw *archiveWriter) close() error { return aw.tw.Close() }
