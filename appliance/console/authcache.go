package console

import (
	"crypto/sha256"
	"sync"
	"time"
)

// authCache remembers, for a moment, who a session or token belongs to and
// what they may do, so that a burst of page requests costs one database
// round trip instead of three each. Every write through the console (all
// pass the audit middleware) empties it, so logouts, role and user changes
// made here apply to the next request; changes made by another process
// (outpost console admin-password) apply within authCacheTTL.
type authCache struct {
	mu      sync.Mutex
	entries map[[32]byte]authEntry
	now     func() time.Time
}

type authEntry struct {
	p       principal
	expires time.Time
}

const (
	authCacheTTL = 2 * time.Second
	// authCacheMax bounds memory; the cache is simply emptied when full.
	authCacheMax = 10000
)

func newAuthCache(now func() time.Time) *authCache {
	return &authCache{entries: map[[32]byte]authEntry{}, now: now}
}

func authKey(kind, secret string) [32]byte { return sha256.Sum256([]byte(kind + "\x00" + secret)) }

func (a *authCache) get(key [32]byte) (principal, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e, ok := a.entries[key]
	if !ok || !a.now().Before(e.expires) {
		return principal{}, false
	}
	return e.p, true
}

func (a *authCache) put(key [32]byte, p principal) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.entries) >= authCacheMax {
		a.entries = map[[32]byte]authEntry{}
	}
	a.entries[key] = authEntry{p: p, expires: a.now().Add(authCacheTTL)}
}

// clear forgets everything; called after every write.
func (a *authCache) clear() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.entries) > 0 {
		a.entries = map[[32]byte]authEntry{}
	}
}
