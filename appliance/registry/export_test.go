package registry

// SetAfterMark makes the next garbage collections call f between their mark
// and sweep phases, so tests can act while a collection is in progress.
func SetAfterMark(reg *Registry, f func()) { reg.afterMark = f }
