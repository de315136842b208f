package bundle

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/Masterminds/semver/v3"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/outpost-platform/outpost/appliance/registry"
	"github.com/outpost-platform/outpost/appliance/state"
	"github.com/outpost-platform/outpost/appliance/trust"
	"github.com/outpost-platform/outpost/appliance/version"
)

// Importer imports bundles into the registry's storage. It runs inside the
// server; the CLI and the console reach it through AdminHandler. It is safe
// for concurrent use: two imports at once share blobs safely.
type Importer struct {
	reg     *registry.Registry
	store   *registry.Store
	keys    trust.KeyRing
	history *History
	opts    options
	metrics *importMetrics

	contentMu sync.Mutex // serializes the final rename of content directories

	// linkHook, set by tests, runs at points of the link phase
	// ("linked", then "tagged <repo>:<tag>" per tag) so a test can kill
	// the process there.
	linkHook func(stage string)
}

type options struct {
	contentDir     string
	logger         *slog.Logger
	registerer     prometheus.Registerer
	outpostVersion string
	writers        int // blob writer goroutines; 0: by GOMAXPROCS (2 to 4)
}

// Option configures an Importer.
type Option func(*options)

// WithContentDir sets where charts, manifests and files of imported
// bundles are extracted (<dir>/<name>/<version>/...). Default: "bundles"
// next to the registry's storage directory (<data-dir>/bundles).
func WithContentDir(dir string) Option { return func(o *options) { o.contentDir = dir } }

// WithLogger sets the logger; none by default.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithRegisterer registers import metrics; none by default.
func WithRegisterer(r prometheus.Registerer) Option { return func(o *options) { o.registerer = r } }

// WithOutpostVersion sets the running Outpost version that bundles'
// minOutpostVersion is checked against; version.Outpost by default.
func WithOutpostVersion(v string) Option { return func(o *options) { o.outpostVersion = v } }

// NewImporter creates an importer writing into reg's storage, trusting the
// keys of keys, recording history in db.
func NewImporter(reg *registry.Registry, db *state.DB, keys trust.KeyRing, opts ...Option) (*Importer, error) {
	o := options{outpostVersion: version.Outpost}
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	if o.contentDir == "" {
		o.contentDir = filepath.Join(filepath.Dir(reg.Store().Dir()), "bundles")
	}
	h, err := NewHistory(context.Background(), db)
	if err != nil {
		return nil, fmt.Errorf("creating bundle importer: %w", err)
	}
	return &Importer{reg: reg, store: reg.Store(), keys: keys, history: h, opts: o, metrics: newImportMetrics(o.registerer)}, nil
}

// History returns the import history.
func (im *Importer) History() *History { return im.history }

// ImportOptions are the per-import choices of the operator.
type ImportOptions struct {
	// AllowUnsigned accepts a bundle without a valid signature by a
	// trusted key. A signature by a trusted key that does not verify is
	// refused even so.
	AllowUnsigned bool `json:"allowUnsigned,omitempty"`
	// AllowDowngrade accepts a version older than the one installed.
	AllowDowngrade bool `json:"allowDowngrade,omitempty"`
}

// Progress reports an import's advance.
type Progress struct {
	// Phase is "verifying", "writing", "linking" or "done".
	Phase string `json:"phase"`
	// Done counts bytes of contained blobs processed (written or skipped)
	// out of Total.
	Done  int64 `json:"done"`
	Total int64 `json:"total"`
	// Written and Skipped split Done: skipped blobs were already stored.
	Written int64 `json:"written"`
	Skipped int64 `json:"skipped"`
	// Blob is the digest being written.
	Blob       string `json:"blob,omitempty"`
	BlobsDone  int    `json:"blobsDone"`
	BlobsTotal int    `json:"blobsTotal"`
}

// ImportedImage is an image an import made available.
type ImportedImage struct {
	Ref        string        `json:"ref"`
	Repository string        `json:"repository"`
	Tag        string        `json:"tag,omitempty"`
	Digest     digest.Digest `json:"digest"`
}

