package registry

import "unsafe"

// SetAfterMark makes the next garbage collections call f between their mark
// and sweep phases, so tests can act while a collection is in progress.
func SetAfterMark(reg *Registry, f func()) { reg.afterMark = f }

func uintptrOf(b []byte) uintptr { return uintptr(unsafe.Pointer(&b[0])) }
