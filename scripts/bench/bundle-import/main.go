// Command bundle-import measures Outpost's bundle import beside the
// machine's sequential write rate (dd), its SHA-256 rate, and crane pushing
// the same images to a standalone distribution registry, all in one run.
// It records nothing by itself; docs/BENCHMARKS.md holds the method and
// figures (section "Bundle import").
//
//	go run ./scripts/bench/bundle-import -size 3GB -dir /var/tmp/bench
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
	"github.com/google/go-containerregistry/pkg/crane"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/sirupsen/logrus"

	"github.com/outpost-platform/outpost/appliance/bundle"
	"github.com/outpost-platform/outpost/appliance/registry"
	"github.com/outpost-platform/outpost/appliance/state"
)

func main() {
	sizeFlag := flag.String("size", "3GB", "total size of the distinct layers (e.g. 500MB, 3GB)")
	layerFlag := flag.String("layer", "64MB", "size of one layer")
	images := flag.Int("images", 8, "number of images (they share two base layers)")
	dir := flag.String("dir", "", "work directory on the disk to measure (default: a temp dir under /var/tmp)")
	keep := flag.Bool("keep", false, "keep the work directory")
	skipCrane := flag.Bool("skip-crane", false, "skip the crane push comparison")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the import to this file")
	flag.Parse()
	total, err1 := parseSize(*sizeFlag)
	layerSize, err2 := parseSize(*layerFlag)
	if err := errors.Join(err1, err2); err != nil {
		fatal(err)
	}
	if *dir == "" {
		d, err := os.MkdirTemp("/var/tmp", "outpost-bench-")
		if err != nil {
			fatal(err)
		}
		*dir = d
	}
	if !*keep {
		defer os.RemoveAll(*dir)
	}
	logrus.SetOutput(io.Discard)
	ctx := context.Background()

	fmt.Printf("== Bundle import benchmark (%s of distinct layers, %s layers, %d images) in %s\n", human(total), human(layerSize), *images, *dir)
	layoutDir := filepath.Join(*dir, "layout")
	t0 := time.Now()
	refs, err := generateLayout(layoutDir, total, layerSize, *images)
	if err != nil {
		fatal(err)
	}
	fmt.Printf("generated %d images in an OCI layout in %s\n", len(refs), time.Since(t0).Round(time.Millisecond))

	spec := &bundle.Spec{Name: "bench", Version: "1.0.0"}
	for _, r := range refs {
		spec.Images = append(spec.Images, bundle.ImageSpec{Ref: r, From: "oci:" + layoutDir})
	}
	bundlePath := filepath.Join(*dir, "bench.bundle")
	t0 = time.Now()
	m, err := bundle.Create(ctx, spec, bundlePath, bundle.CreateOptions{})
	if err != nil {
		fatal(err)
	}
	content := m.ContainedSize()
	fmt.Printf("created the bundle (%s in %d blobs) in %s\n", human(content), len(m.Blobs), time.Since(t0).Round(time.Millisecond))

	ddRate, err := ddWriteRate(filepath.Join(*dir, "dd.out"), content)
	if err != nil {
		fatal(err)
	}
	shaRate := sha256Rate(1 << 30)

	site := filepath.Join(*dir, "site")
	db, err := state.Open(filepath.Join(site, "state", "outpost.db"))
	if err != nil {
		fatal(err)
	}
	reg, err := registry.New(registry.Config{Dir: filepath.Join(site, "registry")}, db, slog.New(slog.DiscardHandler))
	if err != nil {
		fatal(err)
	}
	im, err := bundle.NewImporter(reg, db, nil)
	if err != nil {
		fatal(err)
	}
	syncAll()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fatal(err)
		}
		pprof.StartCPUProfile(f)
	}
	t0 = time.Now()
	res, err := im.ImportFile(ctx, bundlePath, bundle.ImportOptions{AllowUnsigned: true}, nil)
	if err != nil {
		fatal(err)
	}
	importTime := time.Since(t0)
	if *cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	importRate := float64(content) / importTime.Seconds()

	t0 = time.Now()
	res2, err := im.ImportFile(ctx, bundlePath, bundle.ImportOptions{AllowUnsigned: true}, nil)
	if err != nil {
		fatal(err)
	}
	reimportTime := time.Since(t0)
	reg.Close()
	db.Close()

	craneRate := 0.0
	var craneTime time.Duration
	if !*skipCrane {
		os.RemoveAll(site) // free the space before the next copy
		craneTime, err = cranePush(ctx, layoutDir, refs, filepath.Join(*dir, "distribution"))
		if err != nil {
			fatal(err)
		}
		craneRate = float64(content) / craneTime.Seconds()
	}

	gb := float64(content) / 1e9
	fmt.Println()
	fmt.Printf("%-44s %14s %10s\n", "measure", "rate", "time")
	fmt.Printf("%-44s %12s/s %10s\n", "dd sequential write (conv=fdatasync)", human(int64(ddRate)), "")
	fmt.Printf("%-44s %12s/s %10s\n", "SHA-256, one core", human(int64(shaRate)), "")
	fmt.Printf("%-44s %12s/s %10s\n", "outpost bundle import (fresh registry)", human(int64(importRate)), importTime.Round(time.Millisecond))
	if craneRate > 0 {
		fmt.Printf("%-44s %12s/s %10s\n", "crane push to standalone distribution", human(int64(craneRate)), craneTime.Round(time.Millisecond))
	}
	fmt.Printf("%-44s %12s/GB %9s\n", "re-import of present content", (time.Duration(float64(reimportTime) / gb)).Round(time.Millisecond), reimportTime.Round(time.Millisecond))
	fmt.Println()
	fmt.Printf("import / dd write rate:  %5.0f%%   (goal >= 80%%)\n", 100*importRate/ddRate)
	if craneRate > 0 {
		fmt.Printf("import / crane push:     %5.1fx   (goal >= 3x)\n", importRate/craneRate)
	}
	fmt.Printf("re-import per GB:        %5.3fs   (goal < 1s)\n", reimportTime.Seconds()/gb)
	fmt.Printf("(import wrote %s, skipped %s; re-import wrote %s, skipped %s)\n",
		human(res.BytesWritten), human(res.BytesSkipped), human(res2.BytesWritten), human(res2.BytesSkipped))
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