// Result describes a finished import.
type Result struct {
	Name    string        `json:"name"`
	Version string        `json:"version"`
	Kind    Kind          `json:"kind"`
	Digest  digest.Digest `json:"digest"` // of bundle.json
	// Signer is "name (key id)" of the trusted signer, empty when the
	// bundle was accepted unsigned.
	Signer       string          `json:"signer"`
	Base         *BaseRef        `json:"base,omitempty"`
	Images       []ImportedImage `json:"images"`
	ContentDir   string          `json:"contentDir,omitempty"`
	Charts       []string        `json:"charts,omitempty"`
	Manifests    []string        `json:"manifests,omitempty"`
	BlobsWritten int             `json:"blobsWritten"`
	BlobsSkipped int             `json:"blobsSkipped"`
	BytesWritten int64           `json:"bytesWritten"`
	BytesSkipped int64           `json:"bytesSkipped"`
	Duration     time.Duration   `json:"duration"`
}

// ImportFile imports the bundle at path. Reading a file (rather than a
// stream) lets blobs already in the registry be skipped without reading.
func (im *Importer) ImportFile(ctx context.Context, path string, opts ImportOptions, progress func(Progress)) (*Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("importing bundle: %w", err)
	}
	defer f.Close()
	return im.Import(ctx, f, opts, progress)
}

// Import reads a bundle from r and imports it. Every blob is verified
// against its digest as it streams; blobs already stored are skipped;
// images become visible only after all their content is durable, tags
// last. On any error nothing new is visible in the registry; verified blobs
// stay in storage (invisible) so that a re-run resumes quickly.
func (im *Importer) Import(ctx context.Context, r io.Reader, opts ImportOptions, progress func(Progress)) (*Result, error) {
	start := time.Now()
	if progress == nil {
		progress = func(Progress) {}
	}
	res, err := im.importBundle(ctx, r, opts, progress)
	if err != nil {
		im.metrics.imports.WithLabelValues("error").Inc()
		im.opts.logger.Warn("bundle import failed", "error", err)
		return nil, err
	}
	res.Duration = time.Since(start)
	im.metrics.imports.WithLabelValues("ok").Inc()
	im.metrics.duration.Observe(res.Duration.Seconds())
	im.opts.logger.Info("bundle imported", "name", res.Name, "version", res.Version, "signer", res.Signer,
		"images", len(res.Images), "written_bytes", res.BytesWritten, "skipped_bytes", res.BytesSkipped, "duration", res.Duration)
	return res, nil
}

