package bundle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"github.com/opencontainers/go-digest"

	"github.com/outpost-platform/outpost/appliance/trust"
)

// Report describes a bundle: its manifest, signatures and, after a full
// verification, how much content was checked.
type Report struct {
	Manifest *Manifest     `json:"manifest"`
	Digest   digest.Digest `json:"digest"`
	// SignedBy lists the key IDs of the bundle's signatures.
	SignedBy []string `json:"signedBy"`
	// Signer is the trusted key that verified, when keys were given.
	Signer *trust.Key `json:"signer,omitempty"`
	Blobs  int        `json:"blobs"`
	Bytes  int64      `json:"bytes"`
}

// InspectFile reads the header of the bundle at path: manifest and
// signatures, without reading the content.
func InspectFile(path string) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("inspecting bundle: %w", err)
	}
	defer f.Close()
	br, err := NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("inspecting bundle %s: %w", path, err)
	}
	return newReport(br), nil
}

func newReport(br *Reader) *Report {
	rep := &Report{Manifest: br.Manifest, Digest: br.Digest, SignedBy: []string{}}
	for _, s := range br.Signatures {
		rep.SignedBy = append(rep.SignedBy, s.KeyID)
	}
	return rep
}

// VerifyFile checks the bundle at path completely: its structure, every
// blob's digest and size, and, when keys is not nil, that a key of keys
// signed it. It writes nothing.
func VerifyFile(ctx context.Context, path string, keys trust.KeyRing, progress func(done, total int64)) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("verifying bundle: %w", err)
	}
	defer f.Close()
	br, err := NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("verifying bundle %s: %w", path, err)
	}
	rep := newReport(br)
	if keys != nil {
		v, err := br.Verify(ctx, keys, false)
		if err != nil {
			return rep, err
		}
		rep.Signer = v.Signer
	}
	names := newDescriber(br.Manifest)
	if _, err := br.ReadLayout(); err != nil {
		return rep, err
	}
	total := br.Manifest.ContainedSize()
	buf := make([]byte, 1<<20)
	for {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		d, r, err := br.NextBlob()
		if err == io.EOF {
			return rep, nil
		}
		if err != nil {
			return rep, err
		}
		h := sha256.New()
		var keep []byte
		for {
			n, rerr := r.Read(buf)
			h.Write(buf[:n])
			if names.isManifest(d.Digest) && len(keep) < 4<<20 {
				keep = append(keep, buf[:n]...)
			}
			rep.Bytes += int64(n)
			if progress != nil && n > 0 {
				progress(rep.Bytes, total)
			}
			if rerr == io.EOF {
				break
			}
			if rerr != nil {
				return rep, rerr
			}
		}
		if "sha256:"+hex.EncodeToString(h.Sum(nil)) != d.Digest.String() {
			return rep, &DigestError{Digest: d.Digest, What: names.describe(d.Digest)}
		}
		if keep != nil {
			names.learn(d.Digest, keep)
		}
		rep.Blobs++
	}
}
