// Package fsutil holds the file-system helpers several domains share:
// writing a file so that a crash never leaves it half-written, reading
// mountinfo, and releasing the resident pages of the program's own file
// once start-up no longer needs them.
package fsutil