func (im *Importer) importBundle(ctx context.Context, r io.Reader, opts ImportOptions, progress func(Progress)) (*Result, error) {
	br, err := NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("importing bundle: %w", err)
	}
	m := br.Manifest
	label := m.Name + " " + m.Version
	p := Progress{Phase: "verifying", Total: m.ContainedSize(), BlobsTotal: len(m.Blobs)}
	progress(p)

	v, err := br.Verify(ctx, im.keys, opts.AllowUnsigned)
	if err != nil {
		return nil, err
	}
	res := &Result{Name: m.Name, Version: m.Version, Kind: m.Kind, Digest: br.Digest, Base: m.Base, Images: []ImportedImage{}}
	if v.Signer != nil {
		res.Signer = fmt.Sprintf("%s (%s)", v.Signer.Name, v.Signer.ID)
	}
	if err := im.checkVersions(ctx, m, opts); err != nil {
		return nil, err
	}

	// Pin before looking at what is stored: GC must not take a blob
	// between "present, skip it" and the link that uses it.
	pins := make([]digest.Digest, 0, len(m.Blobs)+len(m.Requires)+len(m.Images))
	for _, b := range m.Blobs {
		pins = append(pins, b.Digest)
	}
	for _, b := range m.Requires {
		pins = append(pins, b.Digest)
	}
	for _, img := range m.Images {
		pins = append(pins, img.Digest)
	}
	unpin := im.store.Pin(pins...)
	defer unpin()

	if err := im.checkRequires(m); err != nil {
		return nil, err
	}
	content := m.contentDigests()
	var need int64
	for _, b := range m.Blobs {
		if content[b.Digest] || !im.store.HasBlob(b.Digest, b.Size) {
			need += b.Size
		}
	}
	if free, err := im.store.FreeBytes(); err == nil && need > free-free/20 {
		return nil, fmt.Errorf("importing bundle %s: it needs %s of free space in %s and %s is available; free some space (outpost registry gc) and retry",
			label, humanBytes(need), im.store.Dir(), humanBytes(free))
	}

	staging, err := im.store.NewStaging()
	if err != nil {
		return nil, fmt.Errorf("importing bundle %s: %w", label, err)
	}
	defer staging.Close()
	contentStage := filepath.Join(staging.Dir(), "content")

	index, err := br.ReadLayout()
	if err != nil {
		return nil, fmt.Errorf("importing bundle %s: %w", label, err)
	}
	if err := checkIndex(index, m); err != nil {
		return nil, fmt.Errorf("importing bundle %s: %w", label, err)
	}

	names := newDescriber(m)
	writers := newBlobWriters(im.opts.writers, names)
	defer writers.abort()
	p.Phase = "writing"
	progress(p)
	lastReport := time.Now()
	fail := func(err error) (*Result, error) {
		writers.abort()
		return nil, fmt.Errorf("importing bundle %s: %w", label, err)
	}
	for {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		if err := writers.err(); err != nil {
			return fail(err)
		}
		d, rd, err := br.NextBlob()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(err)
		}
		p.Blob = d.Digest.String()
		switch {
		case content[d.Digest]:
			if err := writeContentBlob(contentStage, d, rd); err != nil {
				return fail(err)
			}
			p.Written += d.Size
			res.BytesWritten += d.Size
			res.BlobsWritten++
		case im.store.HasBlob(d.Digest, d.Size):
			// Not read: the tar reader skips it (by seeking in a file).
			names.learnStored(im.store, d.Digest)
			p.Skipped += d.Size
			res.BytesSkipped += d.Size
			res.BlobsSkipped++
		default:
			w, err := im.store.NewBlobWriter(staging, d.Digest, d.Size)
			if err != nil {
				return fail(err)
			}
			base := p.Done
			err = writers.write(d, w, rd, func(n int64) {
				p.Done = base + n
				if time.Since(lastReport) > 100*time.Millisecond {
					lastReport = time.Now()
					progress(p)
				}
			})
			if err != nil {
				return fail(err)
			}
			p.Done = base
			p.Written += d.Size
			res.BytesWritten += d.Size
			res.BlobsWritten++
		}
		p.Done += d.Size
		p.BlobsDone++
		progress(p)
	}
	if err := writers.wait(); err != nil {
		return nil, fmt.Errorf("importing bundle %s: %w", label, err)
	}
	im.metrics.bytes.WithLabelValues("written").Add(float64(res.BytesWritten))
	im.metrics.bytes.WithLabelValues("skipped").Add(float64(res.BytesSkipped))

	p.Phase, p.Blob = "linking", ""
	progress(p)
	if err := im.link(ctx, m, res); err != nil {
		return nil, fmt.Errorf("importing bundle %s: %w", label, err)
	}
	if err := im.installContent(m, contentStage, res); err != nil {
		return nil, fmt.Errorf("importing bundle %s: %w", label, err)
	}
	if err := im.history.Record(ctx, res); err != nil {
		return nil, err
	}
	p.Phase = "done"
	progress(p)
	return res, nil
}

