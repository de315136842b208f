package storage

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	k8sstorage "k8s.io/kubernetes/pkg/apis/storage"
	k8sstoragev1 "k8s.io/kubernetes/pkg/apis/storage/v1"
	k8sstoragevalidation "k8s.io/kubernetes/pkg/apis/storage/validation"
)

func TestDefaultClass(t *testing.T) {
	class := defaultClass(testConfig)
	if class.Name != "local-path" || class.Provisioner != "outpost.io/local-path" {
		t.Errorf("class %q with provisioner %q", class.Name, class.Provisioner)
	}
	if got := class.Annotations[isDefaultClassAnnotation]; got != "true" {
		t.Errorf("is-default-class = %q, want true", got)
	}
	if class.VolumeBindingMode == nil || *class.VolumeBindingMode != storagev1.VolumeBindingWaitForFirstConsumer {
		t.Errorf("volumeBindingMode = %v", class.VolumeBindingMode)
	}
	if class.ReclaimPolicy == nil || *class.ReclaimPolicy != corev1.PersistentVolumeReclaimDelete {
		t.Errorf("reclaimPolicy = %v", class.ReclaimPolicy)
	}
	if class.AllowVolumeExpansion == nil || *class.AllowVolumeExpansion {
		t.Errorf("allowVolumeExpansion = %v, want false", class.AllowVolumeExpansion)
	}

	// The apiserver's own validation of a new StorageClass.
	var internal k8sstorage.StorageClass
	if err := k8sstoragev1.Convert_v1_StorageClass_To_storage_StorageClass(class, &internal, nil); err != nil {
		t.Fatalf("converting class: %v", err)
	}
	if errs := k8sstoragevalidation.ValidateStorageClass(&internal); len(errs) > 0 {
		t.Errorf("apiserver would reject the class: %v", errs.ToAggregate())
	}
}

func TestConfigWithDefaults(t *testing.T) {
	got, err := Config{Dir: "/data/storage/", NodeName: "node-a"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Dir: "/data/storage", NodeName: "node-a", ClassName: DefaultClassName, Provisioner: DefaultProvisioner}
	if got != want {
		t.Errorf("withDefaults = %+v, want %+v", got, want)
	}
	for _, bad := range []Config{
		{Dir: "storage", NodeName: "node-a"},
		{Dir: "", NodeName: "node-a"},
		{Dir: "/data/storage"},
	} {
		if _, err := bad.withDefaults(); err == nil {
			t.Errorf("withDefaults accepted %+v", bad)
		}
	}
}

// TestRunRejectsBadConfig covers the only part of Run that needs no
// apiserver; the end-to-end test in appliance/kube covers the rest.
func TestRunRejectsBadConfig(t *testing.T) {
	if err := Run(context.Background(), nil, Config{Dir: "relative", NodeName: "node-a"}, nil); err == nil {
		t.Error("Run accepted a relative dir")
	}
}
