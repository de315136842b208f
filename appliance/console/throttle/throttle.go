package throttle

import (
	"sync"
	"time"
)

// Config sets the limits. Zero fields take the defaults noted.
type Config struct {
	// FreeFailures per (client, account) before backoff starts; default 3.
	FreeFailures int
	// BaseDelay is the first backoff, doubled per further failure; default 1s.
	BaseDelay time.Duration
	// MaxDelay caps the backoff; default 5m.
	MaxDelay time.Duration
	// IPFailures is how many failures one IP may make (over all accounts,
	// unknown devices only) within Window; default 30.
	IPFailures int
	// AccountFailures is how many unknown-device failures one account may
	// take within Window before unknown devices are refused; default 20.
	AccountFailures int
	// Window is the counting window for IP and account limits; default 15m.
	Window time.Duration
	// Now returns the current time; default time.Now.
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	if c.FreeFailures <= 0 {
		c.FreeFailures = 3
	}
	if c.BaseDelay <= 0 {
		c.BaseDelay = time.Second
	}
	if c.MaxDelay <= 0 {
		c.MaxDelay = 5 * time.Minute
	}
	if c.IPFailures <= 0 {
		c.IPFailures = 30
	}
	if c.AccountFailures <= 0 {
		c.AccountFailures = 20
	}
	if c.Window <= 0 {
		c.Window = 15 * time.Minute
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Attempt identifies a login attempt.
type Attempt struct {
	IP      string
	Account string
	// Device is the caller's device id if it is known to have logged in to
	// Account before, else "".
	Device string
}

// Reason says which limit refused an attempt.
type Reason string

const (
	ReasonNone    Reason = ""
	ReasonBackoff Reason = "backoff" // too many failures from this client for this account
	ReasonIP      Reason = "ip"      // too many failures from this IP
	ReasonAccount Reason = "account" // account under attack; unknown devices refused
)

type backoff struct {
	failures int
	until    time.Time
	last     time.Time
}

type window struct {
	start time.Time
	count int
}

// Limiter tracks failures in memory. A restart forgets them, which errs on
// the side of letting users in.
type Limiter struct {
	cfg Config

	mu       sync.Mutex
	pairs    map[string]*backoff
	ips      map[string]*window
	accounts map[string]*window
	calls    int
}

// New returns a Limiter.
func New(cfg Config) *Limiter {
	return &Limiter{cfg: cfg.withDefaults(), pairs: map[string]*backoff{}, ips: map[string]*window{}, accounts: map[string]*window{}}
}

func (a Attempt) pairKey() string {
	// A known device is its own client: people behind the same NAT as an
	// attacker keep their own backoff.
	if a.Device != "" {
		return "d\x00" + a.Device + "\x00" + a.Account
	}
	return "i\x00" + a.IP + "\x00" + a.Account
}

func (l *Limiter) count(m map[string]*window, key string, now time.Time) int {
	w := m[key]
	if w == nil || now.Sub(w.start) >= l.cfg.Window {
		return 0
	}
	return w.count
}

func (l *Limiter) bump(m map[string]*window, key string, now time.Time) {
	w := m[key]
	if w == nil || now.Sub(w.start) >= l.cfg.Window {
		w = &window{start: now}
		m[key] = w
	}
	w.count++
}

// Check reports whether the attempt may proceed; if not, how long to wait
// and which limit applies.
func (l *Limiter) Check(a Attempt) (wait time.Duration, reason Reason) {
	now := l.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.pairs[a.pairKey()]; b != nil && now.Before(b.until) {
		return b.until.Sub(now), ReasonBackoff
	}
	if a.Device != "" {
		return 0, ReasonNone
	}
	if l.count(l.ips, a.IP, now) >= l.cfg.IPFailures {
		return l.cfg.Window - now.Sub(l.ips[a.IP].start), ReasonIP
	}
	if l.count(l.accounts, a.Account, now) >= l.cfg.AccountFailures {
		return l.cfg.Window - now.Sub(l.accounts[a.Account].start), ReasonAccount
	}
	return 0, ReasonNone
}

// Failure records a failed attempt.
func (l *Limiter) Failure(a Attempt) {
	now := l.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	key := a.pairKey()
	b := l.pairs[key]
	if b == nil {
		b = &backoff{}
		l.pairs[key] = b
	}
	b.failures++
	b.last = now
	if extra := b.failures - l.cfg.FreeFailures; extra > 0 {
		d := l.cfg.BaseDelay
		for i := 1; i < extra && d < l.cfg.MaxDelay; i++ {
			d *= 2
		}
		b.until = now.Add(min(d, l.cfg.MaxDelay))
	}
	if a.Device == "" {
		l.bump(l.ips, a.IP, now)
		l.bump(l.accounts, a.Account, now)
	}
}

// Success clears the backoff of the attempt's client for that account.
func (l *Limiter) Success(a Attempt) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.pairs, a.pairKey())
}

// sweep drops stale entries now and then so memory stays bounded under a
// spray of random accounts and addresses.
func (l *Limiter) sweep(now time.Time) {
	l.calls++
	if l.calls%256 != 0 {
		return
	}
	for k, b := range l.pairs {
		if now.After(b.until) && now.Sub(b.last) >= l.cfg.Window+l.cfg.MaxDelay {
			delete(l.pairs, k)
		}
	}
	for _, m := range []map[string]*window{l.ips, l.accounts} {
		for k, w := range m {
			if now.Sub(w.start) >= l.cfg.Window {
				delete(m, k)
			}
		}
	}
}