// checkVersions applies minOutpostVersion and the downgrade rule.
func (im *Importer) checkVersions(ctx context.Context, m *Manifest, opts ImportOptions) error {
	if m.MinOutpostVersion != "" {
		min, _ := ParseVersion(m.MinOutpostVersion)
		if running, err := ParseVersion(im.opts.outpostVersion); err == nil {
			// Compare releases: a v0.3.0-dev build satisfies v0.3.0.
			core := semver.New(running.Major(), running.Minor(), running.Patch(), "", "")
			if core.LessThan(min) {
				return fmt.Errorf("bundle %s %s needs Outpost %s or newer and this is %s; upgrade Outpost first",
					m.Name, m.Version, m.MinOutpostVersion, im.opts.outpostVersion)
			}
		}
	}
	installed, ok, err := im.history.Installed(ctx, m.Name)
	if err != nil || !ok {
		return err
	}
	have, err1 := ParseVersion(installed)
	want, err2 := ParseVersion(m.Version)
	if err1 == nil && err2 == nil && want.LessThan(have) && !opts.AllowDowngrade {
		return fmt.Errorf("bundle %s %s is older than the installed %s; refusing a downgrade (pass --allow-downgrade to import it anyway)",
			m.Name, m.Version, installed)
	}
	return nil
}

// MissingBlobsError reports a delta bundle imported without its base.
type MissingBlobsError struct {
	Bundle  string
	Base    *BaseRef
	Missing []Descriptor
}

func (e *MissingBlobsError) Error() string {
	var ds []string
	for i, d := range e.Missing {
		if i == 3 {
			ds = append(ds, fmt.Sprintf("and %d more", len(e.Missing)-3))
			break
		}
		ds = append(ds, d.Digest.String())
	}
	return fmt.Sprintf("bundle %s is a delta against %s %s (%s) and %d blobs it needs are not in the registry (%s); import %s %s first, or use a full bundle",
		e.Bundle, e.Base.Name, e.Base.Version, e.Base.Digest, len(e.Missing), strings.Join(ds, ", "), e.Base.Name, e.Base.Version)
}

func (im *Importer) checkRequires(m *Manifest) error {
	var missing []Descriptor
	for _, b := range m.Requires {
		if !im.store.HasBlob(b.Digest, b.Size) {
			missing = append(missing, b)
		}
	}
	if len(missing) > 0 {
		return &MissingBlobsError{Bundle: m.Name + " " + m.Version, Base: m.Base, Missing: missing}
	}
	return nil
}

// checkIndex checks that index.json lists every image of the manifest.
func checkIndex(data []byte, m *Manifest) error {
	var idx ocispec.Index
	if err := json.Unmarshal(data, &idx); err != nil {
		return formatErrorf("index.json is not an OCI index: %v", err)
	}
	listed := map[digest.Digest]bool{}
	for _, d := range idx.Manifests {
		listed[d.Digest] = true
	}
	for _, img := range m.Images {
		if !listed[img.Digest] {
			return formatErrorf("index.json does not list image %s (%s): the file is damaged or was modified", img.Ref, img.Digest)
		}
	}
	return nil
}