// generateLayout writes images of random (incompressible) layers into an
// OCI layout: every image has the two base layers plus its share of the
// rest, so layers are shared as in real image sets.
func generateLayout(dir string, total, layerSize int64, images int) ([]string, error) {
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return nil, err
	}
	writeBlob := func(data []byte) (string, error) {
		sum := sha256.Sum256(data)
		d := hex.EncodeToString(sum[:])
		return "sha256:" + d, os.WriteFile(filepath.Join(blobs, d), data, 0o644)
	}
	rng := rand.New(rand.NewChaCha8([32]byte{1}))
	n := int(total / layerSize)
	if n < 3 {
		n = 3
	}
	type desc struct {
		MediaType string `json:"mediaType"`
		Digest    string `json:"digest"`
		Size      int64  `json:"size"`
	}
	var layers []desc
	buf := make([]byte, layerSize)
	for range n {
		for i := 0; i < len(buf); i += 8 {
			v := rng.Uint64()
			for j := 0; j < 8 && i+j < len(buf); j++ {
				buf[i+j] = byte(v >> (8 * j))
			}
		}
		d, err := writeBlob(buf)
		if err != nil {
			return nil, err
		}
		layers = append(layers, desc{"application/vnd.oci.image.layer.v1.tar+gzip", d, layerSize})
	}
	var index struct {
		SchemaVersion int    `json:"schemaVersion"`
		MediaType     string `json:"mediaType"`
		Manifests     []any  `json:"manifests"`
	}
	index.SchemaVersion, index.MediaType = 2, "application/vnd.oci.image.index.v1+json"
	var refs []string
	rest := layers[2:]
	per := (len(rest) + images - 1) / images
	for i := range images {
		lo, hi := i*per, min((i+1)*per, len(rest))
		if lo >= hi {
			break
		}
		own := append([]desc{layers[0], layers[1]}, rest[lo:hi]...)
		cfg, _ := json.Marshal(map[string]any{
			"architecture": "amd64", "os": "linux",
			"rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs(own)},
		})
		cd, err := writeBlob(cfg)
		if err != nil {
			return nil, err
		}
		man, _ := json.Marshal(map[string]any{
			"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
			"config": desc{"application/vnd.oci.image.config.v1+json", cd, int64(len(cfg))},
			"layers": own,
		})
		md, err := writeBlob(man)
		if err != nil {
			return nil, err
		}
		ref := fmt.Sprintf("registry.example.com/bench/app%d:1", i)
		refs = append(refs, ref)
		index.Manifests = append(index.Manifests, map[string]any{
			"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": len(man),
			"annotations": map[string]string{"org.opencontainers.image.ref.name": ref},
		})
	}
	idx, _ := json.Marshal(index)
	if err := os.WriteFile(filepath.Join(dir, "index.json"), idx, 0o644); err != nil {
		return nil, err
	}
	return refs, os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
}

