// Package selfextract makes the shipped outpost binary small: a stub of a
// few MB carries the real program zstd-compressed after its own ELF image
// and, on every run, execs the unpacked copy, unpacking it first when it is
// not there yet (k3s ships the same way).
//
// Layout of a packed file: the stub, the compressed program, then a
// 128-byte trailer: "OUTPOST-PAYLOAD1", the compressed length as 20
// decimal digits, the SHA-256 of the unpacked program in hex, padding. The
// SHA-256 names the unpacked copy, <dir>/<first 16 hex digits>/outpost, so
// two versions never collide and an upgrade unpacks beside the old one.
//
// <dir> is $OUTPOST_BIN_DIR, else /var/cache/outpost for root and
// $XDG_CACHE_HOME/outpost (~/.cache/outpost) for others: a cache, rebuilt
// from the stub whenever it is missing. Unpacking writes to a temporary
// file, checks the SHA-256 and renames, under a lock, so an interrupted or
// concurrent first run never leaves a partial program behind.
//
// This package must stay small: the stub links only it, the standard
// library and the zstd decoder.
package selfextract