// link checks every image's content, then makes the images visible: blob
// and manifest links of all images first, then, after a sync, the tags.
func (im *Importer) link(ctx context.Context, m *Manifest, res *Result) error {
	if err := im.store.Sync(); err != nil {
		return err
	}
	type planned struct {
		ref  registry.ImageRef
		tree *registry.ImageTree
	}
	var plan []planned
	for _, img := range m.Images {
		ref, err := registry.ResolveRef(img.Ref)
		if err != nil {
			return err
		}
		if _, ok := im.store.BlobSize(img.Digest); !ok {
			return fmt.Errorf("image %s: its manifest %s is neither in the bundle nor in the registry", img.Ref, img.Digest)
		}
		tree, err := im.store.WalkImage(img.Digest)
		if err != nil {
			return fmt.Errorf("image %s: %w", img.Ref, err)
		}
		if len(tree.Missing) > 0 {
			return fmt.Errorf("image %s references blob %s, which is neither in the bundle nor in the registry", img.Ref, tree.Missing[0].Digest)
		}
		have := map[string]bool{}
		for _, pl := range tree.Platforms() {
			have[pl] = true
		}
		if tree.Root.MediaType != "" && registry.IsIndexMediaType(tree.Root.MediaType) {
			for _, pl := range img.Platforms {
				if !have[pl] {
					return fmt.Errorf("image %s: platform %s is listed but its manifest is neither in the bundle nor in the registry", img.Ref, pl)
				}
			}
		}
		plan = append(plan, planned{ref: ref, tree: tree})
	}
	for _, pl := range plan {
		if err := im.store.LinkImage(pl.ref.Repository, "", pl.tree); err != nil {
			return err
		}
	}
	if err := im.store.Sync(); err != nil {
		return err
	}
	if im.linkHook != nil {
		im.linkHook("linked")
	}
	source := "bundle " + m.Name + " " + m.Version
	for _, pl := range plan {
		if pl.ref.Tag != "" {
			if err := im.store.Tag(pl.ref.Repository, pl.ref.Tag, pl.tree.Root.Digest); err != nil {
				return err
			}
			im.reg.Sources().Record(ctx, pl.ref.Repository, pl.ref.Tag, pl.tree.Root.Digest, source)
			if im.linkHook != nil {
				im.linkHook("tagged " + pl.ref.Repository + ":" + pl.ref.Tag)
			}
		}
		res.Images = append(res.Images, ImportedImage{Ref: pl.ref.Original, Repository: pl.ref.Repository, Tag: pl.ref.Tag, Digest: pl.tree.Root.Digest})
	}
	return im.store.Sync()
}

// writeContentBlob stores a chart, manifest or file blob under stage by
// digest, verified.
func writeContentBlob(stage string, d Descriptor, r io.Reader) error {
	if err := os.MkdirAll(stage, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(stage, ".blob-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r, d.Size+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if n != d.Size || "sha256:"+hex.EncodeToString(h.Sum(nil)) != d.Digest.String() {
		return &DigestError{Digest: d.Digest, What: "content file"}
	}
	return os.Rename(f.Name(), filepath.Join(stage, d.Digest.Encoded()))
}

// installContent lays charts, manifests and files out under
// <content-dir>/<name>/<version>/ and swaps the directory in whole.
func (im *Importer) installContent(m *Manifest, stage string, res *Result) error {
	if len(m.Charts)+len(m.Manifests)+len(m.Files) == 0 {
		return nil
	}
	tree := filepath.Join(stage, "tree")
	place := func(p string, d digest.Digest, mode os.FileMode) error {
		dst := filepath.Join(tree, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		data, err := os.ReadFile(filepath.Join(stage, d.Encoded()))
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, mode)
	}
	for _, c := range m.Charts {
		if err := place(c.Path, c.Digest, 0o644); err != nil {
			return err
		}
		res.Charts = append(res.Charts, c.Path)
	}
	for _, f := range m.Manifests {
		if err := place(f.Path, f.Digest, 0o644); err != nil {
			return err
		}
		res.Manifests = append(res.Manifests, f.Path)
	}
	for _, f := range m.Files {
		mode := os.FileMode(f.Mode)
		if mode == 0 {
			mode = 0o644
		}
		if err := place(f.Path, f.Digest, mode); err != nil {
			return err
		}
	}
	if err := syncTree(tree); err != nil {
		return err
	}
	final := filepath.Join(im.opts.contentDir, m.Name, m.Version)
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return err
	}
	im.contentMu.Lock()
	defer im.contentMu.Unlock()
	// The stage may be on another filesystem than the content directory:
	// copy next to the destination first, then rename.
	next := final + ".new-" + randomSuffix()
	if err := copyTree(tree, next); err != nil {
		os.RemoveAll(next)
		return err
	}
	old := final + ".old-" + randomSuffix()
	if err := os.Rename(final, old); err != nil && !os.IsNotExist(err) {
		os.RemoveAll(next)
		return err
	}
	if err := os.Rename(next, final); err != nil {
		os.Rename(old, final)
		return err
	}
	os.RemoveAll(old)
	res.ContentDir = final
	return nil
}

