package storage

import (
	"fmt"
	"path/filepath"
	"slices"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Annotations the PV controller and the scheduler put on a claim to hand it
// to a provisioner, and the one a provisioner puts on its volumes so the PV
// controller leaves their deletion to it.
const (
	storageProvisionerAnnotation     = "volume.kubernetes.io/storage-provisioner"
	betaStorageProvisionerAnnotation = "volume.beta.kubernetes.io/storage-provisioner"
	selectedNodeAnnotation           = "volume.kubernetes.io/selected-node"
	provisionedByAnnotation          = "pv.kubernetes.io/provisioned-by"
	betaStorageClassAnnotation       = "volume.beta.kubernetes.io/storage-class"
	hostnameLabel                    = "kubernetes.io/hostname"
)

// claimAction is what the provisioner does with a claim.
type claimAction int

const (
	// skipClaim: the claim is not for this provisioner on this node, or
	// does not need a volume (yet).
	skipClaim claimAction = iota
	// rejectClaim: the claim is for this provisioner on this node but asks
	// for something a local directory cannot give. The provisioner warns
	// on the claim and waits for it to change.
	rejectClaim
	// provisionClaim: create the directory and the volume.
	provisionClaim
)

func (a claimAction) String() string {
	switch a {
	case skipClaim:
		return "skip"
	case rejectClaim:
		return "reject"
	case provisionClaim:
		return "provision"
	}
	return fmt.Sprintf("claimAction(%d)", int(a))
}

// judgeClaim decides what to do with claim. class is the claim's
// StorageClass, nil if it does not exist. For rejectClaim, the returned
// message says why, for the claim's events.
func judgeClaim(claim *corev1.PersistentVolumeClaim, class *storagev1.StorageClass, cfg Config) (claimAction, string) {
	if claim.DeletionTimestamp != nil || claim.Spec.VolumeName != "" {
		return skipClaim, ""
	}
	if claim.Status.Phase != corev1.ClaimPending && claim.Status.Phase != "" {
		return skipClaim, ""
	}
	if claimProvisioner(claim) != cfg.Provisioner {
		return skipClaim, ""
	}
	switch node := claim.Annotations[selectedNodeAnnotation]; {
	case node == "" && class != nil && !waitsForFirstConsumer(class):
		// The PV controller handed over an Immediate-binding claim, which
		// no scheduler decision will ever place on a node.
		return rejectClaim, fmt.Sprintf("local-path volumes need a storage class with volumeBindingMode %s; class %q has %s",
			storagev1.VolumeBindingWaitForFirstConsumer, class.Name, storagev1.VolumeBindingImmediate)
	case node != cfg.NodeName:
		// Not scheduled yet, or to another node whose provisioner owns it.
		return skipClaim, ""
	}
	if class == nil {
		return rejectClaim, fmt.Sprintf("storage class %q not found", claimClass(claim))
	}
	for _, mode := range claim.Spec.AccessModes {
		if mode != corev1.ReadWriteOnce && mode != corev1.ReadWriteOncePod {
			return rejectClaim, fmt.Sprintf("local-path volumes support ReadWriteOnce only (and ReadWriteOncePod); claim asks for %s", mode)
		}
	}
	if len(claim.Spec.AccessModes) == 0 {
		return rejectClaim, "claim has no access modes; local-path volumes support ReadWriteOnce and ReadWriteOncePod"
	}
	if claim.Spec.VolumeMode != nil && *claim.Spec.VolumeMode != corev1.PersistentVolumeFilesystem {
		return rejectClaim, fmt.Sprintf("local-path volumes support volumeMode %s only; claim asks for %s",
			corev1.PersistentVolumeFilesystem, *claim.Spec.VolumeMode)
	}
	if claim.Spec.Selector != nil {
		return rejectClaim, "local-path volumes are created empty for a claim, so a claim with a selector cannot be provisioned"
	}
	if claim.Spec.DataSource != nil || claim.Spec.DataSourceRef != nil {
		// An empty directory in place of the clone or snapshot the user
		// asked for would look like lost data.
		return rejectClaim, "local-path volumes cannot be populated from a data source"
	}
	if size, ok := claim.Spec.Resources.Requests[corev1.ResourceStorage]; !ok || size.Sign() <= 0 {
		return rejectClaim, "claim requests no storage size"
	}
	return provisionClaim, ""
}

// claimProvisioner is the provisioner the PV controller handed claim to.
func claimProvisioner(claim *corev1.PersistentVolumeClaim) string {
	if p := claim.Annotations[storageProvisionerAnnotation]; p != "" {
		return p
	}
	return claim.Annotations[betaStorageProvisionerAnnotation]
}

// claimClass is the name of claim's StorageClass, "" for none. The beta
// annotation, when present, wins, as it does for the PV controller.
func claimClass(claim *corev1.PersistentVolumeClaim) string {
	if c, ok := claim.Annotations[betaStorageClassAnnotation]; ok {
		return c
	}
	if claim.Spec.StorageClassName != nil {
		return *claim.Spec.StorageClassName
	}
	return ""
}

func waitsForFirstConsumer(class *storagev1.StorageClass) bool {
	return class.VolumeBindingMode != nil && *class.VolumeBindingMode == storagev1.VolumeBindingWaitForFirstConsumer
}

// volumeName is the name of the volume provisioned for claim, the name the
// Kubernetes provisioners use, so a repeated attempt finds the first one.
func volumeName(claim *corev1.PersistentVolumeClaim) string {
	return "pvc-" + string(claim.UID)
}

// volumeDir is the directory under dir that holds the volume of the claim
// namespace/name with the given UID. The UID keeps a re-created claim of the
// same name from getting the old claim's data.
func volumeDir(dir, namespace, name string, uid types.UID) string {
	return filepath.Join(dir, namespace+"_"+name+"_"+string(uid))
}

// volumeFor is the PersistentVolume that satisfies claim, whose directory is
// volumeDir under cfg.Dir. Call it only for claims judged provisionClaim.
func volumeFor(claim *corev1.PersistentVolumeClaim, class *storagev1.StorageClass, cfg Config) *corev1.PersistentVolume {
	reclaim := corev1.PersistentVolumeReclaimDelete
	if class.ReclaimPolicy != nil {
		reclaim = *class.ReclaimPolicy
	}
	filesystem := corev1.PersistentVolumeFilesystem
	directoryOrCreate := corev1.HostPathDirectoryOrCreate
	return &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{
			Name:        volumeName(claim),
			Annotations: map[string]string{provisionedByAnnotation: cfg.Provisioner},
		},
		Spec: corev1.PersistentVolumeSpec{
			Capacity: corev1.ResourceList{
				corev1.ResourceStorage: claim.Spec.Resources.Requests[corev1.ResourceStorage],
			},
			AccessModes: slices.Clone(claim.Spec.AccessModes),
			ClaimRef: &corev1.ObjectReference{
				Kind:       "PersistentVolumeClaim",
				APIVersion: "v1",
				Namespace:  claim.Namespace,
				Name:       claim.Name,
				UID:        claim.UID,
			},
			StorageClassName:              class.Name,
			PersistentVolumeReclaimPolicy: reclaim,
			VolumeMode:                    &filesystem,
			PersistentVolumeSource: corev1.PersistentVolumeSource{
				HostPath: &corev1.HostPathVolumeSource{
					Path: volumeDir(cfg.Dir, claim.Namespace, claim.Name, claim.UID),
					// The kubelet re-creates a directory deleted behind
					// the provisioner's back instead of failing the pod.
					Type: &directoryOrCreate,
				},
			},
			// The kubelet labels its node with its hostname, which, with no
			// cloud provider, is also the node's name.
			NodeAffinity: &corev1.VolumeNodeAffinity{
				Required: &corev1.NodeSelector{
					NodeSelectorTerms: []corev1.NodeSelectorTerm{{
						MatchExpressions: []corev1.NodeSelectorRequirement{{
							Key:      hostnameLabel,
							Operator: corev1.NodeSelectorOpIn,
							Values:   []string{cfg.NodeName},
						}},
					}},
				},
			},
		},
	}
}
