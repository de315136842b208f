package bundle

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/outpost-platform/outpost/appliance/registry/registrytest"
	"github.com/outpost-platform/outpost/appliance/trust"
)

// entry is one tar entry of a bundle with its position in the file.
type entry struct {
	hdr        tar.Header
	data       []byte
	hdrOffset  int64
	dataOffset int64
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// readEntries reads every entry of a tar file with offsets.
func readEntries(t *testing.T, path string) ([]entry, int64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cr := &countReader{r: f}
	tr := tar.NewReader(cr)
	var out []entry
	for {
		before := cr.n
		hdr, err := tr.Next()
		if err == io.EOF {
			return out, before
		}
		if err != nil {
			t.Fatal(err)
		}
		e := entry{hdr: *hdr, dataOffset: cr.n, hdrOffset: cr.n - 512}
		e.data, _ = io.ReadAll(tr)
		out = append(out, e)
	}
}

// writeEntries writes entries as a tar file (USTAR headers as given).
func writeEntries(t *testing.T, path string, entries []entry) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := e.hdr
		if hdr.Typeflag == tar.TypeReg {
			hdr.Size = int64(len(e.data))
		}
		if err := tw.WriteHeader(&hdr); err != nil {
			t.Fatal(err)
		}
		tw.Write(e.data)
	}
	tw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// rewriteManifest decodes bundle.json of entries, applies fn, re-encodes
// and signs it with signer (unsigned when nil): a vendor crafting a bad
// bundle can sign it.
func rewriteManifest(t *testing.T, entries []entry, signer ed25519.PrivateKey, fn func(m *Manifest)) []entry {
	t.Helper()
	var m Manifest
	if err := json.Unmarshal(entries[1].data, &m); err != nil {
		t.Fatal(err)
	}
	fn(&m)
	data, err := json.Marshal(&m)
	if err != nil {
		t.Fatal(err)
	}
	entries[1].data = data
	var sigs []Signature
	if signer != nil {
		sigs = append(sigs, Sign(signer, digest.FromBytes(data)))
	}
	entries[2].data, _ = encodeSignatureSlot(sigs)
	return entries
}

