package storage

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8score "k8s.io/kubernetes/pkg/apis/core"
	k8scorev1 "k8s.io/kubernetes/pkg/apis/core/v1"
	k8svalidation "k8s.io/kubernetes/pkg/apis/core/validation"
)

var testConfig = Config{
	Dir:         "/var/lib/outpost/storage",
	NodeName:    "node-a",
	ClassName:   DefaultClassName,
	Provisioner: DefaultProvisioner,
}

// pendingClaim is a claim as the PV controller and scheduler leave it for
// this provisioner on node-a: pending, annotated, 1Gi, ReadWriteOnce.
func pendingClaim() *corev1.PersistentVolumeClaim {
	class := DefaultClassName
	return &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "shop",
			Name:      "data-db-0",
			UID:       "0b0e7a52-58c3-4f39-9d1b-6f0c4f6a1e11",
			Annotations: map[string]string{
				storageProvisionerAnnotation:     DefaultProvisioner,
				betaStorageProvisionerAnnotation: DefaultProvisioner,
				selectedNodeAnnotation:           "node-a",
			},
		},
		Spec: corev1.PersistentVolumeClaimSpec{
			StorageClassName: &class,
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			},
		},
		Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending},
	}
}

func TestJudgeClaim(t *testing.T) {
	immediate := defaultClass(testConfig)
	binding := storagev1.VolumeBindingImmediate
	immediate.VolumeBindingMode = &binding
	block := corev1.PersistentVolumeBlock
	filesystem := corev1.PersistentVolumeFilesystem

	tests := []struct {
		name    string
		edit    func(*corev1.PersistentVolumeClaim)
		class   *storagev1.StorageClass // nil: the default class
		noClass bool
		want    claimAction
		reason  string // substring of the rejection message
	}{
		{name: "ready", want: provisionClaim},
		{name: "beta provisioner annotation only", want: provisionClaim, edit: func(c *corev1.PersistentVolumeClaim) {
			delete(c.Annotations, storageProvisionerAnnotation)
		}},
		{name: "empty phase counts as pending", want: provisionClaim, edit: func(c *corev1.PersistentVolumeClaim) {
			c.Status.Phase = ""
		}},
		{name: "read-write-once-pod", want: provisionClaim, edit: func(c *corev1.PersistentVolumeClaim) {
			c.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOncePod}
		}},
		{name: "explicit filesystem mode", want: provisionClaim, edit: func(c *corev1.PersistentVolumeClaim) {
			c.Spec.VolumeMode = &filesystem
		}},
		{name: "bound", want: skipClaim, edit: func(c *corev1.PersistentVolumeClaim) {
			c.Status.Phase = corev1.ClaimBound
			c.Spec.VolumeName = "pvc-x"
		}},
		{name: "volume name set while pending", want: skipClaim, edit: func(c *corev1.PersistentVolumeClaim) {
			c.Spec.VolumeName = "pvc-x"
		}},
		{name: "lost", want: skipClaim, edit: func(c *corev1.PersistentVolumeClaim) {
			c.Status.Phase = corev1.ClaimLost
		}},
		{name: "being deleted", want: skipClaim, edit: func(c *corev1.PersistentVolumeClaim) {
			now := metav1.Now()
			c.DeletionTimestamp = &now
		}},
		{name: "other provisioner", want: skipClaim, edit: func(c *corev1.PersistentVolumeClaim) {
			c.Annotations[storageProvisionerAnnotation] = "rancher.io/local-path"
			c.Annotations[betaStorageProvisionerAnnotation] = "rancher.io/local-path"
		}},
		{name: "no provisioner yet", want: skipClaim, edit: func(c *corev1.PersistentVolumeClaim) {
			delete(c.Annotations, storageProvisionerAnnotation)
			delete(c.Annotations, betaStorageProvisionerAnnotation)
		}},
		{name: "not scheduled yet", want: skipClaim, edit: func(c *corev1.PersistentVolumeClaim) {
			delete(c.Annotations, selectedNodeAnnotation)
		}},
		{name: "scheduled to another node", want: skipClaim, edit: func(c *corev1.PersistentVolumeClaim) {
			c.Annotations[selectedNodeAnnotation] = "node-b"
		}},
		{name: "immediate class, no node", want: rejectClaim, class: immediate, reason: "WaitForFirstConsumer", edit: func(c *corev1.PersistentVolumeClaim) {
			delete(c.Annotations, selectedNodeAnnotation)
		}},
		{name: "class deleted", want: rejectClaim, noClass: true, reason: `storage class "local-path" not found`},
		{name: "class gone and not scheduled", want: skipClaim, noClass: true, edit: func(c *corev1.PersistentVolumeClaim) {
			delete(c.Annotations, selectedNodeAnnotation)
		}},
		{name: "read-write-many", want: rejectClaim, reason: "local-path volumes support ReadWriteOnce only", edit: func(c *corev1.PersistentVolumeClaim) {
			c.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce, corev1.ReadWriteMany}
		}},
		{name: "read-only-many", want: rejectClaim, reason: "ReadOnlyMany", edit: func(c *corev1.PersistentVolumeClaim) {
			c.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadOnlyMany}
		}},
		{name: "no access modes", want: rejectClaim, reason: "no access modes", edit: func(c *corev1.PersistentVolumeClaim) {
			c.Spec.AccessModes = nil
		}},
		{name: "block", want: rejectClaim, reason: "volumeMode Filesystem only", edit: func(c *corev1.PersistentVolumeClaim) {
			c.Spec.VolumeMode = &block
		}},
		{name: "selector", want: rejectClaim, reason: "selector", edit: func(c *corev1.PersistentVolumeClaim) {
			c.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"disk": "ssd"}}
		}},
		{name: "clone", want: rejectClaim, reason: "data source", edit: func(c *corev1.PersistentVolumeClaim) {
			c.Spec.DataSource = &corev1.TypedLocalObjectReference{Kind: "PersistentVolumeClaim", Name: "other"}
		}},
		{name: "no size", want: rejectClaim, reason: "no storage size", edit: func(c *corev1.PersistentVolumeClaim) {
			c.Spec.Resources.Requests = nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claim := pendingClaim()
			if tt.edit != nil {
				tt.edit(claim)
			}
			class := tt.class
			if class == nil && !tt.noClass {
				class = defaultClass(testConfig)
			}
			got, reason := judgeClaim(claim, class, testConfig)
			if got != tt.want {
				t.Fatalf("judgeClaim = %v (%q), want %v", got, reason, tt.want)
			}
			if !strings.Contains(reason, tt.reason) || (tt.reason == "") != (reason == "") {
				t.Errorf("reason = %q, want it to contain %q", reason, tt.reason)
			}
		})
	}
}