func randomSuffix() string {
	var b [4]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func copyTree(src, dst string) error {
	return filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, fi.Mode().Perm())
		if err != nil {
			return err
		}
		if _, err := f.Write(data); err != nil {
			f.Close()
			return err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	})
}

func syncTree(dir string) error {
	return filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		return f.Sync()
	})
}

// blobWriters hashes, writes and commits blobs in parallel: SHA-256 runs
// at a few hundred MB/s per core, so one core cannot keep up with a disk.
// The stream is read by one goroutine into pooled buffers; each blob is
// handed to a writer goroutine that hashes, writes, verifies, fsyncs and
// renames it, so several blobs (and their fsyncs) proceed at once.
type blobWriters struct {
	names *describer
	slots chan struct{} // one per writer goroutine
	bufs  chan []byte   // free read buffers: bounds memory in flight
	wg    sync.WaitGroup

	mu       sync.Mutex
	firstErr error
	aborted  bool
}

const (
	writeBufSize  = 1 << 20
	writeBufCount = 32
)

func newBlobWriters(workers int, names *describer) *blobWriters {
	if workers <= 0 {
		workers = min(max(runtime.GOMAXPROCS(0), 2), 4)
	}
	bw := &blobWriters{names: names, slots: make(chan struct{}, workers), bufs: make(chan []byte, writeBufCount)}
	for range writeBufCount {
		bw.bufs <- alignedBuffer(writeBufSize)
	}
	return bw
}

func (bw *blobWriters) setErr(err error) {
	bw.mu.Lock()
	if bw.firstErr == nil {
		bw.firstErr = err
	}
	bw.mu.Unlock()
}

func (bw *blobWriters) err() error {
	bw.mu.Lock()
	defer bw.mu.Unlock()
	return bw.firstErr
}

