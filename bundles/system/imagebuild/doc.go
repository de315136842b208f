// Package imagebuild assembles single-binary OCI images from a spec file
// (images.yaml) and writes them, reproducibly, as one OCI image-layout tar
// archive that containerd imports with every image already named.
package imagebuild