func TestClaimClass(t *testing.T) {
	named := "fast"
	tests := []struct {
		name  string
		claim *corev1.PersistentVolumeClaim
		want  string
	}{
		{"none", &corev1.PersistentVolumeClaim{}, ""},
		{"spec", &corev1.PersistentVolumeClaim{Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: &named}}, "fast"},
		{"beta annotation wins", &corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{betaStorageClassAnnotation: "slow"}},
			Spec:       corev1.PersistentVolumeClaimSpec{StorageClassName: &named},
		}, "slow"},
	}
	for _, tt := range tests {
		if got := claimClass(tt.claim); got != tt.want {
			t.Errorf("%s: claimClass = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestVolumeFor(t *testing.T) {
	retain := corev1.PersistentVolumeReclaimRetain
	retainClass := defaultClass(testConfig)
	retainClass.Name = "local-path-retain"
	retainClass.ReclaimPolicy = &retain
	noPolicyClass := defaultClass(testConfig)
	noPolicyClass.ReclaimPolicy = nil

	tests := []struct {
		name        string
		class       *storagev1.StorageClass
		accessModes []corev1.PersistentVolumeAccessMode
		wantReclaim corev1.PersistentVolumeReclaimPolicy
	}{
		{"default class", defaultClass(testConfig), []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, corev1.PersistentVolumeReclaimDelete},
		{"retain class", retainClass, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOncePod}, corev1.PersistentVolumeReclaimRetain},
		{"class without policy", noPolicyClass, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, corev1.PersistentVolumeReclaimDelete},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claim := pendingClaim()
			claim.Spec.AccessModes = tt.accessModes
			pv := volumeFor(claim, tt.class, testConfig)

			if want := "pvc-" + string(claim.UID); pv.Name != want {
				t.Errorf("name = %q, want %q", pv.Name, want)
			}
			if got := pv.Annotations[provisionedByAnnotation]; got != DefaultProvisioner {
				t.Errorf("provisioned-by = %q", got)
			}
			if got := pv.Spec.Capacity[corev1.ResourceStorage]; got.Cmp(resource.MustParse("1Gi")) != 0 {
				t.Errorf("capacity = %s, want 1Gi", got.String())
			}
			if len(pv.Spec.AccessModes) != 1 || pv.Spec.AccessModes[0] != tt.accessModes[0] {
				t.Errorf("access modes = %v, want %v", pv.Spec.AccessModes, tt.accessModes)
			}
			ref := pv.Spec.ClaimRef
			if ref == nil || ref.Kind != "PersistentVolumeClaim" || ref.Namespace != "shop" || ref.Name != "data-db-0" || ref.UID != claim.UID {
				t.Errorf("claimRef = %+v", ref)
			}
			if pv.Spec.StorageClassName != tt.class.Name {
				t.Errorf("storage class = %q, want %q", pv.Spec.StorageClassName, tt.class.Name)
			}
			if pv.Spec.PersistentVolumeReclaimPolicy != tt.wantReclaim {
				t.Errorf("reclaim policy = %q, want %q", pv.Spec.PersistentVolumeReclaimPolicy, tt.wantReclaim)
			}
			if pv.Spec.VolumeMode == nil || *pv.Spec.VolumeMode != corev1.PersistentVolumeFilesystem {
				t.Errorf("volume mode = %v", pv.Spec.VolumeMode)
			}
			hp := pv.Spec.HostPath
			wantPath := "/var/lib/outpost/storage/shop_data-db-0_" + string(claim.UID)
			if hp == nil || hp.Path != wantPath || hp.Type == nil || *hp.Type != corev1.HostPathDirectoryOrCreate {
				t.Errorf("hostPath = %+v, want %s DirectoryOrCreate", hp, wantPath)
			}
			if got := volumeNode(pv); got != "node-a" {
				t.Errorf("node affinity names %q, want node-a", got)
			}
			assertValidVolume(t, pv)
		})
	}
}