// diffIDs stands in for the uncompressed digests (the registry never
// looks at them).
func diffIDs[T any](layers []T) []string {
	out := make([]string, len(layers))
	for i := range layers {
		sum := sha256.Sum256([]byte(strconv.Itoa(i)))
		out[i] = "sha256:" + hex.EncodeToString(sum[:])
	}
	return out
}

var ddRatePattern = regexp.MustCompile(`(\d+) bytes .* copied, ([\d.]+) s`)

// ddWriteRate writes size bytes with dd and flushes them (conv=fdatasync),
// as the import does before it declares blobs present.
func ddWriteRate(path string, size int64) (float64, error) {
	defer os.Remove(path)
	syncAll()
	count := size / (1 << 20)
	out, err := exec.Command("dd", "if=/dev/zero", "of="+path, "bs=1M", fmt.Sprintf("count=%d", count), "conv=fdatasync").CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("dd: %v: %s", err, out)
	}
	m := ddRatePattern.FindStringSubmatch(string(out))
	if m == nil {
		return 0, fmt.Errorf("cannot parse dd output: %s", out)
	}
	bytes, _ := strconv.ParseFloat(m[1], 64)
	secs, _ := strconv.ParseFloat(m[2], 64)
	return bytes / secs, nil
}

func sha256Rate(n int) float64 {
	buf := make([]byte, 64<<20)
	h := sha256.New()
	start := time.Now()
	for done := 0; done < n; done += len(buf) {
		h.Write(buf)
	}
	h.Sum(nil)
	return float64(n) / time.Since(start).Seconds()
}

// cranePush pushes every image of the layout with crane (the library the
// crane CLI is) to a standalone distribution registry on localhost.
func cranePush(ctx context.Context, layoutDir string, refs []string, storage string) (time.Duration, error) {
	conf := &configuration.Configuration{}
	conf.Storage = configuration.Storage{
		"filesystem": configuration.Parameters{"rootdirectory": storage},
		"maintenance": configuration.Parameters{
			"uploadpurging": map[any]any{"enabled": false},
		},
	}
	conf.HTTP.Secret = "bench"
	conf.Catalog.MaxEntries = 1000
	conf.Tags.MaxTags = 1000
	app := handlers.NewApp(ctx, conf)
	defer app.Shutdown()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	srv := &http.Server{Handler: app}
	go srv.Serve(ln)
	defer srv.Close()
	lp, err := layout.FromPath(layoutDir)
	if err != nil {
		return 0, err
	}
	idx, err := lp.ImageIndex()
	if err != nil {
		return 0, err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return 0, err
	}
	syncAll()
	start := time.Now()
	for i, d := range im.Manifests {
		img, err := idx.Image(d.Digest)
		if err != nil {
			return 0, err
		}
		ref := ln.Addr().String() + "/" + strings.SplitN(refs[i], "/", 2)[1]
		if err := crane.Push(img, ref, crane.Insecure, crane.WithContext(ctx)); err != nil {
			return 0, fmt.Errorf("crane push %s: %w", ref, err)
		}
	}
	// distribution writes without fsync; flush so both sides pay for
	// getting the bytes onto the disk.
	syncAll()
	return time.Since(start), nil
}

func syncAll() { exec.Command("sync").Run() }

func parseSize(s string) (int64, error) {
	units := map[string]int64{"KB": 1e3, "MB": 1e6, "GB": 1e9, "K": 1e3, "M": 1e6, "G": 1e9, "B": 1}
	u := strings.ToUpper(s)
	for _, suf := range []string{"KB", "MB", "GB", "K", "M", "G", "B"} {
		if strings.HasSuffix(u, suf) {
			n, err := strconv.ParseFloat(strings.TrimSuffix(u, suf), 64)
			if err != nil {
				return 0, fmt.Errorf("size %q: %w", s, err)
			}
			return int64(n * float64(units[suf])), nil
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: want e.g. 3GB", s)
	}
	return n, nil
}

func human(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for x := n / unit; x >= unit; x /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}
