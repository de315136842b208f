package storage

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// releasedVolume is the volume volumeFor makes for pendingClaim, after its
// claim was deleted.
func releasedVolume() *corev1.PersistentVolume {
	pv := volumeFor(pendingClaim(), defaultClass(testConfig), testConfig)
	pv.Status.Phase = corev1.VolumeReleased
	return pv
}

func TestJudgeVolume(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(*corev1.PersistentVolume)
		want   volumeAction
		reason string
	}{
		{name: "released, delete policy", want: deleteVolume},
		{name: "bound", want: keepVolume, edit: func(pv *corev1.PersistentVolume) {
			pv.Status.Phase = corev1.VolumeBound
		}},
		{name: "available", want: keepVolume, edit: func(pv *corev1.PersistentVolume) {
			pv.Status.Phase = corev1.VolumeAvailable
		}},
		{name: "retain policy", want: keepVolume, edit: func(pv *corev1.PersistentVolume) {
			pv.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimRetain
		}},
		{name: "other provisioner", want: keepVolume, edit: func(pv *corev1.PersistentVolume) {
			pv.Annotations[provisionedByAnnotation] = "rancher.io/local-path"
		}},
		{name: "not provisioned", want: keepVolume, edit: func(pv *corev1.PersistentVolume) {
			pv.Annotations = nil
		}},
		{name: "other node", want: keepVolume, edit: func(pv *corev1.PersistentVolume) {
			pv.Spec.NodeAffinity.Required.NodeSelectorTerms[0].MatchExpressions[0].Values = []string{"node-b"}
		}},
		{name: "no node affinity", want: keepVolume, edit: func(pv *corev1.PersistentVolume) {
			pv.Spec.NodeAffinity = nil
		}},
		{name: "affinity widened to two nodes", want: keepVolume, edit: func(pv *corev1.PersistentVolume) {
			pv.Spec.NodeAffinity.Required.NodeSelectorTerms[0].MatchExpressions[0].Values = []string{"node-a", "node-b"}
		}},
		{name: "path tampered to root", want: refuseVolume, reason: "not the directory", edit: func(pv *corev1.PersistentVolume) {
			pv.Spec.HostPath.Path = "/"
		}},
		{name: "path tampered with ..", want: refuseVolume, reason: "not the directory", edit: func(pv *corev1.PersistentVolume) {
			pv.Spec.HostPath.Path = "/var/lib/outpost/storage/../pki"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pv := releasedVolume()
			if tt.edit != nil {
				tt.edit(pv)
			}
			got, reason := judgeVolume(pv, testConfig)
			if got != tt.want {
				t.Fatalf("judgeVolume = %v (%q), want %v", got, reason, tt.want)
			}
			if !strings.Contains(reason, tt.reason) || (tt.reason == "") != (reason == "") {
				t.Errorf("reason = %q, want it to contain %q", reason, tt.reason)
			}
		})
	}
}

func TestCheckVolumePath(t *testing.T) {
	const dir = "/var/lib/outpost/storage"
	const uid = "0b0e7a52-58c3-4f39-9d1b-6f0c4f6a1e11"
	tests := []struct {
		name    string
		edit    func(*corev1.PersistentVolume)
		dir     string
		wantErr string
	}{
		{name: "as provisioned"},
		{name: "dir given with trailing slash", dir: dir + "/"},
		{name: "the storage dir itself", wantErr: "not the directory", edit: func(pv *corev1.PersistentVolume) {
			pv.Spec.HostPath.Path = dir
		}},
		{name: "the data dir", wantErr: "not the directory", edit: func(pv *corev1.PersistentVolume) {
			pv.Spec.HostPath.Path = "/var/lib/outpost"
		}},
		{name: "dot-dot out of the storage dir", wantErr: "not the directory", edit: func(pv *corev1.PersistentVolume) {
			pv.Spec.HostPath.Path = dir + "/shop_data-db-0_" + uid + "/../../etcd"
		}},
		{name: "unclean spelling of the right dir", wantErr: "not the directory", edit: func(pv *corev1.PersistentVolume) {
			pv.Spec.HostPath.Path = dir + "//shop_data-db-0_" + uid
		}},
		{name: "subdirectory of the right dir", wantErr: "not the directory", edit: func(pv *corev1.PersistentVolume) {
			pv.Spec.HostPath.Path = dir + "/shop_data-db-0_" + uid + "/sub"
		}},
		{name: "relative path", wantErr: "not the directory", edit: func(pv *corev1.PersistentVolume) {
			pv.Spec.HostPath.Path = "shop_data-db-0_" + uid
		}},
		{name: "another claim's directory", wantErr: "not the directory", edit: func(pv *corev1.PersistentVolume) {
			pv.Spec.HostPath.Path = dir + "/shop_other_" + uid
		}},
		{name: "claim ref retargeted", wantErr: "not the directory", edit: func(pv *corev1.PersistentVolume) {
			pv.Spec.ClaimRef.Name = "other"
		}},
		{name: "claim name with dot-dots", wantErr: "outside", edit: func(pv *corev1.PersistentVolume) {
			pv.Spec.ClaimRef.Name = "x/../../../../etc"
			pv.Spec.HostPath.Path = "/var/lib/etc_" + uid
		}},
		{name: "claim name with a slash", wantErr: "outside", edit: func(pv *corev1.PersistentVolume) {
			pv.Spec.ClaimRef.Name = "a/b"
			pv.Spec.HostPath.Path = dir + "/shop_a/b_" + uid
		}},
		{name: "no claim ref", wantErr: "claimRef", edit: func(pv *corev1.PersistentVolume) {
			pv.Spec.ClaimRef = nil
		}},
		{name: "claim ref without uid", wantErr: "claimRef", edit: func(pv *corev1.PersistentVolume) {
			pv.Spec.ClaimRef.UID = ""
		}},
		{name: "not a host path", wantErr: "no hostPath", edit: func(pv *corev1.PersistentVolume) {
			pv.Spec.HostPath = nil
			pv.Spec.Local = &corev1.LocalVolumeSource{Path: dir + "/shop_data-db-0_" + uid}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pv := releasedVolume()
			if tt.edit != nil {
				tt.edit(pv)
			}
			d := dir
			if tt.dir != "" {
				d = tt.dir
			}
			err := checkVolumePath(d, pv)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("checkVolumePath: %v", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("checkVolumePath accepted %q", pv.Spec.HostPath.Path)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("checkVolumePath error %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}