// TestVolumeForCopiesAccessModes guards the informer cache: the claim passed
// in is the cache's object and must not share a slice with the new volume.
func TestVolumeForCopiesAccessModes(t *testing.T) {
	claim := pendingClaim()
	pv := volumeFor(claim, defaultClass(testConfig), testConfig)
	pv.Spec.AccessModes[0] = corev1.ReadWriteMany
	if claim.Spec.AccessModes[0] != corev1.ReadWriteOnce {
		t.Fatal("changing the volume's access modes changed the claim's")
	}
}

// assertValidVolume runs the apiserver's own validation of a new
// PersistentVolume, so a volume the apiserver would reject fails here
// rather than in the end-to-end test.
func assertValidVolume(t *testing.T, pv *corev1.PersistentVolume) {
	t.Helper()
	var internal k8score.PersistentVolume
	if err := k8scorev1.Convert_v1_PersistentVolume_To_core_PersistentVolume(pv, &internal, nil); err != nil {
		t.Fatalf("converting volume: %v", err)
	}
	opts := k8svalidation.ValidationOptionsForPersistentVolume(&internal, nil)
	if errs := k8svalidation.ValidatePersistentVolume(&internal, opts); len(errs) > 0 {
		t.Errorf("apiserver would reject the volume: %v", errs.ToAggregate())
	}
}
