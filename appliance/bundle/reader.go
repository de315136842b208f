package bundle

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/opencontainers/go-digest"
)

// FormatError reports a file that is not a well-formed bundle: wrong magic,
// truncation, unexpected or out-of-order entries, links, sizes over limits.
type FormatError struct{ Msg string }

func (e *FormatError) Error() string { return e.Msg }

func formatErrorf(format string, a ...any) error { return &FormatError{Msg: fmt.Sprintf(format, a...)} }

// source counts the bytes consumed from the underlying reader, lets the
// first bytes be inspected before tar sees them, and passes seeks through
// so that tar skips unwanted entries of a file without reading them.
type source struct {
	r      io.Reader
	seeker io.Seeker // nil when r cannot seek
	prefix []byte
	n      int64
}

func newSource(r io.Reader) *source {
	s := &source{r: r}
	if sk, ok := r.(io.Seeker); ok {
		if _, err := sk.Seek(0, io.SeekCurrent); err == nil {
			s.seeker = sk
		}
	}
	return s
}

func (s *source) Read(p []byte) (int, error) {
	if len(s.prefix) > 0 {
		n := copy(p, s.prefix)
		s.prefix = s.prefix[n:]
		s.n += int64(n)
		return n, nil
	}
	n, err := s.r.Read(p)
	s.n += int64(n)
	return n, err
}

// Seek supports only relative forward seeks, which is what tar uses.
func (s *source) Seek(offset int64, whence int) (int64, error) {
	if s.seeker == nil || whence != io.SeekCurrent || offset < 0 {
		return -1, errors.New("seek not supported")
	}
	if offset == 0 {
		return s.n, nil
	}
	if k := int64(len(s.prefix)); k > 0 {
		if offset <= k {
			s.prefix = s.prefix[offset:]
			s.n += offset
			return s.n, nil
		}
		s.prefix = nil
		s.n += k
		offset -= k
	}
	if _, err := s.seeker.Seek(offset, io.SeekCurrent); err != nil {
		return -1, err
	}
	s.n += offset
	return s.n, nil
}

// peek reads up to n bytes without consuming them.
func (s *source) peek(n int) []byte {
	buf := make([]byte, n)
	k, _ := io.ReadFull(s.r, buf)
	s.prefix = buf[:k]
	return s.prefix
}

// Reader reads a bundle as a stream: the header entries at once, then the
// OCI layout entries and blobs in archive order, each checked against the
// manifest. It never writes anything.
type Reader struct {
	src *source
	tr  *tar.Reader

	// Manifest is the parsed and validated bundle.json.
	Manifest *Manifest
	// RawManifest holds bundle.json's bytes; Digest is their digest, the
	// value signatures cover.
	RawManifest []byte
	Digest      digest.Digest
	// Signatures are the entries of bundle.sig, not yet verified.
	Signatures []Signature

	sigOffset int64 // offset of bundle.sig's content in the file
	entryEnd  int64 // offset just past the current entry's padded content
	next      int   // index in Manifest.Blobs of the next blob
	layout    bool  // oci-layout and index.json were read
}

// NewReader reads the magic entry, bundle.json and bundle.sig from r and
// validates the manifest.
func NewReader(r io.Reader) (*Reader, error) {
	src := newSource(r)
	head := src.peek(512)
	switch {
	case len(head) == 0:
		return nil, formatErrorf("not an Outpost bundle: the file is empty")
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		return nil, formatErrorf("not an Outpost bundle: the file is gzip-compressed; bundles are plain tar files, decompress it first")
	case len(head) >= 4 && bytes.Equal(head[:4], []byte("PK\x03\x04")):
		return nil, formatErrorf("not an Outpost bundle: the file is a zip archive")
	}
	br := &Reader{src: src, tr: tar.NewReader(src)}
	hdr, err := br.tr.Next()
	if err != nil || hdr.Name != magicEntry {
		return nil, formatErrorf("not an Outpost bundle: it does not start with the %q entry (wrong magic)", magicEntry)
	}
	if hdr.Typeflag != tar.TypeReg || hdr.Size > 64 {
		return nil, formatErrorf("not an Outpost bundle: malformed %q entry", magicEntry)
	}
	magic, err := io.ReadAll(br.tr)
	if err != nil {
		return nil, br.truncated(err, "the header")
	}
	if string(magic) != magicContent {
		var v int
		if _, err := fmt.Sscanf(string(magic), "outpost-bundle %d\n", &v); err == nil && v > FormatVersion {
			return nil, formatErrorf("bundle format %d is newer than this Outpost reads (%d); upgrade Outpost first", v, FormatVersion)
		}
		return nil, formatErrorf("not an Outpost bundle: unrecognized magic %q", strings.TrimSpace(string(magic)))
	}

	hdr, err = br.entry(manifestEntry, -1)
	if err != nil {
		return nil, err
	}
	if hdr.Size > maxManifestSize {
		return nil, formatErrorf("bundle manifest claims %d bytes, over the %d MiB limit: the file is damaged or not a bundle", hdr.Size, maxManifestSize>>20)
	}
	br.RawManifest, err = io.ReadAll(br.tr)
	if err != nil {
		return nil, br.truncated(err, "bundle.json")
	}
	br.Digest = digest.FromBytes(br.RawManifest)
	dec := json.NewDecoder(bytes.NewReader(br.RawManifest))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, formatErrorf("bundle.json is not a valid bundle manifest (%v): the file is damaged or was modified", err)
	}
	br.Manifest = &m

	if _, err = br.entry(sigEntry, SignatureSlotSize); err != nil {
		return nil, err
	}
	br.sigOffset = src.n
	slot, err := io.ReadAll(br.tr)
	if err != nil {
		return nil, br.truncated(err, "bundle.sig")
	}
	if br.Signatures, err = decodeSignatureSlot(slot); err != nil {
		return nil, err
	}
	// Validate after the signature is read, so callers can report who
	// signed a manifest even when it is semantically invalid.
	if err := m.Validate(); err != nil {
		return nil, &FormatError{Msg: err.Error()}
	}
	return br, nil
}

