package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/outpost-platform/outpost/appliance/registry/registrytest"
)

// TestBadInput feeds broken and hostile bundles to the importer: each must
// fail with one clear line and leave the registry unchanged.
func TestBadInput(t *testing.T) {
	vk := newVendorKey(t)
	dir := t.TempDir()
	img := ociImage(t, randomLayer(t, 3000), randomLayer(t, 2000))
	writeLayout(t, filepath.Join(dir, "layout"), img, "1")
	spec := &Spec{Name: "app", Version: "2.0.0", Images: []ImageSpec{{Ref: "example.com/app:1", From: "oci:./layout"}}}
	spec.SetDir(dir)
	good := filepath.Join(dir, "good.bundle")
	m, err := Create(context.Background(), spec, good, CreateOptions{SigningKey: vk.priv})
	if err != nil {
		t.Fatal(err)
	}
	goodData, _ := os.ReadFile(good)
	entries, _ := readEntries(t, good)
	layer := m.Blobs[len(m.Blobs)-1]
	layerEntry := entries[len(entries)-1]

	// variant writes a modified copy of the good bundle.
	variant := func(t *testing.T, mutate func([]entry) []entry) string {
		t.Helper()
		es := make([]entry, len(entries))
		copy(es, entries)
		p := filepath.Join(t.TempDir(), "variant.bundle")
		writeEntries(t, p, mutate(es))
		return p
	}
	raw := func(t *testing.T, data []byte) string {
		t.Helper()
		p := filepath.Join(t.TempDir(), "raw.bundle")
		os.WriteFile(p, data, 0o644)
		return p
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(goodData)
	zw.Close()
	noise := make([]byte, 4096)
	rand.Read(noise)
	otherKey := newVendorKey(t)

	tests := []struct {
		name  string
		file  func(t *testing.T) string
		opts  ImportOptions
		setup func(t *testing.T, s *site) // runs before the import
		want  string
	}{
		{name: "empty file", file: func(t *testing.T) string { return raw(t, nil) }, want: "the file is empty"},
		{name: "random bytes", file: func(t *testing.T) string { return raw(t, noise) }, want: "not an Outpost bundle"},
		{name: "gzip-compressed bundle", file: func(t *testing.T) string { return raw(t, gz.Bytes()) }, want: "gzip-compressed"},
		{name: "tar without magic", file: func(t *testing.T) string {
			return variant(t, func(es []entry) []entry { return es[1:] })
		}, want: "wrong magic"},
		{name: "newer format", file: func(t *testing.T) string {
			return variant(t, func(es []entry) []entry { es[0].data = []byte("outpost-bundle 9\n"); return es })
		}, want: "bundle format 9 is newer"},
		{name: "truncated in bundle.json", file: func(t *testing.T) string {
			return raw(t, goodData[:entries[1].dataOffset+10])
		}, want: "truncated"},
		{name: "truncated in a layer", file: func(t *testing.T) string {
			return raw(t, goodData[:layerEntry.dataOffset+layerEntry.hdr.Size/2])
		}, want: "truncated: it ends inside blob " + layer.Digest.String()},
		{name: "truncated before a blob", file: func(t *testing.T) string {
			return raw(t, goodData[:layerEntry.hdrOffset])
		}, want: "truncated: it ends before blob " + layer.Digest.String()},
		{name: "truncated end of archive", file: func(t *testing.T) string {
			return raw(t, goodData[:len(goodData)-1024])
		}, want: "truncated"},
		{name: "10 GB manifest claim", file: func(t *testing.T) string {
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			tw.WriteHeader(&tar.Header{Name: magicEntry, Size: int64(len(magicContent)), Mode: 0o644, Typeflag: tar.TypeReg})
			tw.Write([]byte(magicContent))
			tw.WriteHeader(&tar.Header{Name: manifestEntry, Size: 10 << 30, Mode: 0o644, Typeflag: tar.TypeReg})
			return raw(t, buf.Bytes())
		}, want: "bundle manifest claims 10737418240 bytes"},
		{name: "10 TB blob claim", file: func(t *testing.T) string {
			return variant(t, func(es []entry) []entry {
				return rewriteManifest(t, es, vk.priv, func(m *Manifest) { m.Blobs[len(m.Blobs)-1].Size = 10 << 40 })
			})
		}, want: "free space"},
		{name: "manifest pointing at a missing blob", file: func(t *testing.T) string {
			return variant(t, func(es []entry) []entry {
				es = rewriteManifest(t, es, vk.priv, func(m *Manifest) { m.Blobs = m.Blobs[:len(m.Blobs)-1] })
				return es[:len(es)-1]
			})
		}, want: "references blob " + layer.Digest.String() + ", which is neither in the bundle nor in the registry"},
		{name: "path traversal entry", file: func(t *testing.T) string {
			return variant(t, func(es []entry) []entry { es[len(es)-1].hdr.Name = "../../../etc/cron.d/evil"; return es })
		}, want: `bundle entry "../../../etc/cron.d/evil" is not the expected`},
		{name: "symlink entry", file: func(t *testing.T) string {
			return variant(t, func(es []entry) []entry {
				es[len(es)-1].hdr.Typeflag = tar.TypeSymlink
				es[len(es)-1].hdr.Linkname = "/etc/shadow"
				es[len(es)-1].data = nil
				return es
			})
		}, want: "is a link"},
		{name: "directory entry", file: func(t *testing.T) string {
			return variant(t, func(es []entry) []entry {
				es = append(es[:3], append([]entry{{hdr: tar.Header{Name: "blobs/", Typeflag: tar.TypeDir, Mode: 0o755}}}, es[3:]...)...)
				return es
			})
		}, want: "only regular files"},
		{name: "extra entry after the last blob", file: func(t *testing.T) string {
			return variant(t, func(es []entry) []entry {
				return append(es, entry{hdr: tar.Header{Name: "payload.sh", Typeflag: tar.TypeReg, Mode: 0o755}, data: []byte("rm -rf /")})
			})
		}, want: `unexpected bundle entry "payload.sh" after the last blob`},
		{name: "content path traversal in the manifest", file: func(t *testing.T) string {
			return variant(t, func(es []entry) []entry {
				return rewriteManifest(t, es, vk.priv, func(m *Manifest) {
					m.Files = []File{{Path: "../../etc/passwd", Digest: m.Blobs[0].Digest, Size: m.Blobs[0].Size}}
				})
			})
		}, want: `path "../../etc/passwd"`},
		{name: "unknown manifest field", file: func(t *testing.T) string {
			return variant(t, func(es []entry) []entry {
				es[1].data = bytes.Replace(es[1].data, []byte(`"name"`), []byte(`"hooks":["x"],"name"`), 1)
				return es
			})
		}, opts: ImportOptions{AllowUnsigned: true}, want: `unknown field "hooks"`},
		{name: "required blob without a base", file: func(t *testing.T) string {
			return variant(t, func(es []entry) []entry {
				return rewriteManifest(t, es, vk.priv, func(m *Manifest) {
					m.Requires = []Descriptor{{Digest: digest.FromString("x"), Size: 1}}
				})
			})
		}, want: "requires blobs but names no base bundle"},
		{name: "signature by an unknown key", file: func(t *testing.T) string {
			p := raw(t, goodData)
			if _, err := SignFile(p, otherKey.priv); err != nil {
				t.Fatal(err)
			}
			return variant2(t, p, func(es []entry) []entry { // keep only the unknown key's signature
				sigs, _ := decodeSignatureSlot(es[2].data)
				es[2].data, _ = encodeSignatureSlot(sigs[:1])
				return es
			})
		}, want: "which this appliance does not trust"},
		{name: "unsigned", file: func(t *testing.T) string {
			return variant(t, func(es []entry) []entry { es[2].data, _ = encodeSignatureSlot(nil); return es })
		}, want: "is not signed"},
		{name: "older than installed", file: func(t *testing.T) string { return good },
			setup: func(t *testing.T, s *site) {
				s.importer.history.Record(context.Background(), &Result{Name: "app", Version: "2.1.0", Kind: KindApp})
			}, want: "bundle app 2.0.0 is older than the installed 2.1.0"},
		{name: "needs a newer Outpost", file: func(t *testing.T) string {
			return variant(t, func(es []entry) []entry {
				return rewriteManifest(t, es, vk.priv, func(m *Manifest) { m.MinOutpostVersion = "v99.0.0" })
			})
		}, want: "needs Outpost v99.0.0 or newer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSite(t, registrytest.Options{}, vk.pubPEM)
			if tc.setup != nil {
				tc.setup(t, s)
			}
			before := s.snapshot(t)
			_, err := s.importer.ImportFile(context.Background(), tc.file(t), tc.opts, nil)
			if err == nil {
				t.Fatal("import succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\nwant it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("multi-line error: %q", err)
			}
			if after := s.snapshot(t); after != before {
				t.Fatalf("registry changed:\n%s", after)
			}
			if leftovers, _ := filepath.Glob(filepath.Join(s.env.DataDir, "registry", "staging", "*")); len(leftovers) > 0 {
				t.Errorf("staging left behind: %v", leftovers)
			}
		})
	}
}

func variant2(t *testing.T, path string, mutate func([]entry) []entry) string {
	t.Helper()
	es, _ := readEntries(t, path)
	p := filepath.Join(t.TempDir(), "variant2.bundle")
	writeEntries(t, p, mutate(es))
	return p
}
