package bundle

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/outpost-platform/outpost/appliance/trust"
)

// Signature is one entry of bundle.sig: an ed25519 signature over the
// bundle manifest's digest (see signedMessage).
type Signature struct {
	KeyID     string `json:"keyId"`
	Algorithm string `json:"algorithm"` // "ed25519"
	Value     []byte `json:"signature"` // base64 in JSON
}

type signatureSlot struct {
	Signatures []Signature `json:"signatures"`
}

// signedMessage is what a signature covers: a fixed context string and the
// digest of bundle.json, so a signature can never be replayed as a
// signature over anything else.
func signedMessage(manifestDigest digest.Digest) []byte {
	return []byte("outpost-bundle-signature 1\n" + manifestDigest.String())
}

// Sign signs a manifest digest with priv.
func Sign(priv ed25519.PrivateKey, manifestDigest digest.Digest) Signature {
	return Signature{
		KeyID:     trust.KeyID(priv.Public().(ed25519.PublicKey)),
		Algorithm: "ed25519",
		Value:     ed25519.Sign(priv, signedMessage(manifestDigest)),
	}
}

// encodeSignatureSlot renders bundle.sig: JSON padded with spaces to
// SignatureSlotSize bytes, ending in a newline.
func encodeSignatureSlot(sigs []Signature) ([]byte, error) {
	if sigs == nil {
		sigs = []Signature{}
	}
	b, err := json.Marshal(signatureSlot{Signatures: sigs})
	if err != nil {
		return nil, err
	}
	if len(b)+1 > SignatureSlotSize {
		return nil, fmt.Errorf("too many signatures: %d do not fit in the %d-byte signature slot", len(sigs), SignatureSlotSize)
	}
	slot := bytes.Repeat([]byte{' '}, SignatureSlotSize)
	copy(slot, b)
	slot[SignatureSlotSize-1] = '\n'
	return slot, nil
}

func decodeSignatureSlot(slot []byte) ([]Signature, error) {
	var s signatureSlot
	dec := json.NewDecoder(bytes.NewReader(slot))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, formatErrorf("bundle.sig is not a valid signature list (%v): the file is damaged or was modified", err)
	}
	if rest := strings.TrimSpace(string(slot[dec.InputOffset():])); rest != "" {
		return nil, formatErrorf("bundle.sig has data after the signature list: the file is damaged or was modified")
	}
	for _, sig := range s.Signatures {
		if sig.Algorithm != "ed25519" {
			return nil, formatErrorf("bundle.sig: signature algorithm %q is not supported (ed25519 only)", sig.Algorithm)
		}
	}
	return s.Signatures, nil
}

// TrustError reports a bundle refused by the signature policy.
type TrustError struct{ Msg string }

func (e *TrustError) Error() string { return e.Msg }

// Verification is the outcome of checking a bundle's signatures.
type Verification struct {
	// Signer is the trusted key whose valid signature was found.
	Signer *trust.Key
	// UnknownKeys lists key IDs of signatures by keys not in the ring.
	UnknownKeys []string
}

// Verify checks the reader's signatures against keys. A valid signature by
// a trusted key is required unless allowUnsigned is set. A signature by a
// trusted key that does not verify always fails: the manifest changed after
// signing.
func (br *Reader) Verify(ctx context.Context, keys trust.KeyRing, allowUnsigned bool) (Verification, error) {
	var v Verification
	m := br.Manifest
	msg := signedMessage(br.Digest)
	var badKey *trust.Key
	for _, sig := range br.Signatures {
		var candidates []trust.Key
		if keys != nil {
			var err error
			candidates, err = keys.TrustedKeys(ctx, sig.KeyID)
			if err != nil {
				return v, fmt.Errorf("verifying bundle %s %s: %w", m.Name, m.Version, err)
			}
		}
		if len(candidates) == 0 {
			v.UnknownKeys = append(v.UnknownKeys, sig.KeyID)
			continue
		}
		for _, k := range candidates {
			if ed25519.Verify(k.Public, msg, sig.Value) {
				v.Signer = &k
				return v, nil
			}
			badKey = &k
		}
	}
	switch {
	case badKey != nil:
		return v, &TrustError{Msg: fmt.Sprintf("bundle %s %s: the signature by trusted key %q (%s) does not match the bundle manifest: the bundle was modified after signing", m.Name, m.Version, badKey.Name, badKey.ID)}
	case allowUnsigned:
		return v, nil
	case len(br.Signatures) == 0:
		return v, &TrustError{Msg: fmt.Sprintf("bundle %s %s is not signed; sign it with outpost bundle sign, or pass --allow-unsigned to import it anyway", m.Name, m.Version)}
	default:
		return v, &TrustError{Msg: fmt.Sprintf("bundle %s %s is signed by key %s, which this appliance does not trust; add the vendor's public key with outpost trust add NAME FILE.pub, or pass --allow-unsigned", m.Name, m.Version, strings.Join(v.UnknownKeys, ", "))}
	}
}

// SignFile adds a signature by priv to the bundle at path, in place: only
// the fixed-size bundle.sig entry is rewritten. A previous signature by
// the same key is replaced.
func SignFile(path string, priv ed25519.PrivateKey) (Signature, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return Signature{}, fmt.Errorf("signing bundle: %w", err)
	}
	defer f.Close()
	br, err := NewReader(f)
	if err != nil {
		return Signature{}, fmt.Errorf("signing bundle %s: %w", path, err)
	}
	sig := Sign(priv, br.Digest)
	sigs := []Signature{sig}
	for _, s := range br.Signatures {
		if s.KeyID != sig.KeyID {
			sigs = append(sigs, s)
		}
	}
	slot, err := encodeSignatureSlot(sigs)
	if err != nil {
		return Signature{}, fmt.Errorf("signing bundle %s: %w", path, err)
	}
	if _, err := f.WriteAt(slot, br.sigOffset); err != nil {
		return Signature{}, fmt.Errorf("signing bundle %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return Signature{}, fmt.Errorf("signing bundle %s: %w", path, err)
	}
	return sig, nil
}