// write streams the blob d from r to w through a writer goroutine. It
// returns when r is consumed; the hash check and commit finish later (see
// wait). progress receives the bytes read so far.
func (bw *blobWriters) write(d Descriptor, w *registry.BlobWriter, r io.Reader, progress func(int64)) error {
	bw.slots <- struct{}{}
	chunks := make(chan []byte, writeBufCount)
	bw.wg.Add(1)
	go bw.run(d, w, chunks)
	defer close(chunks)
	var n int64
	for {
		buf := <-bw.bufs
		k, err := io.ReadFull(r, buf)
		if k > 0 {
			chunks <- buf[:k]
			n += int64(k)
			progress(n)
		} else {
			bw.bufs <- buf
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (bw *blobWriters) run(d Descriptor, w *registry.BlobWriter, chunks <-chan []byte) {
	defer bw.wg.Done()
	defer func() { <-bw.slots }()
	var keep []byte
	isManifest := bw.names.isManifest(d.Digest) && d.Size <= 4<<20
	var werr error
	for buf := range chunks {
		if werr == nil {
			_, werr = w.Write(buf)
			if isManifest {
				keep = append(keep, buf...)
			}
		}
		bw.bufs <- buf[:cap(buf)]
	}
	if werr == nil {
		werr = w.Verify()
	}
	if werr != nil {
		w.Abort()
		var mismatch *registry.DigestMismatchError
		if errors.As(werr, &mismatch) {
			werr = &DigestError{Digest: d.Digest, What: bw.names.describe(d.Digest)}
		}
		bw.setErr(werr)
		return
	}
	if keep != nil {
		bw.names.learn(d.Digest, keep)
	}
	bw.mu.Lock()
	aborted := bw.aborted
	bw.mu.Unlock()
	if aborted {
		w.Abort()
		return
	}
	if err := w.Commit(); err != nil {
		bw.setErr(err)
	}
}

// alignedBuffer returns a buffer whose start is aligned for direct I/O,
// so BlobWriter can write it without a copy through the page cache.
func alignedBuffer(size int) []byte {
	const align = registry.DirectIOAlignment
	b := make([]byte, size+align)
	off := (align - int(uintptr(unsafe.Pointer(&b[0]))%align)) % align
	return b[off : off+size : off+size]
}

// wait finishes every blob and returns the first error.
func (bw *blobWriters) wait() error {
	bw.wg.Wait()
	return bw.err()
}

// abort lets running writers finish without committing and waits for them.
func (bw *blobWriters) abort() {
	bw.mu.Lock()
	bw.aborted = true
	bw.mu.Unlock()
	bw.wg.Wait()
}

// describer names blobs for error messages ("layer of nginx:1.27") by
// reading manifests as they stream past.
type describer struct {
	mu        sync.Mutex
	what      map[digest.Digest]string
	manifests map[digest.Digest]bool
}

func newDescriber(m *Manifest) *describer {
	d := &describer{what: map[digest.Digest]string{}, manifests: map[digest.Digest]bool{}}
	for _, img := range m.Images {
		kind := "manifest"
		if registry.IsIndexMediaType(img.MediaType) {
			kind = "index"
		}
		d.what[img.Digest] = kind + " of " + img.Ref
		d.manifests[img.Digest] = true
	}
	for _, c := range m.Charts {
		d.what[c.Digest] = "chart " + c.Path
	}
	for _, f := range m.Manifests {
		d.what[f.Digest] = "manifest file " + f.Path
	}
	for _, f := range m.Files {
		d.what[f.Digest] = "file " + f.Path
	}
	return d
}

func (d *describer) isManifest(dg digest.Digest) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.manifests[dg]
}

func (d *describer) describe(dg digest.Digest) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if w, ok := d.what[dg]; ok {
		return w
	}
	return "blob"
}

func (d *describer) learnStored(s *registry.Store, dg digest.Digest) {
	if !d.isManifest(dg) {
		return
	}
	if data, err := s.ReadManifest(dg); err == nil {
		d.learn(dg, data)
	}
}

// learn records what a verified manifest references.
func (d *describer) learn(dg digest.Digest, data []byte) {
	m, err := registry.ParseManifest(data)
	if err != nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	owner := strings.TrimPrefix(strings.TrimPrefix(d.what[dg], "index of "), "manifest of ")
	for _, c := range m.Manifests {
		d.manifests[c.Digest] = true
		if _, ok := d.what[c.Digest]; !ok {
			d.what[c.Digest] = "manifest of " + owner + " (" + registry.PlatformString(c.Platform) + ")"
		}
	}
	if m.Config != nil {
		if _, ok := d.what[m.Config.Digest]; !ok {
			d.what[m.Config.Digest] = "config of " + owner
		}
	}
	for _, l := range m.Layers {
		if _, ok := d.what[l.Digest]; !ok {
			d.what[l.Digest] = "layer of " + owner
		}
	}
}

type importMetrics struct {
	imports  *prometheus.CounterVec
	bytes    *prometheus.CounterVec
	duration prometheus.Histogram
}

func newImportMetrics(reg prometheus.Registerer) *importMetrics {
	m := &importMetrics{
		imports: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "outpost_bundle_imports_total",
			Help: "Bundle imports by result (ok, error).",
		}, []string{"result"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "outpost_bundle_import_bytes_total",
			Help: "Bytes of bundle blobs imported, by disposition (written, skipped as already present).",
		}, []string{"disposition"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "outpost_bundle_import_duration_seconds",
			Help:    "Duration of successful bundle imports.",
			Buckets: prometheus.ExponentialBuckets(0.5, 3, 8),
		}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.imports, m.bytes, m.duration} {
			if err := reg.Register(c); err != nil {
				var are prometheus.AlreadyRegisteredError
				if !errors.As(err, &are) {
					panic(err)
				}
			}
		}
	}
	return m
}
