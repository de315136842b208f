package throttle

import (
	"fmt"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newLimiter() (*Limiter, *clock) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	return New(Config{FreeFailures: 3, BaseDelay: time.Second, MaxDelay: time.Minute, IPFailures: 10,
		AccountFailures: 5, Window: 10 * time.Minute, Now: c.now}), c
}

func TestBackoffAfterFreeFailuresDoublesAndResets(t *testing.T) {
	l, c := newLimiter()
	a := Attempt{IP: "10.0.0.1", Account: "alice"}
	for i := 0; i < 3; i++ {
		if _, r := l.Check(a); r != ReasonNone {
			t.Fatalf("attempt %d refused: %s", i, r)
		}
		l.Failure(a)
	}
	l.Failure(a) // 4th failure: 1s
	if w, r := l.Check(a); r != ReasonBackoff || w != time.Second {
		t.Fatalf("after 4 failures: wait %v reason %q, want 1s backoff", w, r)
	}
	c.advance(time.Second)
	if _, r := l.Check(a); r != ReasonNone {
		t.Fatalf("after waiting: %q", r)
	}
	l.Failure(a) // 5th: 2s
	if w, _ := l.Check(a); w != 2*time.Second {
		t.Fatalf("5th failure wait = %v, want 2s", w)
	}
	for i := 0; i < 20; i++ {
		l.Failure(a)
	}
	if w, _ := l.Check(a); w != time.Minute {
		t.Fatalf("capped wait = %v, want 1m", w)
	}
	l.Success(a)
	// The IP's failure count stays (a valid login must not reset an
	// attacker's budget), but the pair's backoff is gone.
	if _, r := l.Check(a); r == ReasonBackoff {
		t.Fatalf("backoff survived success")
	}
}

func TestBackoffIsPerClientAndAccount(t *testing.T) {
	l, _ := newLimiter()
	attacker := Attempt{IP: "10.0.0.66", Account: "alice"}
	for i := 0; i < 4; i++ {
		l.Failure(attacker)
	}
	if _, r := l.Check(attacker); r != ReasonBackoff {
		t.Fatalf("attacker not backed off: %q", r)
	}
	if _, r := l.Check(Attempt{IP: "10.0.0.2", Account: "alice"}); r != ReasonNone {
		t.Fatalf("other IP for same account refused: %q", r)
	}
	if _, r := l.Check(Attempt{IP: "10.0.0.66", Account: "bob"}); r != ReasonNone {
		t.Fatalf("same IP for another account refused: %q", r)
	}
}

func TestIPLimitAcrossAccounts(t *testing.T) {
	l, c := newLimiter()
	for i := 0; i < 10; i++ {
		l.Failure(Attempt{IP: "10.0.0.66", Account: fmt.Sprintf("user%d", i)})
	}
	if _, r := l.Check(Attempt{IP: "10.0.0.66", Account: "fresh"}); r != ReasonIP {
		t.Fatalf("spraying IP not limited: %q", r)
	}
	if _, r := l.Check(Attempt{IP: "10.0.0.66", Account: "fresh", Device: "dev-1"}); r != ReasonNone {
		t.Fatalf("known device behind the spraying IP refused: %q", r)
	}
	c.advance(10 * time.Minute)
	if _, r := l.Check(Attempt{IP: "10.0.0.66", Account: "fresh"}); r != ReasonNone {
		t.Fatalf("IP limit did not expire: %q", r)
	}
}

func TestAccountUnderAttackStillAdmitsKnownDevice(t *testing.T) {
	l, _ := newLimiter()
	// Distributed guessing: many IPs, few tries each, one account.
	for i := 0; i < 5; i++ {
		l.Failure(Attempt{IP: fmt.Sprintf("192.0.2.%d", i), Account: "alice"})
	}
	if _, r := l.Check(Attempt{IP: "198.51.100.9", Account: "alice"}); r != ReasonAccount {
		t.Fatalf("unknown device not refused for attacked account: %q", r)
	}
	// The real user's browser has logged in before: it is let through.
	if _, r := l.Check(Attempt{IP: "192.0.2.1", Account: "alice", Device: "alice-laptop"}); r != ReasonNone {
		t.Fatalf("known device refused: %q", r)
	}
	// And its own typos give it its own backoff only.
	known := Attempt{IP: "192.0.2.1", Account: "alice", Device: "alice-laptop"}
	for i := 0; i < 3; i++ {
		l.Failure(known)
	}
	if _, r := l.Check(known); r != ReasonNone {
		t.Fatalf("known device refused within free failures: %q", r)
	}
	if _, r := l.Check(Attempt{IP: "203.0.113.1", Account: "bob"}); r != ReasonNone {
		t.Fatalf("other account affected: %q", r)
	}
}

func TestKnownDeviceFailuresDoNotCountTowardsAccountLimit(t *testing.T) {
	l, _ := newLimiter()
	known := Attempt{IP: "192.0.2.1", Account: "alice", Device: "d"}
	for i := 0; i < 50; i++ {
		l.Failure(known)
	}
	if _, r := l.Check(Attempt{IP: "192.0.2.2", Account: "alice"}); r != ReasonNone {
		t.Fatalf("account limited by its own known device's typos: %q", r)
	}
}

func TestSweepKeepsActiveEntries(t *testing.T) {
	l, c := newLimiter()
	target := Attempt{IP: "10.0.0.1", Account: "alice"}
	for i := 0; i < 4; i++ {
		l.Failure(target)
	}
	// Enough unrelated failures to trigger several sweeps.
	for i := 0; i < 1000; i++ {
		l.Failure(Attempt{IP: fmt.Sprintf("10.1.%d.%d", i/250, i%250), Account: fmt.Sprintf("u%d", i)})
	}
	if _, r := l.Check(target); r != ReasonBackoff {
		t.Fatalf("sweep dropped an active backoff: %q", r)
	}
	c.advance(time.Hour)
	for i := 0; i < 256; i++ {
		l.Failure(Attempt{IP: "10.2.0.1", Account: fmt.Sprintf("v%d", i)})
	}
	l.mu.Lock()
	n := len(l.pairs)
	l.mu.Unlock()
	if n > 300 {
		t.Fatalf("stale entries not swept: %d pairs", n)
	}
}
