package trust

import (
	"context"
	"crypto/ed25519"
	"path/filepath"
	"strings"
	"testing"

	"github.com/outpost-platform/outpost/appliance/state"
)

func TestKeysRoundTripAndStore(t *testing.T) {
	privPEM, pubPEM, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	priv, err := ParsePrivateKey(privPEM)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicKey(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(priv.Public().(ed25519.PublicKey)) {
		t.Fatal("public key does not match private key")
	}
	if _, err := ParsePublicKey(privPEM); err == nil {
		t.Fatal("private key accepted as public key")
	}
	if _, err := ParsePrivateKey([]byte("garbage")); err == nil {
		t.Fatal("garbage accepted as private key")
	}

	db, err := state.Open(filepath.Join(t.TempDir(), "outpost.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	s, err := Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	k, err := s.Add(ctx, "vendor", pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	if k.ID != KeyID(pub) || len(k.ID) != 16 {
		t.Fatalf("key id %q", k.ID)
	}
	if _, err := s.Add(ctx, "again", pubPEM); err == nil || !strings.Contains(err.Error(), "already trusted") {
		t.Fatalf("adding the same key twice: %v", err)
	}
	got, err := s.TrustedKeys(ctx, k.ID)
	if err != nil || len(got) != 1 || !got[0].Public.Equal(pub) || got[0].Name != "vendor" {
		t.Fatalf("TrustedKeys = %+v, %v", got, err)
	}
	if err := s.Remove(ctx, "vendor"); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(ctx, "vendor"); err == nil {
		t.Fatal("removing a missing key succeeded")
	}
	if got, _ := s.TrustedKeys(ctx, k.ID); len(got) != 0 {
		t.Fatal("removed key still trusted")
	}
}
