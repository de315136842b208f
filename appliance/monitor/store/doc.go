// Package store embeds Prometheus's TSDB for Outpost monitoring and makes
// its failures local: the database is opened in the background and reopened
// after failures (queries answer "unavailable" meanwhile), a corrupted WAL is
// repaired on open by the TSDB with the loss counted in
// prometheus_tsdb_wal_corruptions_total, and ingestion pauses before the
// disk is full and resumes by itself when space returns, so the TSDB never
// hits a write error it would panic on.
package store
