// Command outpost-stub is the small front of the shipped outpost binary: it
// unpacks the real program carried after it and execs it (see
// appliance/selfextract).
package main

import "github.com/outpost-platform/outpost/appliance/selfextract"

func main() { selfextract.Main() }
