// Package throttle slows password guessing at the console login without
// letting an attacker lock a real user out: failures back off per (client,
// account), an IP that fails across many accounts is limited, and an account
// under attack refuses only unknown devices — a browser that has logged in to
// the account before is never blocked by other people's failures.
package throttle