func flipByte(t *testing.T, src, dst string, offset int64) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	data[offset] ^= 0x01
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestTamperedBundles flips one byte in each part of a signed bundle and
// imports it into a fresh appliance: every import fails with a one-line
// error (naming the digest for blobs) and the registry stays as it was.
func TestTamperedBundles(t *testing.T) {
	vk := newVendorKey(t)
	f := newFixture(t)
	good := filepath.Join(t.TempDir(), "shop.bundle")
	m := f.create(t, good, CreateOptions{SigningKey: vk.priv})
	entries, _ := readEntries(t, good)
	last := entries[len(entries)-1]
	trailer := (last.dataOffset + last.hdr.Size + 511) / 512 * 512 // tar padding is not content
	byName := map[string]entry{}
	for _, e := range entries {
		byName[e.hdr.Name] = e
	}
	blobEntry := func(d string) entry { return byName[blobPrefix+strings.TrimPrefix(d, "sha256:")] }
	content := m.contentDigests()
	var firstLayer, chart Descriptor
	for _, b := range m.imageBlobs() {
		if b.Size > 1000 {
			firstLayer = b
		}
	}
	for _, b := range m.Blobs {
		if content[b.Digest] {
			chart = b
			break
		}
	}
	root := m.Images[0].Digest.String()
	sig := byName[sigEntry]
	sigValue := bytes.Index(sig.data, []byte(`"signature":"`)) + len(`"signature":"`) + 5

	tests := []struct {
		part   string
		offset int64
		want   string // substring of the error
	}{
		{"magic", byName[magicEntry].dataOffset + 3, "not an Outpost bundle"},
		{"bundle.json", byName[manifestEntry].dataOffset + int64(bytes.Index(entries[1].data, []byte(`"shop"`))) + 2, "does not match the bundle manifest"},
		{"bundle.json structure", byName[manifestEntry].dataOffset, "bundle.json is not a valid bundle manifest"},
		// A flipped base64 character is either still base64 (then the
		// signature fails) or not (then the slot is malformed).
		{"bundle.sig value", sig.dataOffset + int64(sigValue), "does not match|bundle.sig is not a valid signature list"},
		{"bundle.sig structure", sig.dataOffset + 1, "bundle.sig is not a valid signature list"},
		{"oci-layout", byName[layoutEntry].dataOffset + 5, "oci-layout"},
		{"index.json", byName[indexEntry].dataOffset + 20, "index.json " + m.Index.Digest.String()},
		{"root index blob", blobEntry(root).dataOffset + 10, root},
		{"layer", blobEntry(firstLayer.Digest.String()).dataOffset + firstLayer.Size/2, firstLayer.Digest.String()},
		{"chart", blobEntry(chart.Digest.String()).dataOffset + 7, chart.Digest.String()},
		{"blob tar header name", blobEntry(firstLayer.Digest.String()).hdrOffset + 20, "damaged"},
		{"blob tar header size", blobEntry(firstLayer.Digest.String()).hdrOffset + 124 + 5, "damaged"},
		{"end-of-archive block", trailer + 100, "damaged"},
		{"second end-of-archive block", trailer + 512 + 3, "damaged"},
	}
	for _, tc := range tests {
		t.Run(tc.part, func(t *testing.T) {
			bad := filepath.Join(t.TempDir(), "bad.bundle")
			flipByte(t, good, bad, tc.offset)
			s := newSite(t, registrytest.Options{}, vk.pubPEM)
			before := s.snapshot(t)
			_, err := s.importer.ImportFile(context.Background(), bad, ImportOptions{}, nil)
			if err == nil {
				t.Fatal("tampered bundle imported")
			}
			if !containsAny(err.Error(), strings.Split(tc.want, "|")) {
				t.Errorf("error %q, want it to mention %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("multi-line error: %q", err)
			}
			if after := s.snapshot(t); after != before {
				t.Fatalf("registry changed:\n%s", after)
			}
			// --allow-unsigned never lets modified content through.
			if _, err := s.importer.ImportFile(context.Background(), bad, ImportOptions{AllowUnsigned: true}, nil); err == nil {
				t.Fatal("tampered bundle imported with AllowUnsigned")
			}
			if after := s.snapshot(t); after != before {
				t.Fatalf("registry changed with AllowUnsigned:\n%s", after)
			}
		})
	}
}

// TestVerifyDetectsTampering: Verify (the CLI's bundle verify) reads every
// blob, so it catches what an import onto a site that has the blob skips.
func TestVerifyDetectsTampering(t *testing.T) {
	vk := newVendorKey(t)
	f := newFixture(t)
	good := filepath.Join(t.TempDir(), "shop.bundle")
	m := f.create(t, good, CreateOptions{SigningKey: vk.priv})
	key, _ := newStaticKey(vk.pubPEM)
	rep, err := VerifyFile(context.Background(), good, key, nil)
	if err != nil || rep.Signer == nil || rep.Blobs != len(m.Blobs) {
		t.Fatalf("verify good bundle: %+v %v", rep, err)
	}
	entries, _ := readEntries(t, good)
	last := entries[len(entries)-1]
	bad := filepath.Join(t.TempDir(), "bad.bundle")
	flipByte(t, good, bad, last.dataOffset+last.hdr.Size-1)
	_, err = VerifyFile(context.Background(), bad, key, nil)
	var de *DigestError
	if !errors.As(err, &de) || de.Digest != m.Blobs[len(m.Blobs)-1].Digest {
		t.Fatalf("verify tampered bundle: %v", err)
	}
}

func newStaticKey(pubPEM []byte) (trust.KeyRing, error) {
	k, err := trust.NewStaticKey("vendor", pubPEM)
	return trust.StaticKeys{k}, err
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
