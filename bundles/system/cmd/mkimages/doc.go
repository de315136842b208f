// Command mkimages builds the system images listed in a spec file
// (images.yaml) from binaries already built into a directory, and writes
// them as one reproducible OCI image-layout tar archive.
//
//	mkimages -spec images.yaml -bin-dir _output/images/bin -out system-images.tar
//
// The archive is first written next to -out and renamed into place, so an
// interrupted run never leaves a truncated archive behind for make to treat
// as up to date.
package main
