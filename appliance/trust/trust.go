package trust

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/outpost-platform/outpost/appliance/state"
)

// ErrNotFound reports a key the store does not hold.
var ErrNotFound = errors.New("not found")

// Key is a public key the appliance trusts.
type Key struct {
	// ID is the first 16 hex digits of the SHA-256 of the raw public key;
	// signatures name their key by it.
	ID      string            `json:"id"`
	Name    string            `json:"name"`
	Public  ed25519.PublicKey `json:"-"`
	AddedAt time.Time         `json:"addedAt"`
}

// KeyID returns the identifier of pub.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// GenerateKey makes a new signing key pair, returned as PEM: the private key
// in PKCS #8 ("PRIVATE KEY"), the public key in PKIX ("PUBLIC KEY").
func GenerateKey() (privatePEM, publicPEM []byte, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generating signing key: %w", err)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, fmt.Errorf("encoding signing key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, nil, fmt.Errorf("encoding public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}),
		pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), nil
}

// ParsePublicKey reads an ed25519 public key in PKIX PEM.
func ParsePublicKey(data []byte) (ed25519.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, errors.New("not a PEM public key (expected a \"PUBLIC KEY\" block, as written by outpost bundle keygen)")
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parsing public key: %w", err)
	}
	pub, ok := key.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("public key is %T; only ed25519 keys are supported", key)
	}
	return pub, nil
}

// ParsePrivateKey reads an ed25519 private key in PKCS #8 PEM.
func ParsePrivateKey(data []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("not a PEM private key (expected a \"PRIVATE KEY\" block, as written by outpost bundle keygen)")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parsing private key: %w", err)
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("private key is %T; only ed25519 keys are supported", key)
	}
	return priv, nil
}

// KeyRing is a source of trusted keys.
type KeyRing interface {
	// TrustedKeys returns the keys whose ID is id.
	TrustedKeys(ctx context.Context, id string) ([]Key, error)
}

// StaticKeys is a KeyRing of keys given on the command line.
type StaticKeys []Key

// TrustedKeys implements KeyRing.
func (s StaticKeys) TrustedKeys(_ context.Context, id string) ([]Key, error) {
	var out []Key
	for _, k := range s {
		if k.ID == id {
			out = append(out, k)
		}
	}
	return out, nil
}

// NewStaticKey wraps a PEM public key as a Key named name.
func NewStaticKey(name string, publicPEM []byte) (Key, error) {
	pub, err := ParsePublicKey(publicPEM)
	if err != nil {
		return Key{}, err
	}
	return Key{ID: KeyID(pub), Name: name, Public: pub}, nil
}

var migrations = []string{
	`CREATE TABLE trust_keys (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		public_key TEXT NOT NULL,
		added_at TEXT NOT NULL)`,
}

var namePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._@-]{0,63}$`)

// Store is the appliance's set of trusted keys in the state database.
type Store struct {
	db *state.DB
}

// Open opens the trusted keys in db, creating the table if needed.
func Open(ctx context.Context, db *state.DB) (*Store, error) {
	if err := db.Migrate(ctx, "trust", migrations); err != nil {
		return nil, err
	}
	return &Store{db: db}, nil
}

// Add trusts the PEM public key under name.
func (s *Store) Add(ctx context.Context, name string, publicPEM []byte) (Key, error) {
	if !namePattern.MatchString(name) {
		return Key{}, fmt.Errorf("invalid key name %q: use 1 to 64 letters, digits, '.', '_', '@' or '-'", name)
	}
	pub, err := ParsePublicKey(publicPEM)
	if err != nil {
		return Key{}, err
	}
	k := Key{ID: KeyID(pub), Name: name, Public: pub, AddedAt: time.Now().UTC()}
	der, _ := x509.MarshalPKIXPublicKey(pub)
	pemText := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	var existing string
	err = s.db.QueryRowContext(ctx, `SELECT name FROM trust_keys WHERE id=?`, k.ID).Scan(&existing)
	if err == nil {
		return Key{}, fmt.Errorf("key %s is already trusted as %q", k.ID, existing)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return Key{}, fmt.Errorf("adding trusted key: %w", err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO trust_keys(id, name, public_key, added_at) VALUES(?, ?, ?, ?)`,
		k.ID, k.Name, pemText, k.AddedAt.Format(time.RFC3339))
	if err != nil {
		return Key{}, fmt.Errorf("adding trusted key %q: %w (is the name already used?)", name, err)
	}
	return k, nil
}

// Remove stops trusting the key with the given ID or name.
func (s *Store) Remove(ctx context.Context, idOrName string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM trust_keys WHERE id=? OR name=?`, idOrName, idOrName)
	if err != nil {
		return fmt.Errorf("removing trusted key %q: %w", idOrName, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("trusted key %q: %w", idOrName, ErrNotFound)
	}
	return nil
}

// List returns every trusted key, sorted by name.
func (s *Store) List(ctx context.Context) ([]Key, error) {
	return s.query(ctx, `SELECT id, name, public_key, added_at FROM trust_keys ORDER BY name`)
}

// TrustedKeys implements KeyRing.
func (s *Store) TrustedKeys(ctx context.Context, id string) ([]Key, error) {
	return s.query(ctx, `SELECT id, name, public_key, added_at FROM trust_keys WHERE id=?`, id)
}

func (s *Store) query(ctx context.Context, q string, args ...any) ([]Key, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("reading trusted keys: %w", err)
	}
	defer rows.Close()
	var keys []Key
	for rows.Next() {
		var k Key
		var pemText, added string
		if err := rows.Scan(&k.ID, &k.Name, &pemText, &added); err != nil {
			return nil, fmt.Errorf("reading trusted keys: %w", err)
		}
		pub, err := ParsePublicKey([]byte(pemText))
		if err != nil {
			return nil, fmt.Errorf("trusted key %s: %w", k.ID, err)
		}
		k.Public = pub
		k.AddedAt, _ = time.Parse(time.RFC3339, added)
		keys = append(keys, k)
	}
	return keys, rows.Err()
}
