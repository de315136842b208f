package storage

import (
	"errors"
	"fmt"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
)

// volumeAction is what the provisioner does with a volume.
type volumeAction int

const (
	// keepVolume: not this provisioner's volume on this node, still in use,
	// or released under a Retain policy.
	keepVolume volumeAction = iota
	// refuseVolume: a released volume to delete whose directory is not one
	// this provisioner made. The provisioner warns on the volume and leaves
	// both directory and volume for an administrator.
	refuseVolume
	// deleteVolume: remove the directory, then the volume.
	deleteVolume
)

func (a volumeAction) String() string {
	switch a {
	case keepVolume:
		return "keep"
	case refuseVolume:
		return "refuse"
	case deleteVolume:
		return "delete"
	}
	return fmt.Sprintf("volumeAction(%d)", int(a))
}

// judgeVolume decides what to do with pv. For refuseVolume, the returned
// message says why, for the volume's events.
func judgeVolume(pv *corev1.PersistentVolume, cfg Config) (volumeAction, string) {
	if pv.Annotations[provisionedByAnnotation] != cfg.Provisioner {
		return keepVolume, ""
	}
	if pv.Status.Phase != corev1.VolumeReleased || pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete {
		return keepVolume, ""
	}
	if volumeNode(pv) != cfg.NodeName {
		return keepVolume, ""
	}
	if err := checkVolumePath(cfg.Dir, pv); err != nil {
		return refuseVolume, fmt.Sprintf("not deleting volume: %v", err)
	}
	return deleteVolume, ""
}

// volumeNode is the node a local-path volume is pinned to, "" if its node
// affinity is not the single hostname term volumeFor writes.
func volumeNode(pv *corev1.PersistentVolume) string {
	if pv.Spec.NodeAffinity == nil || pv.Spec.NodeAffinity.Required == nil {
		return ""
	}
	terms := pv.Spec.NodeAffinity.Required.NodeSelectorTerms
	if len(terms) != 1 || len(terms[0].MatchExpressions) != 1 || len(terms[0].MatchFields) != 0 {
		return ""
	}
	req := terms[0].MatchExpressions[0]
	if req.Key != hostnameLabel || req.Operator != corev1.NodeSelectorOpIn || len(req.Values) != 1 {
		return ""
	}
	return req.Values[0]
}

// checkVolumePath returns an error unless pv's host path is exactly the
// directory volumeFor gave its claim under dir. A volume edited, or created
// by hand, to point elsewhere (/, the data dir, another claim's directory,
// a path with "..") must not make the provisioner delete that path.
func checkVolumePath(dir string, pv *corev1.PersistentVolume) error {
	if pv.Spec.HostPath == nil {
		return errors.New("volume has no hostPath")
	}
	ref := pv.Spec.ClaimRef
	if ref == nil || ref.Namespace == "" || ref.Name == "" || ref.UID == "" {
		return errors.New("volume has no complete claimRef to derive its directory from")
	}
	path := pv.Spec.HostPath.Path
	want := volumeDir(filepath.Clean(dir), ref.Namespace, ref.Name, ref.UID)
	if filepath.Dir(want) != filepath.Clean(dir) {
		return fmt.Errorf("claim %s/%s gives directory %q outside %q", ref.Namespace, ref.Name, want, dir)
	}
	if path != want {
		return fmt.Errorf("host path %q is not the directory %q made for claim %s/%s", path, want, ref.Namespace, ref.Name)
	}
	return nil
}
