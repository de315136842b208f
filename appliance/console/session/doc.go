// Package session keeps server-side console sessions: a random id handed to
// the browser in an HttpOnly cookie (only its hash is stored), a CSRF token
// per session, and idle and absolute timeouts enforced at every lookup.
package session
