// Package node runs what makes this machine a Kubernetes node besides the
// kubelet: the embedded host binaries (runc, the containerd shim, CNI
// plugins), extracted into a content-addressed directory; containerd as a
// supervised child process of outpost; the CNI network configuration; and
// the import of the embedded system images into containerd.
package node