// Offset is the number of bytes consumed from the file so far.
func (br *Reader) Offset() int64 { return br.src.n }

// entry reads the next header and checks that it is the regular file name
// (of size bytes unless size < 0).
func (br *Reader) entry(name string, size int64) (*tar.Header, error) {
	hdr, err := br.tr.Next()
	if err == io.EOF {
		return nil, formatErrorf("the bundle is truncated: it ends before %s", name)
	}
	if err != nil {
		return nil, br.truncated(err, name)
	}
	switch hdr.Typeflag {
	case tar.TypeReg:
	case tar.TypeSymlink, tar.TypeLink:
		return nil, formatErrorf("bundle entry %q is a link (to %q); bundles contain only regular files", hdr.Name, hdr.Linkname)
	default:
		return nil, formatErrorf("bundle entry %q has tar type %q; bundles contain only regular files", hdr.Name, string(hdr.Typeflag))
	}
	if hdr.Name != name {
		return nil, formatErrorf("bundle entry %q is not the expected %q: the file is damaged or was modified", hdr.Name, name)
	}
	if size >= 0 && hdr.Size != size {
		return nil, formatErrorf("bundle entry %q has %d bytes, the manifest says %d: the file is damaged or was modified", name, hdr.Size, size)
	}
	br.entryEnd = br.src.n + (hdr.Size+511)/512*512
	return hdr, nil
}

func (br *Reader) truncated(err error, where string) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return formatErrorf("the bundle is truncated: it ends inside %s (after %d bytes)", where, br.src.n)
	}
	var fe *FormatError
	if errors.As(err, &fe) {
		return err
	}
	if errors.Is(err, tar.ErrHeader) {
		return formatErrorf("the bundle is damaged: invalid tar header before %s (at byte %d)", where, br.src.n)
	}
	return fmt.Errorf("reading bundle (%s): %w", where, err)
}

// ReadLayout reads the oci-layout and index.json entries and returns
// index.json, verified against the manifest.
func (br *Reader) ReadLayout() ([]byte, error) {
	if br.layout {
		return nil, errors.New("reading bundle layout: already read")
	}
	if _, err := br.entry(layoutEntry, int64(len(layoutContent))); err != nil {
		return nil, err
	}
	layout, err := io.ReadAll(br.tr)
	if err != nil {
		return nil, br.truncated(err, layoutEntry)
	}
	if string(layout) != layoutContent {
		return nil, formatErrorf("bundle entry oci-layout is %q, want %s: the file is damaged or was modified", layout, layoutContent)
	}
	idx := br.Manifest.Index
	if idx.Size > maxIndexSize {
		return nil, formatErrorf("bundle index.json claims %d bytes, over the %d MiB limit", idx.Size, maxIndexSize>>20)
	}
	if _, err := br.entry(indexEntry, idx.Size); err != nil {
		return nil, err
	}
	index, err := io.ReadAll(br.tr)
	if err != nil {
		return nil, br.truncated(err, indexEntry)
	}
	if digest.FromBytes(index) != idx.Digest {
		return nil, &DigestError{Digest: idx.Digest, What: "index.json"}
	}
	br.layout = true
	return index, nil
}

// NextBlob advances to the next blob of the archive and returns its
// descriptor and content (exactly Size bytes, unverified: callers hash it).
// It returns io.EOF after the last blob once the archive's end is checked.
func (br *Reader) NextBlob() (Descriptor, io.Reader, error) {
	if !br.layout {
		if _, err := br.ReadLayout(); err != nil {
			return Descriptor{}, nil, err
		}
	}
	blobs := br.Manifest.Blobs
	if br.next == len(blobs) {
		hdr, err := br.tr.Next()
		if err == io.EOF {
			// archive/tar accepts a file that simply stops after the last
			// entry; a bundle must end with the two zero blocks.
			if br.src.n < br.entryEnd+1024 {
				return Descriptor{}, nil, formatErrorf("the bundle is truncated: the end-of-archive marker is missing")
			}
			return Descriptor{}, nil, io.EOF
		}
		if err != nil {
			return Descriptor{}, nil, br.truncated(err, "the end of the archive")
		}
		return Descriptor{}, nil, formatErrorf("unexpected bundle entry %q after the last blob: the file is damaged or was modified", hdr.Name)
	}
	d := blobs[br.next]
	where := "blob " + d.Digest.String()
	if _, err := br.entry(blobPrefix+d.Digest.Encoded(), d.Size); err != nil {
		var fe *FormatError
		if errors.As(err, &fe) && strings.Contains(fe.Msg, "truncated") {
			return Descriptor{}, nil, formatErrorf("the bundle is truncated: it ends before %s", where)
		}
		return Descriptor{}, nil, err
	}
	br.next++
	return d, &blobReader{br: br, where: where}, nil
}

// blobReader turns an early end of a blob into a truncation error.
type blobReader struct {
	br    *Reader
	where string
}

func (b *blobReader) Read(p []byte) (int, error) {
	n, err := b.br.tr.Read(p)
	if err != nil && err != io.EOF {
		return n, b.br.truncated(err, b.where)
	}
	return n, err
}

// DigestError reports content that does not match its digest.
type DigestError struct {
	Digest digest.Digest
	What   string // "layer of docker.io/library/nginx:1.27", "index.json"
}

func (e *DigestError) Error() string {
	return fmt.Sprintf("%s %s does not match its digest: the bundle is damaged or was modified", e.What, e.Digest)
}
