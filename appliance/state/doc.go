// Package state owns Outpost's SQLite database (<data-dir>/state/outpost.db):
// opening it safely (WAL, busy timeout, one writer) and applying each
// domain's schema migrations. Domains own their tables; this package only
// records which migrations ran.
package state
