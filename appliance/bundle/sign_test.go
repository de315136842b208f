package bundle

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/outpost-platform/outpost/appliance/trust"
)

func TestSignInPlace(t *testing.T) {
	dir := t.TempDir()
	writeLayout(t, filepath.Join(dir, "l"), ociImage(t, randomLayer(t, 1000)), "1")
	spec := &Spec{Name: "s", Version: "1.0.0", Images: []ImageSpec{{Ref: "example.com/s:1", From: "oci:./l"}}}
	spec.SetDir(dir)
	path := filepath.Join(dir, "s.bundle")
	if _, err := Create(context.Background(), spec, path, CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	k1, k2 := newVendorKey(t), newVendorKey(t)
	ring := func(keys ...vendorKey) trust.KeyRing {
		var ks trust.StaticKeys
		for _, k := range keys {
			sk, err := trust.NewStaticKey("k", k.pubPEM)
			if err != nil {
				t.Fatal(err)
			}
			ks = append(ks, sk)
		}
		return ks
	}
	if _, err := VerifyFile(context.Background(), path, ring(k1), nil); err == nil || !strings.Contains(err.Error(), "is not signed") {
		t.Fatalf("unsigned bundle verified: %v", err)
	}
	for _, k := range []vendorKey{k1, k2, k1} { // re-signing with k1 replaces its signature
		if _, err := SignFile(path, k.priv); err != nil {
			t.Fatal(err)
		}
	}
	after, _ := os.ReadFile(path)
	if len(after) != len(before) {
		t.Fatalf("signing changed the file size: %d → %d", len(before), len(after))
	}
	diff := 0
	for i := range before {
		if before[i] != after[i] {
			diff++
		}
	}
	if diff == 0 || diff > SignatureSlotSize {
		t.Fatalf("signing changed %d bytes, want only the signature slot", diff)
	}
	rep, err := InspectFile(path)
	if err != nil || len(rep.SignedBy) != 2 {
		t.Fatalf("signatures after signing with two keys: %+v %v", rep, err)
	}
	for _, k := range []vendorKey{k1, k2} {
		if _, err := VerifyFile(context.Background(), path, ring(k), nil); err != nil {
			t.Fatalf("verify with one signer: %v", err)
		}
	}
	if _, err := VerifyFile(context.Background(), path, ring(newVendorKey(t)), nil); err == nil || !strings.Contains(err.Error(), "does not trust") {
		t.Fatalf("verify with a stranger's key: %v", err)
	}
}
