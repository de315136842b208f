// Package fsutil holds the file-system helpers several domains share, such
// as writing a file so that a crash never leaves it half-written.
package fsutil
